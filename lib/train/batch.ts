import * as tf from "@tensorflow/tfjs-core";
import type { Rng } from "../util/random.js";

/** A token stream: char ids fit Uint16Array (as nanoGPT's train.bin), any vocabulary fits Int32Array. */
export type TokenArray = Int32Array | Uint16Array;

/**
 * A random batch of training windows, as nanoGPT's get_batch: batchSize start offsets i, then
 * x = data[i : i+blockSize] and y = data[i+1 : i+1+blockSize] (the next token at every position).
 * Returns (batchSize, blockSize) int32 tensors; the caller disposes them.
 */
export function getBatch(data: TokenArray, blockSize: number, batchSize: number, rng: Rng): { x: tf.Tensor2D; y: tf.Tensor2D } {
  if (data.length <= blockSize) {
    throw new RangeError(`getBatch: ${data.length} tokens are too few for windows of ${blockSize} + 1`);
  }
  const x = new Int32Array(batchSize * blockSize);
  const y = new Int32Array(batchSize * blockSize);
  for (let b = 0; b < batchSize; b++) {
    const start = rng.randint(0, data.length - blockSize);
    for (let t = 0; t < blockSize; t++) {
      x[b * blockSize + t] = data[start + t];
      y[b * blockSize + t] = data[start + t + 1];
    }
  }
  return { x: tf.tensor2d(x, [batchSize, blockSize], "int32"), y: tf.tensor2d(y, [batchSize, blockSize], "int32") };
}
