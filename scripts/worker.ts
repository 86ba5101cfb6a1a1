/**
 * `npm run worker -- --queue redis://host:6379`: pull sweep runs from a BullMQ queue and run them
 * (start any number, on any machines with this repository). Ctrl-C or SIGTERM finishes the running
 * run, then exits; a worker killed outright loses its run to another worker after the stall interval.
 */
import { parseRedisUrl, startSweepWorker } from "../lib/scaling/redis-queue.js";
import { formatHelp, parseFlags, type FlagSchema } from "../lib/train/args.js";
import { UsageError, onStopSignal, runCli } from "../lib/util/cli.js";

const FLAGS = {
  queue: { type: "string", help: "the Redis URL, e.g. redis://127.0.0.1:6379 (required)" },
  queueName: { type: "string", default: "course-sweeps", help: "the BullMQ queue's name" },
  concurrency: { type: "integer", min: 1, default: 1, help: "runs at once in this process" },
  lockMs: { type: "integer", min: 100, default: 30000, help: "a run's lock lasts this long unless renewed" },
  stalledMs: { type: "integer", min: 100, default: 30000, help: "how often to look for runs of workers that died" },
  quiet: { type: "boolean", default: false, help: "print only errors" },
} satisfies FlagSchema;

runCli(async () => {
  const { values, help } = parseFlags(process.argv.slice(2), FLAGS);
  if (help) {
    console.log(formatHelp("npm run worker -- --queue redis://host:6379 [--concurrency N]", FLAGS));
    return;
  }
  if (values.queue === undefined) throw new UsageError("--queue is required (a Redis URL such as redis://127.0.0.1:6379)");
  let connection;
  try {
    connection = parseRedisUrl(values.queue);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const log = (line: string) => values.quiet || process.stderr.write(line + "\n");
  const worker = startSweepWorker(connection, {
    queueName: values.queueName,
    concurrency: values.concurrency,
    lockMs: values.lockMs,
    stalledMs: values.stalledMs,
    onEvent(event) {
      if (event.kind === "progress") log(`run ${event.id} step ${event.step}: loss ${event.loss?.toFixed(4)}`);
      else if (event.kind === "failed") process.stderr.write(`run ${event.id} failed: ${event.message}\n`);
      else log(`run ${event.id} ${event.kind}`);
    },
  });
  log(`worker ${process.pid} pulling from "${values.queueName}" on redis://${connection.host}:${connection.port}`);
  let release: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (release = resolve));
  const stop = onStopSignal(() => release(), "finishing the running run, then exiting", { quit: () => void worker.close(true) });
  await stopped;
  await worker.close();
  stop.dispose();
  return stop.exitCode;
});
