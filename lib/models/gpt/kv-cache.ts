/**
 * A key/value cache for sampling. Attention's keys and values of a position never change once it
 * is computed (the mask keeps every position from seeing later ones), so generation can keep them
 * per layer and feed the model only the new token: it then costs one position, not the context.
 *
 *   const cache = new KVCache(model.config);
 *   model.forward(prompt, undefined, { cache, lastPositionOnly: true });   // fills it: cache.length === T
 *   model.forward(next, undefined, { cache, lastPositionOnly: true });     // next (B, 1): position T
 *   cache.dispose();
 *
 * It holds at most blockSize positions: past that, positions would shift and every cached key
 * would be stale, so generate() drops the cache and crops the context as nanoGPT does.
 */
import * as tf from "@tensorflow/tfjs-core";
import { fusedCausalSelfAttention } from "../../native/index.js";
import type { GPTConfig } from "./config.js";

export class KVCache {
  readonly nLayer: number;
  readonly nHead: number;
  readonly blockSize: number;
  /** Per layer, (B·nHead, length, headSize), rows in batch then head order; null while empty. */
  private keys: (tf.Tensor3D | null)[];
  private values: (tf.Tensor3D | null)[];

  constructor(config: Pick<GPTConfig, "nLayer" | "nHead" | "blockSize">) {
    this.nLayer = config.nLayer;
    this.nHead = config.nHead;
    this.blockSize = config.blockSize;
    this.keys = new Array(this.nLayer).fill(null);
    this.values = new Array(this.nLayer).fill(null);
  }

  /** Positions cached (the next token's position), as of the last layer. */
  get length(): number {
    return this.keys[this.nLayer - 1]?.shape[1] ?? 0;
  }

  /** Sequences cached; undefined while empty. */
  get batchSize(): number | undefined {
    const keys = this.keys[this.nLayer - 1];
    return keys ? keys.shape[0] / this.nHead : undefined;
  }

  /** Throw unless T new positions of B sequences fit (forward calls it before computing anything). */
  check(config: GPTConfig, B: number, T: number): void {
    if (config.nLayer !== this.nLayer || config.nHead !== this.nHead || config.blockSize !== this.blockSize) {
      throw new Error(`KVCache: made for ${this.nLayer} layers, ${this.nHead} heads, blockSize ${this.blockSize}; the model has ${config.nLayer}, ${config.nHead}, ${config.blockSize}`);
    }
    const batch = this.batchSize;
    if (batch !== undefined && batch !== B) throw new RangeError(`KVCache: holds ${batch} sequences, the input has ${B}`);
    if (this.length + T > this.blockSize) {
      throw new RangeError(`KVCache: ${this.length} cached positions + ${T} new exceed blockSize ${this.blockSize}`);
    }
  }

  /**
   * Attention of T new positions over the cached ones and themselves, from their projection qkv
   * (B·T, 3C), [q | k | v] as c_attn makes it; appends their keys and values to the cache.
   * Returns (B·T, C), heads side by side, as GPT's attention does before c_proj.
   * causalMask is the model's (blockSize, blockSize) additive mask.
   */
  attend(layer: number, qkv: tf.Tensor2D, B: number, T: number, causalMask: tf.Tensor2D): tf.Tensor2D {
    const C = qkv.shape[1] / 3;
    const headSize = C / this.nHead;
    const past = this.keys[layer]?.shape[1] ?? 0;
    const heads = tf.reshape(tf.transpose(tf.reshape(qkv, [B, T, 3, this.nHead, headSize]), [2, 0, 3, 1, 4]), [3, B * this.nHead, T, headSize]);
    const [q, k, v] = tf.unstack(heads) as tf.Tensor3D[];
    const keys = this.append(this.keys, layer, k);
    const values = this.append(this.values, layer, v);
    // A prompt with nothing before it is plain causal attention: the fused kernel where it runs,
    // so that the prompt's logits are the uncached forward's, bit for bit.
    const fused = past === 0 && T > 1 ? fusedCausalSelfAttention(qkv, B, T, this.nHead) : null;
    if (fused) return fused;
    const scores = tf.matMul(tf.mul(q, 1 / Math.sqrt(headSize)), keys, false, true); // (B·nHead, T, past + T)
    // One new position sees every cached one: no mask. Several see only those up to their own.
    const masked = T === 1 ? scores : tf.add(scores, tf.slice(causalMask, [past, 0], [T, past + T]));
    const y = tf.matMul(tf.softmax(masked), values); // (B·nHead, T, headSize)
    return tf.reshape(tf.transpose(tf.reshape(y, [B, this.nHead, T, headSize]), [0, 2, 1, 3]), [B * T, C]) as tf.Tensor2D;
  }

  /** Keep only these sequences (indices into the batch, in the order given): the others stopped. */
  keepSequences(rows: number[]): void {
    if (this.batchSize === undefined) return;
    if (rows.length === 0) return this.dispose();
    const index = tf.tensor1d(rows.flatMap((row) => Array.from({ length: this.nHead }, (_, h) => row * this.nHead + h)), "int32");
    for (const store of [this.keys, this.values]) {
      for (let layer = 0; layer < this.nLayer; layer++) {
        const old = store[layer]!;
        store[layer] = tf.keep(tf.gather(old, index));
        old.dispose();
      }
    }
    index.dispose();
  }

  /** Free every cached tensor; the cache is empty again and can be refilled. */
  dispose(): void {
    for (const store of [this.keys, this.values]) {
      store.forEach((t) => t?.dispose());
      store.fill(null);
    }
  }

  /** The layer's cached positions followed by the new ones; kept past the caller's tf.tidy. */
  private append(store: (tf.Tensor3D | null)[], layer: number, fresh: tf.Tensor3D): tf.Tensor3D {
    const old = store[layer];
    const all = tf.keep(old ? tf.concat([old, fresh], 1) : fresh) as tf.Tensor3D;
    old?.dispose();
    store[layer] = all;
    return all;
  }
}
