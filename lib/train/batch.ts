import * as tf from "@tensorflow/tfjs-core";
import type { Rng } from "../util/random.js";

/** A token stream: char ids fit Uint16Array (as nanoGPT's train.bin), any vocabulary fits Int32Array. */
export type TokenArray = Int32Array | Uint16Array;

/**
 * Batches read in order rather than at random, as build-nanogpt's DataLoaderLite (lib/data's
 * ShardLoader is one): the trainer takes its next batch; evaluation reads fromStart(), which leaves
 * this one where it was; position goes into checkpoints so a resumed run continues the stream.
 */
export interface BatchStream {
  nextBatch(batchSize: number, blockSize: number): { x: Int32Array; y: Int32Array };
  fromStart(): BatchStream;
  readonly position: { shard: number; offset: number };
  seek(position: { shard: number; offset: number }): void;
  /** Throws a RangeError unless the stream can supply a batch of this shape. */
  checkFits(batchSize: number, blockSize: number): void;
}

/** What a split of TrainData may be: an array sampled at random (nanoGPT) or a stream (build-nanogpt). */
export type TokenSource = TokenArray | BatchStream;

export function isBatchStream(data: TokenSource): data is BatchStream {
  return typeof (data as BatchStream).nextBatch === "function";
}

/** The next batch of `data` as (batchSize, blockSize) int32 tensors: random windows of an array, the next windows of a stream. */
export function nextBatch(data: TokenSource, blockSize: number, batchSize: number, rng: Rng): { x: tf.Tensor2D; y: tf.Tensor2D } {
  if (!isBatchStream(data)) return getBatch(data, blockSize, batchSize, rng);
  const { x, y } = data.nextBatch(batchSize, blockSize);
  return { x: tf.tensor2d(x, [batchSize, blockSize], "int32"), y: tf.tensor2d(y, [batchSize, blockSize], "int32") };
}

/**
 * A random batch of training windows, as nanoGPT's get_batch: batchSize start offsets i, then
 * x = data[i : i+blockSize] and y = data[i+1 : i+1+blockSize] (the next token at every position).
 * Returns (batchSize, blockSize) int32 tensors; the caller disposes them.
 */
export function getBatch(data: TokenArray, blockSize: number, batchSize: number, rng: Rng): { x: tf.Tensor2D; y: tf.Tensor2D } {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`getBatch: batch_size must be a positive integer, got ${batchSize}`);
  checkFitsBlock(data, blockSize, "the data");
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

/**
 * Throw unless `data` holds at least one window of blockSize + 1 tokens (input and its next-token
 * targets), naming `what` (e.g. "the validation split"): call it before building a model that size.
 */
export function checkFitsBlock(data: TokenArray, blockSize: number, what: string): void {
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new RangeError(`block_size must be a positive integer, got ${blockSize}`);
  if (blockSize >= data.length) {
    throw new RangeError(`block_size ${blockSize} is larger than ${what} (${data.length.toLocaleString("en-US")} tokens): each window needs block_size + 1 tokens`);
  }
}
