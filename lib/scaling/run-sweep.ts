/**
 * runSweep: expand the sweep, skip the runs its folder already holds, hand the rest to an
 * executor and record each finished run once. Safe to kill at any moment and start again.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InProcessExecutor, type Executor } from "./executor.js";
import { RunStore, writeRunsTable, type RunRecord } from "./runs.js";
import { expandSweep, type RunSpec, type SweepSpec } from "./sweep.js";

export interface SweepStatus {
  total: number;
  /** Finished, including those found from an earlier start. */
  done: number;
  running: number;
  failed: number;
  /** Done in this start (for the ETA). */
  doneNow: number;
  elapsedSeconds: number;
  /** Seconds left at the rate of this start, or null before anything finished. */
  etaSeconds: number | null;
  /** The latest loss of each running run. */
  losses: Map<string, { step: number; loss: number }>;
}

export interface SweepOptions {
  /** Runs folder (default out/sweeps/<name>). */
  runsDir?: string;
  executor?: Executor;
  /** Called on every change (a run started, progressed, finished or failed). */
  onStatus?(status: SweepStatus, event: { kind: "started" | "progress" | "finished" | "failed" | "skipped"; run: RunSpec; message?: string }): void;
  /** Also write the combined table at the end (default "csv"; null: none). */
  table?: "csv" | "parquet" | null;
}

export interface SweepResult {
  records: RunRecord[];
  /** Runs that failed for good, with why. */
  failures: { run: RunSpec; message: string }[];
  /** Runs found already finished when this start began. */
  skipped: number;
  runsDir: string;
  tablePath: string | null;
}

export function defaultRunsDir(name: string): string {
  return join("out", "sweeps", name);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

/**
 * Claim the runs folder for this process (`.sweep.lock` holding its pid), so that two sweeps on one
 * machine never run the same runs at once; a lock whose process is gone is taken over. Returns the release.
 */
export function lockRunsFolder(dir: string): () => void {
  const path = join(dir, ".sweep.lock");
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: "wx" });
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = Number(readFileSync(path, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new Error(`${dir}: another sweep (pid ${pid}) is running in this folder; wait for it or stop it`);
      }
      rmSync(path, { force: true }); // left by a process that died (or an interrupted call in this one)
    }
  }
  throw new Error(`${dir}: could not take .sweep.lock`);
}

export async function runSweep(spec: SweepSpec, options: SweepOptions = {}): Promise<SweepResult> {
  const runs = expandSweep(spec);
  const runsDir = options.runsDir ?? defaultRunsDir(spec.name);
  const store = new RunStore(runsDir);
  const release = lockRunsFolder(runsDir);
  try {
    return await sweepWith(runs, store, runsDir, options);
  } finally {
    release();
  }
}

async function sweepWith(runs: RunSpec[], store: RunStore, runsDir: string, options: SweepOptions): Promise<SweepResult> {
  const pending = runs.filter((run) => !store.has(run.id));
  const failures: { run: RunSpec; message: string }[] = [];
  const started = performance.now();
  const status: SweepStatus = {
    total: runs.length,
    done: runs.length - pending.length,
    running: 0,
    failed: 0,
    doneNow: 0,
    elapsedSeconds: 0,
    etaSeconds: null,
    losses: new Map(),
  };
  const notify = (kind: "started" | "progress" | "finished" | "failed" | "skipped", run: RunSpec, message?: string) => {
    status.elapsedSeconds = (performance.now() - started) / 1000;
    const left = status.total - status.done - status.failed;
    status.etaSeconds = status.doneNow > 0 ? (status.elapsedSeconds / status.doneNow) * left : null;
    options.onStatus?.(status, { kind, run, message });
  };
  const executor = options.executor ?? new InProcessExecutor();
  await executor.execute(pending, {
    started(run) {
      status.running++;
      notify("started", run);
    },
    progress(run, step, loss) {
      status.losses.set(run.id, { step, loss });
      notify("progress", run);
    },
    finished(record) {
      status.running--;
      status.losses.delete(record.id);
      if (store.write(record)) {
        status.done++;
        status.doneNow++;
      }
      notify("finished", record);
    },
    failed(run, message) {
      status.running = Math.max(0, status.running - 1);
      status.losses.delete(run.id);
      status.failed++;
      failures.push({ run, message });
      notify("failed", run, message);
    },
  });
  const records = runs.filter((run) => store.has(run.id)).map((run) => store.read(run.id));
  const format = options.table === undefined ? "csv" : options.table;
  const tablePath = format ? writeRunsTable(store, format) : null;
  return { records, failures, skipped: runs.length - pending.length, runsDir, tablePath };
}

/** One status line: a bar, done / running / failed, ETA, and the running runs' latest losses. */
export function formatSweepStatus(status: SweepStatus, width = 24): string {
  const filled = Math.round((width * status.done) / Math.max(status.total, 1));
  const eta = status.etaSeconds === null ? "?" : formatSeconds(status.etaSeconds);
  const losses = [...status.losses.entries()]
    .slice(0, 4)
    .map(([id, { step, loss }]) => `${id.slice(0, 6)}@${step}: ${loss.toFixed(3)}`)
    .join(", ");
  return (
    `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${status.done}/${status.total} done, ${status.running} running, ` +
    `${status.failed} failed, ETA ${eta}${losses ? ` | ${losses}` : ""}`
  );
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, "0")}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`;
}
