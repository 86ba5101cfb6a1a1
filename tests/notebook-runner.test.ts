// The notebook runner (scripts/notebooks.mjs → run_notebooks.py) on tiny notebooks written here to a
// temp folder: real execution counts, signed (trusted) output, exports that need nothing outside the
// machine, per-cell timeouts a notebook can raise, errors no cell awaited, and Ctrl-C.
import { spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs helper of the scripts, without types
import { jupyterEnv, jupyterPython } from "../scripts/jupyter-python.mjs";

const root = resolve(".");
const python: string | null = jupyterPython();
const work = mkdtempSync(join(tmpdir(), "course-runner-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Cell {
  source: string;
  metadata?: Record<string, unknown>;
}

function writeNotebook(name: string, cells: Cell[], metadata: Record<string, unknown> = {}): string {
  const path = join(work, `${name}.ipynb`);
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    // A fresh nonce: the notary trusts by content, and an earlier run signed the same cells.
    metadata: { kernelspec: { name: "gpt-from-scratch", display_name: "TypeScript (gpt-from-scratch)", language: "typescript" }, nonce: randomUUID(), ...metadata },
    cells: cells.map((cell, i) => ({ cell_type: "code", id: `c${i}`, metadata: cell.metadata ?? {}, execution_count: null, outputs: [], source: cell.source })),
  };
  writeFileSync(path, JSON.stringify(notebook));
  return path;
}

function runNotebooks(args: string[]): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, ["scripts/notebooks.mjs", ...args, "--out", join(work, "out")], {
    cwd: root,
    encoding: "utf8",
    timeout: 100_000,
  });
  return { status: result.status, output: result.stdout + result.stderr };
}

const executed = (name: string) => JSON.parse(readFileSync(join(work, "out", work.split("/").pop()!, `${name}.ipynb`), "utf8"));
const exported = (name: string) => readFileSync(join(work, "out", work.split("/").pop()!, `${name}.html`), "utf8");

