/**
 * Sweeps on many machines through BullMQ queues on Redis. The sweep process enqueues each pending
 * run as a job whose id is the run's id (so re-enqueueing never duplicates), then polls the jobs:
 * a completed job's record goes to the runs folder (once) and the job is removed; a job Redis no
 * longer has (Redis restarted empty) is enqueued again. Workers anywhere pull jobs, run them with
 * retries and exponential back-off, report progress, and BullMQ's stalled-job check hands the run
 * of a worker that died to another one after the stall interval.
 *
 *   npm run sweep -- --queue redis://host:6379 sweep.json     # enqueue, wait, record
 *   npm run worker -- --queue redis://host:6379               # on any number of machines
 */
import { Queue, Worker, type Job } from "bullmq";
import type { Executor, ExecutorEvents } from "./executor.js";
import type { RunRecord } from "./runs.js";
import type { RunSpec } from "./sweep.js";
import { executeRun } from "./task.js";

export const DEFAULT_QUEUE_NAME = "course-sweeps";

export interface RedisConnection {
  host: string;
  port: number;
  db?: number;
  username?: string;
  password?: string;
}

/** redis://[user:password@]host[:port][/db] → connection options; one-line error otherwise. */
export function parseRedisUrl(url: string): RedisConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--queue ${url}: expected a Redis URL such as redis://127.0.0.1:6379`);
  }
  if (parsed.protocol !== "redis:") throw new Error(`--queue ${url}: expected a redis:// URL`);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : undefined;
  if (db !== undefined && !Number.isInteger(db)) throw new Error(`--queue ${url}: the database after / must be an integer`);
  const port = parsed.port ? Number(parsed.port) : 6379;
  return {
    host: parsed.hostname || "127.0.0.1",
    port,
    ...(db !== undefined ? { db } : {}),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
  };
}

/** Keep retrying the connection (Redis may restart), at most 2 s apart. */
function connectionOptions(connection: RedisConnection) {
  return { ...connection, maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(100 * times, 2000) };
}

