import * as tf from "@tensorflow/tfjs-core";
import type { GPT } from "../models/gpt/index.js";
import { Rng } from "../util/random.js";
import { isBatchStream, nextBatch, type TokenSource } from "./batch.js";

/** An estimate was abandoned because shouldStop() said so (no loss to report). */
export class EvaluationStopped extends Error {
  constructor(readonly batchesDone: number) {
    super(`evaluation stopped after ${batchesDone} batches`);
    this.name = "EvaluationStopped";
  }
}

export interface EstimateOptions {
  batchSize: number;
  iters: number;
  /** Asked between batches; true abandons the estimate with EvaluationStopped. */
  shouldStop?: () => boolean;
}

/**
 * The model's mean loss over `iters` random batches of `data`, in evaluation mode (no dropout),
 * as nanoGPT's estimate_loss for one split. Losses are summed on the device and read once.
 * Between batches it yields to the event loop, so a Ctrl-C handler can run and ask it to stop.
 * A stream is read from its start (build-nanogpt's val_loader.reset()), the same batches every time.
 */
export async function estimateLoss(model: GPT, data: TokenSource, options: EstimateOptions & { rng: Rng }): Promise<number> {
  const source = isBatchStream(data) ? data.fromStart() : data;
  let total: tf.Scalar = tf.scalar(0);
  try {
    for (let i = 0; i < options.iters; i++) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      if (options.shouldStop?.()) throw new EvaluationStopped(i);
      const next = tf.tidy(() => {
        const { x, y } = nextBatch(source, model.config.blockSize, options.batchSize, options.rng);
        const { loss } = model.forward(x, y);
        return tf.add(total, loss!) as tf.Scalar;
      });
      total.dispose();
      total = next;
    }
    const sum = (await total.data())[0];
    return sum / options.iters;
  } finally {
    total.dispose();
  }
}

/** Train and val loss as nanoGPT prints them, each a mean over `iters` batches drawn with a fresh Rng(seed). */
export async function estimateLosses(
  model: GPT,
  data: { train: TokenSource; val: TokenSource },
  options: EstimateOptions & { seed: number },
): Promise<{ train: number; val: number }> {
  const train = await estimateLoss(model, data.train, { ...options, rng: new Rng(options.seed) });
  const val = await estimateLoss(model, data.val, { ...options, rng: new Rng(options.seed + 1) });
  return { train, val };
}
