/**
 * Executors run a sweep's pending runs and hand back each record as it finishes; runSweep keeps the
 * runs folder. One interface for all: in-process (here), a local pool of worker processes
 * (pool.ts) and BullMQ queues on Redis (redis-queue.ts).
 */
import type { RunRecord } from "./runs.js";
import type { RunSpec } from "./sweep.js";
import { executeRun } from "./task.js";

export interface ExecutorEvents {
  started(run: RunSpec): void;
  progress(run: RunSpec, step: number, loss: number): void;
  finished(record: RunRecord): void;
  /** A run that will not be retried any more. */
  failed(run: RunSpec, message: string): void;
}

export interface Executor {
  readonly name: string;
  /** Run every run once (retrying failures as the executor allows); resolves when all ended or stop() was called. */
  execute(runs: RunSpec[], events: ExecutorEvents): Promise<void>;
  /** Finish nothing more: stop handing out runs (running ones are abandoned or finished, per executor). */
  stop(): void;
}

/** Runs one after another in this process (notebooks). */
export class InProcessExecutor implements Executor {
  readonly name = "in-process";
  private stopped = false;

  async execute(runs: RunSpec[], events: ExecutorEvents): Promise<void> {
    for (const run of runs) {
      if (this.stopped) return;
      events.started(run);
      try {
        events.finished(await executeRun(run, (step, loss) => events.progress(run, step, loss)));
      } catch (error) {
        events.failed(run, (error as Error).message);
      }
    }
  }

  stop(): void {
    this.stopped = true;
  }
}
