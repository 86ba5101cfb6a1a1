// The live Notebook (Debian's classic Notebook 6, as `npm start` runs it: the repository root, the
// course kernel), driven in headless Chromium with every request off the loopback server blocked:
//  1. a notebook the runner executed and signed opens trusted, and its figure draws without running;
//  2. a notebook run in the page (Jupyter.notebook.execute_all_cells()) draws its figures, with
//     plotly.js loaded once from the server's files/ handler.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, relative, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs helper of the scripts, without types
import { jupyterEnv, jupyterPython } from "../../scripts/jupyter-python.mjs";
import { FIGURES_SCRIPT, hasChromium, launch, offlineContext, type FigureState } from "./chromium.js";

const root = resolve(".");
const python: string | null = jupyterPython();
const token = randomBytes(16).toString("hex");
// Under out/ (git-ignored) so that the server, whose root is the repository, serves it.
const work = join(root, "out", `browser-live-${process.pid}`);
const source = join(work, "src", "live.ipynb");
const executed = join(work, "executed", "src", "live.ipynb");
const PLOTLY_FILE = "/files/node_modules/plotly.js-dist/plotly.js";

const cells = [
  'import { showPlot, lineChart, heatmap } from "./lib/display/index";',
  'showPlot(lineChart([0, 1, 2, 3], [{ name: "train", ys: [3.3, 2.9, 2.6, 2.5] }, { name: "val", ys: [3.3, 3.0, 2.8, 2.7] }], { title: "loss" }));',
  'showPlot(heatmap([[0, 1], [2, 3]], { x: ["a", "b"], y: ["a", "b"], text: [["aa", "ab"], ["ba", "bb"]], title: "counts" }));',
];

let server: ChildProcess | null = null;
let browser: Browser;
let port = 0;

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });
}

async function api(path: string, method = "GET"): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}${path}${path.includes("?") ? "&" : "?"}token=${token}`, { method });
}

async function waitForServer(): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (server?.exitCode !== null) throw new Error(`the Notebook server exited with ${server?.exitCode}`);
    try {
      if ((await api("/api/status")).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error("the Notebook server did not answer within 60 s");
}

async function openNotebook(path: string) {
  const { context, blocked } = await offlineContext(browser, (url) => url.hostname === "127.0.0.1" && url.port === String(port));
  const requests: string[] = [];
  context.on("request", (request) => requests.push(new URL(request.url()).pathname));
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(`http://127.0.0.1:${port}/notebooks/${relative(root, path)}?token=${token}`);
  await page.waitForFunction("window.Jupyter && Jupyter.notebook && Jupyter.notebook._fully_loaded", undefined, { timeout: 60_000 });
  return { page, context, blocked, requests, errors };
}

async function figuresWhenDrawn(page: Page, count: number): Promise<FigureState[]> {
  await page
    .waitForFunction(`(() => { const f = ${FIGURES_SCRIPT}; return f.length >= ${count} && f.every((x) => x.drawn && x.traces > 0); })()`, undefined, {
      timeout: 120_000,
    })
    .catch(() => {});
  return (await page.evaluate(FIGURES_SCRIPT)) as FigureState[];
}

beforeAll(async () => {
  if (!hasChromium || !python) return;
  mkdirSync(join(work, "src"), { recursive: true });
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "gpt-from-scratch", display_name: "TypeScript (gpt-from-scratch)", language: "typescript" } },
    cells: cells.map((code, i) => ({ cell_type: "code", id: `c${i}`, metadata: {}, execution_count: null, outputs: [], source: code })),
  };
  writeFileSync(source, JSON.stringify(notebook));
  const run = spawnSync(process.execPath, ["scripts/notebooks.mjs", source, "--profile", "ci", "--out", join(work, "executed")], {
    cwd: root,
    encoding: "utf8",
    timeout: 120_000,
  });
  if (run.status !== 0) throw new Error(`the runner failed on ${source}:\n${run.stdout}${run.stderr}`);

  port = await freePort();
  const args = ["-m", "notebook", "--no-browser", "--ip=127.0.0.1", `--port=${port}`, `--NotebookApp.token=${token}`, `--notebook-dir=${root}`];
  if (process.getuid?.() === 0) args.push("--allow-root");
  server = spawn(python, args, { cwd: root, env: jupyterEnv(root, { COURSE_PROFILE: "ci" }), stdio: "ignore" });
  browser = await launch();
  await waitForServer();
});

afterAll(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    try {
      const sessions = (await (await api("/api/sessions")).json()) as { id: string }[];
      for (const session of sessions) await api(`/api/sessions/${session.id}`, "DELETE");
    } catch {
      // the server is already gone
    }
    const exited = new Promise((done) => server!.once("exit", done));
    server.kill("SIGTERM");
    await Promise.race([exited, new Promise((done) => setTimeout(done, 10_000))]);
    if (server.exitCode === null) server.kill("SIGKILL");
  }
  rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!hasChromium || !python)("the live Notebook", () => {
  it("opens an executed notebook as trusted and draws its figures without running anything", async () => {
    const { page, context, blocked, requests, errors } = await openNotebook(executed);
    const trusted = await page.evaluate("Jupyter.notebook.trusted");
    const figures = await figuresWhenDrawn(page, 2);
    await context.close();
    expect(trusted).toBe(true);
    expect(figures.map((f) => [f.drawn, f.traces > 0])).toEqual([
      [true, true],
      [true, true],
    ]);
    expect(requests.filter((path) => path === PLOTLY_FILE)).toHaveLength(1);
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("runs a notebook in the page and draws its figures from plotly.js served by the Notebook", async () => {
    const { page, context, blocked, requests, errors } = await openNotebook(source);
    await page.waitForFunction("Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected()", undefined, { timeout: 60_000 });
    expect(await page.evaluate(FIGURES_SCRIPT)).toEqual([]); // nothing drawn before running
    await page.evaluate("Jupyter.notebook.execute_all_cells()");
    const figures = await figuresWhenDrawn(page, 2);
    const counts = await page.evaluate("Jupyter.notebook.get_cells().map((c) => c.input_prompt_number)");
    await context.close();
    expect(figures.map((f) => [f.drawn, f.traces > 0])).toEqual([
      [true, true],
      [true, true],
    ]);
    expect(counts).toEqual([1, 2, 3]);
    expect(requests.filter((path) => path === PLOTLY_FILE)).toHaveLength(1);
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
  });
});