describe.skipIf(!python)("notebook runner", () => {
  it("records the kernel's execution counts, signs the notebook, and exports HTML that needs no network", () => {
    const path = writeNotebook("plot", [
      { source: 'console.log("one")' },
      { source: 'import { showPlot, lineChart } from "./lib/display/index";\nshowPlot(lineChart([0, 1, 2], [{ name: "loss", ys: [3, 2, 1] }]));' },
      { source: 'import { writeSync } from "node:fs";\nwriteSync(2, "native noise on fd 2\\n"); // as Dawn writes its adapter warnings\nconst three = 1 + 2;\nconsole.log(three)' },
    ]);
    const run = runNotebooks([path, "--profile", "ci"]);
    expect(run.output).toContain("notebooks: 1 passed, 0 failed");
    expect(run.status).toBe(0);
    expect(run.output).not.toContain("native noise"); // the kernel process's own stderr stays off the terminal

    const nb = executed("plot");
    expect(nb.cells.map((c: { execution_count: number | null }) => c.execution_count)).toEqual([1, 2, 3]);
    const html = exported("plot");
    expect(html.match(/In&nbsp;\[(\d+)\]/g)).toEqual(["In&nbsp;[1]", "In&nbsp;[2]", "In&nbsp;[3]"]);
    // Nothing from /usr/share/javascript (Debian's require.js and MathJax), no CDN: one relative plotly.js.
    expect(html).not.toContain("/usr/share/javascript");
    expect([...html.matchAll(/<script[^>]*\ssrc="([^"]*)"/g)].map((m) => m[1])).toEqual(["../plotly.js"]);
    expect(readFileSync(join(work, "out", "plotly.js"), "utf8").slice(0, 100)).toContain("plotly.js v3.7.0");
    expect(html.match(/class="course-static-plot"/g)).toHaveLength(1);

    // Trusted in the same Jupyter data dir as the server `npm start` runs (jupyterEnv).
    const check = spawnSync(python!, ["-c", "import sys, nbformat; from nbformat.sign import NotebookNotary as N; print(N().check_signature(nbformat.read(sys.argv[1], 4)))", join(work, "out", work.split("/").pop()!, "plot.ipynb")], { env: jupyterEnv(root), encoding: "utf8" });
    expect(check.stdout.trim()).toBe("True");
    // ...and the check can fail: an unsigned notebook is not trusted.
    const unsigned = spawnSync(python!, ["-c", "import sys, nbformat; from nbformat.sign import NotebookNotary as N; print(N().check_signature(nbformat.read(sys.argv[1], 4)))", path], { env: jupyterEnv(root), encoding: "utf8" });
    expect(unsigned.stdout.trim()).toBe("False");
    // What a learner runs for a notebook received from elsewhere (README, npm start's hint).
    const trust = spawnSync(python!, ["-m", "nbformat.sign", path], { env: jupyterEnv(root), encoding: "utf8" });
    expect(trust.status).toBe(0);
    const after = spawnSync(python!, ["-c", "import sys, nbformat; from nbformat.sign import NotebookNotary as N; print(N().check_signature(nbformat.read(sys.argv[1], 4)))", path], { env: jupyterEnv(root), encoding: "utf8" });
    expect(after.stdout.trim()).toBe("True");
  });

  it("fails the notebook on an error thrown in a setTimeout callback, naming the cell", () => {
    const path = writeNotebook("timer", [
      { source: 'console.log("fine")' },
      { source: 'setTimeout(() => { throw new Error("boom in a timer"); }, 10);\nconsole.log("scheduled")' },
      { source: "await new Promise((done) => setTimeout(done, 200));" },
    ]);
    const run = runNotebooks([path, "--profile", "ci"]);
    expect(run.status).toBe(1);
    expect(run.output).toMatch(/error no cell awaited, raised during or just after cell #[12]/);
    expect(run.output).toContain("uncaught exception: Error: boom in a timer");
    expect(run.output).toContain("notebooks: 0 passed, 1 failed");
  });

  it("fails the notebook on an unhandled promise rejection, even in its last cell", () => {
    const path = writeNotebook("rejection", [
      { source: 'import { writeSync } from "node:fs";\nwriteSync(2, "kernel said this on fd 2\\n");\nPromise.reject(new Error("nobody awaits this"));' },
    ]);
    const run = runNotebooks([path, "--profile", "ci"]);
    expect(run.status).toBe(1);
    expect(run.output).toContain("unhandled promise rejection: Error: nobody awaits this");
    // A failing notebook's report ends with what the kernel process wrote to its stderr.
    expect(run.output).toMatch(/--- kernel process stderr \(last lines\) ---\n(.*\n)*kernel said this on fd 2/);
  });

  it("times a cell out at the default, unless the cell's metadata raises its limit", () => {
    const sleep = (ms: number) => `await new Promise((done) => setTimeout(done, ${ms}));\nconsole.log("slept ${ms}")`;
    const path = writeNotebook("slow", [
      { source: sleep(2500), metadata: { course: { timeout: { ci: 30 } } } },
      { source: sleep(2500) },
    ]);
    const run = runNotebooks([path, "--profile", "ci", "--timeout", "1"]);
    expect(run.status).toBe(1);
    expect(run.output).toContain("timeout");
    expect(run.output).toContain("--- failing cell #1 ---");
    expect(run.output).toContain("(cell timed out after 1 s)");
    expect([executed("slow").cells[0].outputs[0].text].flat().join("")).toBe("slept 2500\n");
  });

  it("a notebook's metadata sets the timeout of all its cells", () => {
    const path = writeNotebook("slow-notebook", [{ source: "await new Promise((done) => setTimeout(done, 2500));" }], { course: { timeout: 30 } });
    const run = runNotebooks([path, "--profile", "ci", "--timeout", "1"]);
    expect(run.output).toContain("notebooks: 1 passed, 0 failed");
    expect(run.status).toBe(0);
  });

  it("Ctrl-C stops the kernel and exits 130, without a Python traceback", async () => {
    const marker = join(work, "kernel.pid");
    const path = writeNotebook("forever", [
      { source: `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, String(process.pid));\nawait new Promise(() => {});` },
    ]);
    const child = spawn(process.execPath, ["scripts/notebooks.mjs", path, "--profile", "ci", "--out", join(work, "out")], {
      cwd: root,
      detached: true, // its own process group, as a terminal gives `npm run notebooks`
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
    for (let i = 0; i < 600 && !existsSync(marker); i++) await new Promise((done) => setTimeout(done, 100));
    expect(existsSync(marker)).toBe(true);
    const kernelPid = Number(readFileSync(marker, "utf8"));
    process.kill(-child.pid!, "SIGINT"); // the whole group, as Ctrl-C does
    expect(await exited).toBe(130);
    expect(output).toContain("interrupted (Ctrl-C)");
    expect(output).not.toContain("Traceback");
    expect(() => process.kill(kernelPid, 0)).toThrow(); // the kernel is gone
  });
});
