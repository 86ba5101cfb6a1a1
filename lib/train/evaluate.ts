import * as tf from "@tensorflow/tfjs-core";
import type { GPT } from "../models/gpt/index.js";
import { Rng } from "../util/random.js";
import { getBatch, type TokenArray } from "./batch.js";

/**
 * The model's mean loss over `iters` random batches of `data`, in evaluation mode (no dropout),
 * as nanoGPT's estimate_loss for one split. Losses are summed on the device and read once.
 */
export async function estimateLoss(
  model: GPT,
  data: TokenArray,
  options: { batchSize: number; iters: number; rng: Rng },
): Promise<number> {
  let total: tf.Scalar = tf.scalar(0);
  for (let i = 0; i < options.iters; i++) {
    const next = tf.tidy(() => {
      const { x, y } = getBatch(data, model.config.blockSize, options.batchSize, options.rng);
      const { loss } = model.forward(x, y);
      return tf.add(total, loss!) as tf.Scalar;
    });
    total.dispose();
    total = next;
  }
  const sum = (await total.data())[0];
  total.dispose();
  return sum / options.iters;
}

/** Train and val loss as nanoGPT prints them, each a mean over `iters` batches drawn with a fresh Rng(seed). */
export async function estimateLosses(
  model: GPT,
  data: { train: TokenArray; val: TokenArray },
  options: { batchSize: number; iters: number; seed: number },
): Promise<{ train: number; val: number }> {
  const train = await estimateLoss(model, data.train, { ...options, rng: new Rng(options.seed) });
  const val = await estimateLoss(model, data.val, { ...options, rng: new Rng(options.seed + 1) });
  return { train, val };
}
