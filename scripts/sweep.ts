/**
 * `npm run sweep -- <sweep.json> [--queue redis://host:6379] [--workers N] [--runs_dir DIR]`:
 * run every run of a sweep that its runs folder does not hold yet, through a local pool of worker
 * processes (default: one per core), in this process (--workers 0), or through a BullMQ queue on
 * Redis that `npm run worker` processes on any machines pull from (--queue). Safe to kill and
 * start again: finished runs are kept, interrupted ones run again.
 */
import { readFileSync } from "node:fs";
// The modules themselves, not lib/scaling/index.js: a sweep of non-built-in tasks starts without TensorFlow.js.
import { BullMQExecutor, parseRedisUrl } from "../lib/scaling/redis-queue.js";
import { InProcessExecutor, type Executor } from "../lib/scaling/executor.js";
import { PoolExecutor } from "../lib/scaling/pool.js";
import { formatSweepStatus, runSweep } from "../lib/scaling/run-sweep.js";
import { checkSweepSpec, type SweepSpec } from "../lib/scaling/sweep.js";
import { formatHelp, parseFlags, type FlagSchema } from "../lib/train/args.js";
import { UsageError, onStopSignal, runCli } from "../lib/util/cli.js";

const FLAGS = {
  queue: { type: "string", help: "a Redis URL: enqueue the runs for `npm run worker` processes instead of running them here" },
  queueName: { type: "string", default: "course-sweeps", help: "the BullMQ queue's name" },
  workers: { type: "integer", min: 0, help: "local worker processes (default: one per core; 0: run in this process)" },
  attempts: { type: "integer", min: 1, default: 3, help: "tries per run, counting the first" },
  runsDir: { type: "string", help: "the runs folder (default out/sweeps/<name>)" },
  table: { type: "string", default: "csv", choices: ["csv", "parquet", "none"], help: "the combined table written at the end" },
  quiet: { type: "boolean", default: false, help: "no progress lines" },
} satisfies FlagSchema;

const USAGE = "npm run sweep -- <sweep.json> [--queue redis://host:6379] [--workers N] [--runs_dir DIR]";

function readSpec(path: string): SweepSpec {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`${path}: cannot read the sweep file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path}: not JSON (${(error as Error).message})`);
  }
  try {
    checkSweepSpec(spec, path);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return spec;
}

runCli(async () => {
  const { values, positionals, help } = parseFlags(process.argv.slice(2), FLAGS, { positionals: "the sweep file" });
  if (help) {
    console.log(formatHelp(USAGE, FLAGS));
    return;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one sweep file, got ${positionals.length} (${USAGE})`);
  const spec = readSpec(positionals[0]);
  let executor: Executor;
  if (values.queue !== undefined) {
    let connection;
    try {
      connection = parseRedisUrl(values.queue);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    executor = new BullMQExecutor(connection, { queueName: values.queueName, attempts: values.attempts });
  } else if (values.workers === 0) {
    executor = new InProcessExecutor();
  } else {
    executor = new PoolExecutor({ workers: values.workers, attempts: values.attempts });
  }
  const stop = onStopSignal(() => executor.stop(), "stopping: finished runs are kept, running ones run again on the next start", {
    quit: () => executor.stop(),
  });
  let lastLine = 0;
  const result = await runSweep(spec, {
    runsDir: values.runsDir,
    executor,
    table: values.table === "none" ? null : (values.table as "csv" | "parquet"),
    onStatus(status, event) {
      if (values.quiet) return;
      if (event.kind === "failed") process.stderr.write(`run ${event.run.id} failed: ${event.message}\n`);
      const now = performance.now();
      if (event.kind !== "progress" || now - lastLine > 1000) {
        lastLine = now;
        process.stderr.write(formatSweepStatus(status) + "\n");
      }
    },
  });
  stop.dispose();
  console.log(
    `sweep ${spec.name}: ${result.records.length} runs recorded in ${result.runsDir} (${result.skipped} from before), ` +
      `${result.failures.length} failed, via ${executor.name}${result.tablePath ? `; table ${result.tablePath}` : ""}`,
  );
  if (stop.exitCode) return stop.exitCode;
  return result.failures.length > 0 ? 1 : 0;
});
