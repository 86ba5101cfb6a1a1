// Sweeps: run ids, the runs folder, resuming, and the local executors, including a sweep killed
// with SIGKILL mid-run and started again (every run recorded exactly once, finished ones untouched).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  InProcessExecutor,
  PoolExecutor,
  RunStore,
  checkSweepSpec,
  expandSweep,
  formatSweepStatus,
  runId,
  runSweep,
  runsTable,
  type SweepSpec,
} from "../lib/scaling/index.js";

const TASK = "tests/scaling-task.ts";
const work = mkdtempSync(join(tmpdir(), "scaling-sweep-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let folders = 0;
const folder = () => join(work, `f${folders++}`);

const expectedLoss = (width: number, steps: number, seed: number) => 1 + 4 / Math.sqrt(width) + 1 / steps + 1e-3 * ((seed * 7 + steps) % 5);

function jsonFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((n) => /^[0-9a-f]{16}\.json$/.test(n)).sort() : [];
}

const waitFor = async (what: string, condition: () => boolean, timeoutMs = 60_000) => {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("sweep specs", () => {
  it("expands grid × configs × seeds, ids from content (key order does not matter), duplicates once", () => {
    const spec: SweepSpec = { name: "s", task: TASK, grid: { width: [4, 8], steps: [2, 3] }, base: { sleepMs: 0 }, seeds: [0, 1, 2] };
    const runs = expandSweep(spec);
    expect(runs.length).toBe(12);
    expect(new Set(runs.map((r) => r.id)).size).toBe(12);
    expect(runId(TASK, { a: 1, b: [1, { c: 2, d: 3 }] }, 0)).toBe(runId(TASK, { b: [1, { d: 3, c: 2 }], a: 1 }, 0));
    expect(runId(TASK, { a: 1 }, 0)).not.toBe(runId(TASK, { a: 1 }, 1));
    expect(runId(TASK, { a: 1 }, 0)).not.toBe(runId("other", { a: 1 }, 0));
    expect(expandSweep({ name: "s", task: TASK, configs: [{ width: 4 }, { width: 4 }] }).length).toBe(1);
    // The id is the same whoever expands it: a sha256 prefix of the canonical JSON.
    expect(runId("t", { x: 1 }, 0)).toMatch(/^[0-9a-f]{16}$/);
  });

  it("rejects malformed specs with one line naming the field", () => {
    expect(() => checkSweepSpec(null, "f.json")).toThrow(/^f\.json: expected an object/);
    expect(() => checkSweepSpec({ name: "a b", task: "t" }, "f.json")).toThrow(/"name"/);
    expect(() => checkSweepSpec({ name: "a", task: "" }, "f.json")).toThrow(/"task"/);
    expect(() => checkSweepSpec({ name: "a", task: "t", seeds: [1.5] }, "f.json")).toThrow(/"seeds"/);
    expect(() => expandSweep({ name: "a", task: "t", grid: { w: [] } })).toThrow(/grid "w"/);
    expect(() => expandSweep({ name: "a", task: "t", base: { x: Infinity } })).toThrow(/finite/);
  });
});

describe("runSweep in process", () => {
  it("records every run once, with the task's numbers, resumes without rewriting, and tabulates", async () => {
    const dir = folder();
    const spec: SweepSpec = { name: "inproc", task: TASK, grid: { width: [4, 16] }, base: { steps: 3, sleepMs: 1 }, seeds: [0, 1] };
    const lines: string[] = [];
    const first = await runSweep(spec, { runsDir: dir, executor: new InProcessExecutor(), onStatus: (s) => lines.push(formatSweepStatus(s)) });
    expect(first.records.length).toBe(4);
    expect(first.failures).toEqual([]);
    for (const r of first.records) expect(r.finalLoss).toBeCloseTo(expectedLoss(r.config.width as number, 3, r.seed), 12);
    expect(lines[lines.length - 1]).toMatch(/4\/4 done, 0 running, 0 failed/);
    const mtimes = jsonFiles(dir).map((n) => statSync(join(dir, n)).mtimeMs);
    const again = await runSweep(spec, { runsDir: dir });
    expect(again.skipped).toBe(4);
    expect(jsonFiles(dir).map((n) => statSync(join(dir, n)).mtimeMs)).toEqual(mtimes);
    const table = runsTable(new RunStore(dir).list());
    expect(table.height).toBe(4);
    expect(table.columns).toEqual(expect.arrayContaining(["id", "width", "params", "tokens", "flops", "finalLoss", "bestLoss", "wallSeconds"]));
    expect(readFileSync(join(dir, "runs.csv"), "utf8").trim().split("\n").length).toBe(5);
  });

  it("refuses a runs folder another live sweep holds, and takes over one whose sweep died", async () => {
    const dir = folder();
    const spec: SweepSpec = { name: "locked", task: TASK, base: { steps: 1, sleepMs: 0 } };
    const holder = spawn("sleep", ["30"]);
    try {
      new RunStore(dir);
      writeFileSync(join(dir, ".sweep.lock"), `${holder.pid}\n`);
      await expect(runSweep(spec, { runsDir: dir })).rejects.toThrow(new RegExp(`another sweep \\(pid ${holder.pid}\\) is running in this folder`));
    } finally {
      holder.kill("SIGKILL");
      await new Promise((resolve) => holder.once("exit", resolve));
    }
    const result = await runSweep(spec, { runsDir: dir }); // the holder is gone: its lock is stale
    expect(result.records.length).toBe(1);
    expect(existsSync(join(dir, ".sweep.lock"))).toBe(false);
  });

  it("reports a run that fails without stopping the others", async () => {
    const spec: SweepSpec = { name: "fails", task: TASK, configs: [{ width: 4 }, { width: 8, alwaysFail: true }], base: { steps: 1, sleepMs: 0 } };
    const result = await runSweep(spec, { runsDir: folder(), executor: new InProcessExecutor() });
    expect(result.records.length).toBe(1);
    expect(result.failures.map((f) => f.message)).toEqual(["this run always fails"]);
  });

  it("names a task that does not load", async () => {
    const result = await runSweep({ name: "x", task: "tests/no-such-task.ts" }, { runsDir: folder(), executor: new InProcessExecutor() });
    expect(result.failures[0].message).toMatch(/not a built-in task .* did not load/);
  });
});

describe("local worker pool", () => {
  it("runs in worker processes, retries a run whose worker died or that threw, and fails one that always fails", async () => {
    const dir = folder();
    const log = join(dir + ".log");
    const spec: SweepSpec = {
      name: "pool",
      task: TASK,
      configs: [{ width: 4 }, { width: 8, crashOnce: true }, { width: 16, failOnce: true }, { width: 32, alwaysFail: true }],
      base: { steps: 2, sleepMs: 5 },
    };
    const result = await runSweep(spec, { runsDir: dir, executor: new PoolExecutor({ workers: 2, attempts: 2, env: { SCALING_TEST_LOG: log } }) });
    expect(result.records.map((r) => r.config.width).sort((a, b) => Number(a) - Number(b))).toEqual([4, 8, 16]);
    expect(result.failures.length).toBe(1);
    expect(result.failures[0].message).toBe("this run always fails");
    // The run whose worker died started twice, in two processes, and was recorded by the second.
    const crashed = result.records.find((r) => r.config.crashOnce)!;
    const starts = readFileSync(log, "utf8").trim().split("\n").filter((l) => l.startsWith(`start ${crashed.id} `));
    expect(starts.length).toBe(2);
    expect(new Set(starts.map((l) => l.split(" ")[2])).size).toBe(2);
    expect(crashed.worker.split("@")[0]).toBe(starts[1].split(" ")[2]);
    for (const r of result.records) expect(r.worker).not.toBe(`${process.pid}`);
  }, 60_000);

  it("survives SIGKILL mid-sweep: the restart runs what was left, every run exactly once, finished runs untouched", async () => {
    const dir = folder();
    const log = `${dir}.log`;
    const file = `${dir}.json`;
    const spec: SweepSpec = { name: "killed", task: TASK, grid: { width: [2, 4, 8, 16, 32, 64] }, base: { steps: 10, sleepMs: 40 }, seeds: [0, 1] };
    writeFileSync(file, JSON.stringify(spec));
    const start = (): ChildProcess =>
      spawn(process.execPath, ["--import", "tsx", "scripts/sweep.ts", file, "--runs_dir", dir, "--workers", "2", "--quiet"], {
        env: { ...process.env, SCALING_TEST_LOG: log },
        stdio: ["ignore", "pipe", "pipe"],
      });
    const first = start();
    await waitFor("two finished runs", () => jsonFiles(dir).length >= 2);
    first.kill("SIGKILL");
    await new Promise((resolve) => first.once("exit", resolve));
    const before = new Map(jsonFiles(dir).map((n) => [n, readFileSync(join(dir, n), "utf8")]));
    expect(before.size).toBeLessThan(12);
    // The pool's workers go away with their parent (they exit when its IPC channel closes).
    const workerPids = [...new Set(readFileSync(log, "utf8").trim().split("\n").map((l) => Number(l.split(" ")[2])))];
    await waitFor("the orphaned workers to exit", () => workerPids.every((pid) => !alive(pid)), 10_000);
    const second = start();
    const code = await new Promise<number | null>((resolve) => second.once("exit", resolve));
    expect(code).toBe(0);
    const after = jsonFiles(dir);
    expect(after).toEqual(expandSweep(spec).map((r) => `${r.id}.json`).sort());
    for (const [name, text] of before) expect(readFileSync(join(dir, name), "utf8")).toBe(text);
    for (const r of new RunStore(dir).list()) expect(r.finalLoss).toBeCloseTo(expectedLoss(r.config.width as number, 10, r.seed), 12);
    // Nothing that had finished ran again.
    const ends = readFileSync(log, "utf8").trim().split("\n").filter((l) => l.startsWith("end ")).map((l) => l.split(" ")[1]);
    for (const name of before.keys()) expect(ends.filter((id) => `${id}.json` === name).length).toBe(1);
  }, 120_000);
});

describe("npm run sweep", () => {
  it("stops on SIGINT with status 130, keeping finished runs, and a second start finishes the sweep (parquet table)", async () => {
    const dir = folder();
    const file = `${dir}.json`;
    const spec: SweepSpec = { name: "interrupted", task: TASK, grid: { width: [2, 4, 8, 16, 32, 64] }, base: { steps: 10, sleepMs: 40 } };
    writeFileSync(file, JSON.stringify(spec));
    const args = ["--import", "tsx", "scripts/sweep.ts", file, "--runs_dir", dir, "--workers", "2", "--table", "parquet"];
    const first = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    first.stderr!.on("data", (d) => (stderr += d));
    await waitFor("a finished run", () => jsonFiles(dir).length >= 1);
    const stoppedAt = Date.now();
    first.kill("SIGINT");
    const code = await new Promise<number | null>((resolve) => first.once("exit", resolve));
    expect(code).toBe(130);
    expect(Date.now() - stoppedAt).toBeLessThan(5000);
    expect(stderr).toMatch(/SIGINT: stopping: finished runs are kept/);
    const kept = jsonFiles(dir).length;
    expect(kept).toBeGreaterThanOrEqual(1);
    expect(kept).toBeLessThan(6);
    const second = spawnSync(process.execPath, args, { encoding: "utf8" });
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toMatch(new RegExp(`6 runs recorded in .* \\(${kept} from before\\), 0 failed`));
    const table = readFileSync(join(dir, "runs.parquet"));
    expect(table.subarray(0, 4).toString()).toBe("PAR1");
  }, 60_000);


  it("rejects a missing or malformed sweep file in one line, exit 2", () => {
    const bad = join(work, "bad.json");
    writeFileSync(bad, JSON.stringify({ name: "x", task: "t", seeds: "zero" }));
    const good = join(work, "good.json");
    writeFileSync(good, JSON.stringify({ name: "x", task: TASK }));
    for (const [args, pattern] of [
      [[join(work, "missing.json")], /missing\.json: cannot read the sweep file \(ENOENT\)/],
      [[bad], /bad\.json: "seeds" must be a non-empty list of integers/],
      [[good, "--workers", "-1"], /--workers=-1: expected an integer ≥ 0/],
      [[good, "--queue", "http://x"], /expected a redis:\/\/ URL/],
      [[good, "--wrokers", "2"], /unknown flag --wrokers; did you mean --workers\?/],
    ] as const) {
      const run = spawnSync(process.execPath, ["--import", "tsx", "scripts/sweep.ts", ...args], { encoding: "utf8" });
      expect(run.status, run.stderr).toBe(2);
      expect(run.stderr.trim().split("\n").length).toBe(1);
      expect(run.stderr).toMatch(pattern);
    }
  }, 60_000);
});
