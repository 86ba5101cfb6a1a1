/**
 * A pool of local worker processes (default: one per core), each running one run at a time.
 * A worker that dies mid-run (crash, OOM, kill) is replaced and the run retried, up to `attempts`.
 */
import { fork, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../util/paths.js";
import type { Executor, ExecutorEvents } from "./executor.js";
import type { RunRecord } from "./runs.js";
import type { RunSpec } from "./sweep.js";

export type PoolMessage = { type: "run"; run: RunSpec };
export type PoolReply =
  | { type: "ready" }
  | { type: "progress"; id: string; step: number; loss: number }
  | { type: "done"; id: string; record: RunRecord }
  | { type: "error"; id: string; message: string };

export interface PoolOptions {
  workers?: number;
  /** Tries per run, counting the first (default 2). */
  attempts?: number;
  /** Extra environment for the workers. */
  env?: Record<string, string>;
}

// By the repository layout: lib is loaded both as ES modules and as CommonJS (tslab).
const workerScript = () => join(repoRoot(), "lib", "scaling", "pool-worker.ts");

export class PoolExecutor implements Executor {
  readonly name: string;
  private readonly size: number;
  private readonly attempts: number;
  private readonly children = new Set<ChildProcess>();
  private stopped = false;
  private wake: () => void = () => {};

  constructor(private readonly options: PoolOptions = {}) {
    this.size = Math.max(1, options.workers ?? availableParallelism());
    this.attempts = Math.max(1, options.attempts ?? 2);
    this.name = `pool of ${this.size}`;
  }

  execute(runs: RunSpec[], events: ExecutorEvents): Promise<void> {
    const queue = [...runs];
    const tries = new Map<string, number>();
    let active = 0;
    let bootFailures = 0;
    return new Promise<void>((resolve) => {
      const finishIfDone = () => {
        if ((queue.length === 0 || this.stopped) && active === 0) {
          this.killAll();
          resolve();
        }
      };
      this.wake = finishIfDone;
      const startWorker = () => {
        const child = fork(workerScript(), [], {
          execArgv: ["--import", "tsx"],
          cwd: repoRoot(),
          env: { ...process.env, ...this.options.env },
          stdio: ["ignore", "inherit", "inherit", "ipc"],
        });
        this.children.add(child);
        let current: RunSpec | null = null;
        let ready = false;
        const next = () => {
          current = this.stopped ? null : (queue.shift() ?? null);
          if (!current) {
            this.children.delete(child);
            child.kill();
            finishIfDone();
            return;
          }
          active++;
          tries.set(current.id, (tries.get(current.id) ?? 0) + 1);
          events.started(current);
          child.send({ type: "run", run: current } satisfies PoolMessage);
        };
        const settle = (failure: string | null, record?: RunRecord) => {
          const run = current!;
          current = null;
          active--;
          if (record) events.finished(record);
          else if (this.stopped) return; // abandoned, not failed: a restart runs it
          else if ((tries.get(run.id) ?? 0) < this.attempts && !this.stopped) queue.unshift(run);
          else events.failed(run, failure ?? "failed");
        };
        child.on("message", (reply: PoolReply) => {
          if (reply.type === "ready") {
            ready = true;
            return next();
          }
          if (!current || reply.id !== current.id) return;
          if (reply.type === "progress") events.progress(current, reply.step, reply.loss);
          else if (reply.type === "done") {
            settle(null, reply.record);
            next();
          } else {
            settle(reply.message);
            next();
          }
        });
        child.on("exit", (code, signal) => {
          const wasMine = this.children.delete(child);
          if (current) {
            settle(`worker ${child.pid} died (${signal ?? `exit ${code}`}) during run ${current.id}`);
            if (!this.stopped && queue.length > 0) startWorker();
          } else if (wasMine && !ready && !this.stopped) {
            // Died before it could take work (tsx missing, a syntax error): retry a few times, then give up.
            if (++bootFailures <= 3) startWorker();
            else for (const run of queue.splice(0)) events.failed(run, `worker processes exit before starting (${signal ?? `exit ${code}`})`);
          }
          finishIfDone();
        });
      };
      const count = Math.min(this.size, queue.length);
      if (count === 0) return resolve();
      for (let i = 0; i < count; i++) startWorker();
    });
  }

  /** Stop handing out runs and kill the workers (their runs are not recorded; a restart re-runs them). */
  stop(): void {
    this.stopped = true;
    this.killAll();
    this.wake();
  }

  private killAll(): void {
    for (const child of this.children) child.kill("SIGKILL");
    this.children.clear();
  }
}
