// A sweep task for the sweep tests: a fake "training run" whose losses follow from its config
// and seed alone, that takes sleepMs per step (so it can be killed mid-run), and logs when each
// run starts and ends to $SCALING_TEST_LOG (one line each: "start|end <id> <pid> <ms since epoch>").
import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import type { RunConfig, TaskContext } from "../lib/scaling/sweep.js";
import type { RunOutcome } from "../lib/scaling/runs.js";

const log = (what: string, id: string) => {
  const path = process.env.SCALING_TEST_LOG;
  if (path) appendFileSync(path, `${what} ${id} ${process.pid} ${Date.now()}\n`);
};

export async function run(config: RunConfig, context: TaskContext): Promise<RunOutcome> {
  log("start", context.id);
  const width = Number(config.width ?? 8);
  const steps = Number(config.steps ?? 5);
  const sleepMs = Number(config.sleepMs ?? 20);
  // Fails its first attempt: a marker file beside the log says it already did.
  if (config.failOnce && process.env.SCALING_TEST_LOG) {
    const marker = `${process.env.SCALING_TEST_LOG}.failed-${context.id}`;
    if (!existsSync(marker)) {
      writeFileSync(marker, "");
      throw new Error("failing once on purpose");
    }
  }
  if (config.crashOnce && process.env.SCALING_TEST_LOG) {
    const marker = `${process.env.SCALING_TEST_LOG}.crashed-${context.id}`;
    if (!existsSync(marker)) {
      writeFileSync(marker, "");
      process.exit(3); // the whole worker process dies mid-run
    }
  }
  if (config.alwaysFail) throw new Error("this run always fails");
  const curve: { step: number; loss: number }[] = [];
  for (let step = 1; step <= steps; step++) {
    await new Promise((resolve) => setTimeout(resolve, sleepMs));
    const loss = 1 + 4 / Math.sqrt(width) + 1 / step + 1e-3 * ((context.seed * 7 + step) % 5);
    curve.push({ step, loss });
    context.progress(step, loss);
  }
  log("end", context.id);
  const params = width * width * 12;
  const tokens = steps * 1000;
  return {
    params,
    tokens,
    flops: 6 * params * tokens,
    finalLoss: curve[curve.length - 1].loss,
    bestLoss: Math.min(...curve.map((p) => p.loss)),
    curve,
    backend: "none",
  };
}