export interface BullMQOptions {
  queueName?: string;
  /** Tries per run on the workers, counting the first (default 3). */
  attempts?: number;
  /** Back-off before a retry, doubling each time (default 1000 ms). */
  backoffMs?: number;
  /** How often the sweep checks its jobs (default 500 ms). */
  pollMs?: number;
  /** A Redis call that takes longer than this is abandoned for this poll (default 5000 ms). */
  callTimeoutMs?: number;
}

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer from Redis in ${ms} ms`)), ms);
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error: unknown) => (clearTimeout(timer), reject(error)),
    );
  });

export class BullMQExecutor implements Executor {
  readonly name: string;
  private stopped = false;
  private readonly queueName: string;

  constructor(
    private readonly connection: RedisConnection,
    private readonly options: BullMQOptions = {},
  ) {
    this.queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
    this.name = `BullMQ queue "${this.queueName}" on redis://${connection.host}:${connection.port}`;
  }

  async execute(runs: RunSpec[], events: ExecutorEvents): Promise<void> {
    const queue = new Queue(this.queueName, { connection: connectionOptions(this.connection) });
    queue.on("error", () => {}); // connection errors: ioredis reconnects; polls retry
    const attempts = this.options.attempts ?? 3;
    const pollMs = this.options.pollMs ?? 500;
    const callTimeoutMs = this.options.callTimeoutMs ?? 5000;
    const outstanding = new Map(runs.map((run) => [run.id, run]));
    const active = new Set<string>();
    const lastProgress = new Map<string, string>();
    const fresh = new Set(runs.map((run) => run.id)); // not yet looked at in Redis by this start
    const enqueue = (run: RunSpec) =>
      queue.add(run.id, run, {
        jobId: run.id,
        attempts,
        backoff: { type: "exponential", delay: this.options.backoffMs ?? 1000 },
        removeOnComplete: false,
        removeOnFail: false,
      });
    try {
      while (outstanding.size > 0 && !this.stopped) {
        for (const run of [...outstanding.values()]) {
          if (this.stopped) break;
          try {
            await withTimeout(this.check(queue, run, fresh, enqueue, active, lastProgress, outstanding, events), callTimeoutMs, `run ${run.id}`);
          } catch {
            // Redis unreachable or restarting: try again next poll.
          }
        }
        if (outstanding.size > 0) await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
    } finally {
      await queue.close().catch(() => {});
    }
  }

  private async check(
    queue: Queue,
    run: RunSpec,
    fresh: Set<string>,
    enqueue: (run: RunSpec) => Promise<Job>,
    active: Set<string>,
    lastProgress: Map<string, string>,
    outstanding: Map<string, RunSpec>,
    events: ExecutorEvents,
  ): Promise<void> {
    let job = await queue.getJob(run.id);
    if (job && fresh.has(run.id) && (await job.getState()) === "failed") {
      // Failed for good in an earlier start of the sweep: this start tries it again.
      await job.remove();
      job = undefined;
    }
    fresh.delete(run.id);
    if (!job) {
      await enqueue(run);
      return;
    }
    const state = await job.getState();
    if (state === "active" && !active.has(run.id)) {
      active.add(run.id);
      events.started(run);
    }
    if (state === "active" && typeof job.progress === "object" && job.progress !== null) {
      const { step, loss } = job.progress as { step?: number; loss?: number };
      const key = `${step}:${loss}`;
      if (typeof step === "number" && typeof loss === "number" && lastProgress.get(run.id) !== key) {
        lastProgress.set(run.id, key);
        events.progress(run, step, loss);
      }
    }
    if (state === "completed") {
      const record = job.returnvalue as RunRecord | null;
      if (!record || record.id !== run.id) throw new Error(`job ${run.id} completed without its record`);
      if (!active.has(run.id)) events.started(run);
      outstanding.delete(run.id);
      events.finished(record);
      await job.remove();
    } else if (state === "failed") {
      if (!active.has(run.id)) events.started(run);
      outstanding.delete(run.id);
      events.failed(run, job.failedReason || "failed");
    }
  }

  stop(): void {
    this.stopped = true;
  }
}

export interface WorkerOptions {
  queueName?: string;
  /** Runs at once in this process (default 1). */
  concurrency?: number;
  /** A job's lock lasts this long unless renewed (BullMQ default 30 s). */
  lockMs?: number;
  /** How often workers look for jobs whose lock expired (BullMQ default 30 s). */
  stalledMs?: number;
  /** A job may stall this many times before it fails (default 5). */
  maxStalledCount?: number;
  onEvent?(event: { kind: "started" | "progress" | "finished" | "failed"; id: string; step?: number; loss?: number; message?: string }): void;
}

/** Start pulling runs from the queue; close() waits for the running ones. */
export function startSweepWorker(connection: RedisConnection, options: WorkerOptions = {}): Worker {
  const worker = new Worker(
    options.queueName ?? DEFAULT_QUEUE_NAME,
    async (job: Job) => {
      const run = job.data as RunSpec;
      options.onEvent?.({ kind: "started", id: run.id });
      return executeRun(run, (step, loss) => {
        options.onEvent?.({ kind: "progress", id: run.id, step, loss });
        job.updateProgress({ step, loss }).catch(() => {});
      });
    },
    {
      connection: connectionOptions(connection),
      concurrency: options.concurrency ?? 1,
      lockDuration: options.lockMs ?? 30_000,
      stalledInterval: options.stalledMs ?? 30_000,
      maxStalledCount: options.maxStalledCount ?? 5,
    },
  );
  worker.on("error", () => {}); // connection errors while Redis restarts: ioredis reconnects
  worker.on("completed", (job) => options.onEvent?.({ kind: "finished", id: job.id ?? "" }));
  worker.on("failed", (job, error) => options.onEvent?.({ kind: "failed", id: job?.id ?? "", message: error.message }));
  return worker;
}
