/**
 * Activation patching, clean → corrupted: run the corrupted prompt with one activation (one layer
 * and position, one head, …) replaced by its value on the clean prompt, and measure how much of the
 * clean behaviour comes back with a metric of the logits (logit difference by default). Each
 * function returns a tensor ready to plot (a heatmap's rows and columns), which the caller disposes.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ActivationCache } from "./cache.js";
import type { HookedGPT, Tokens } from "./hooked.js";

/** A number from the logits (batch, pos, vocab) of a run; higher means more clean-like. */
export type Metric = (logits: tf.Tensor3D) => number | Promise<number>;

/**
 * Mean over the batch of logit[correct] − logit[incorrect] at `position` (default the last).
 * correct/incorrect: one id for every row, or one per batch row.
 */
export function logitDiff(correct: number | number[], incorrect: number | number[], position = -1): Metric {
  return async (logits) => {
    const [B, T, V] = logits.shape;
    const pos = position < 0 ? position + T : position;
    if (!(pos >= 0 && pos < T)) throw new RangeError(`logitDiff: position ${position} is outside the ${T} positions`);
    const ids = (t: number | number[]) => (typeof t === "number" ? new Array<number>(B).fill(t) : t);
    const [good, bad] = [ids(correct), ids(incorrect)];
    if (good.length !== B || bad.length !== B) throw new RangeError(`logitDiff: expected ${B} token ids (one per batch row)`);
    const at = tf.tidy(() => tf.reshape(tf.slice(logits, [0, pos, 0], [B, 1, V]), [B * V]));
    const values = await at.data();
    at.dispose();
    let sum = 0;
    for (let b = 0; b < B; b++) sum += values[b * V + good[b]] - values[b * V + bad[b]];
    return sum / B;
  };
}

export interface PatchOptions {
  /** The corrupted prompt, the same shape as the clean one. */
  corrupted: Tokens;
  /** The clean run's cache, without a posSlice, holding the patched hook points. */
  clean: ActivationCache;
  metric: Metric;
}

/** The residual stream at `hook` (resid_pre, resid_mid or resid_post) patched per layer × position: (nLayer, pos). */
export function patchResidual(model: HookedGPT, options: PatchOptions, hook: "resid_pre" | "resid_mid" | "resid_post" = "resid_pre"): Promise<tf.Tensor2D> {
  return patchGrid(model, options, hook, "position") as Promise<tf.Tensor2D>;
}

/** Each MLP's output patched whole: (nLayer). */
export function patchMlp(model: HookedGPT, options: PatchOptions): Promise<tf.Tensor1D> {
  return patchGrid(model, options, "mlp_out", "none") as Promise<tf.Tensor1D>;
}

/** Each MLP's output patched per layer × position: (nLayer, pos). */
export function patchMlpByPos(model: HookedGPT, options: PatchOptions): Promise<tf.Tensor2D> {
  return patchGrid(model, options, "mlp_out", "position") as Promise<tf.Tensor2D>;
}

/** Each attention head's output (its hook_z) patched at every position: (nLayer, nHead). */
export function patchAttnHeads(model: HookedGPT, options: PatchOptions): Promise<tf.Tensor2D> {
  return patchGrid(model, options, "z", "head") as Promise<tf.Tensor2D>;
}

/** Each head's output patched per position: (nLayer, pos, nHead), as TransformerLens's attn_head_out_by_pos. */
export function patchAttnHeadsByPos(model: HookedGPT, options: PatchOptions): Promise<tf.Tensor3D> {
  return patchGrid(model, options, "z", "position×head") as Promise<tf.Tensor3D>;
}

type Cells = "none" | "position" | "head" | "position×head";

async function patchGrid(model: HookedGPT, options: PatchOptions, short: string, cells: Cells): Promise<tf.Tensor> {
  const { clean, metric } = options;
  if (clean.posSlice !== undefined) throw new Error("patching: the clean cache was made with a posSlice; cache every position");
  const { nLayer, nHead } = model.config;
  const corrupted = Array.isArray(options.corrupted) ? tf.tensor2d(Array.isArray(options.corrupted[0]) ? (options.corrupted as number[][]) : [options.corrupted as number[]], undefined, "int32") : options.corrupted;
  try {
    const T = corrupted.shape[1];
    const reference = clean.get(short, 0);
    if (reference.shape[1] !== T || reference.shape[0] !== corrupted.shape[0]) {
      throw new RangeError(`patching: the corrupted tokens [${corrupted.shape}] and the clean run [${reference.shape.slice(0, 2)}] differ in shape`);
    }
    const positions = cells === "position" || cells === "position×head" ? T : 1;
    const heads = cells === "head" || cells === "position×head" ? nHead : 1;
    const values: number[] = [];
    for (let layer = 0; layer < nLayer; layer++) {
      const cleanValue = clean.get(short, layer);
      for (let pos = 0; pos < positions; pos++) {
        for (let head = 0; head < heads; head++) {
          const mask = tf.tidy(() => cellMask(cleanValue.shape, cells, pos, head));
          try {
            const patch = (corruptedValue: tf.Tensor) => tf.where(mask, cleanValue, corruptedValue);
            const logits = model.runWithHooks(corrupted, { fwdHooks: [[nameOf(short, layer), patch]] });
            try {
              values.push(await metric(logits));
            } finally {
              logits.dispose();
            }
          } finally {
            mask.dispose();
          }
        }
      }
    }
    const shape = cells === "none" ? [nLayer] : cells === "position" ? [nLayer, T] : cells === "head" ? [nLayer, nHead] : [nLayer, T, nHead];
    return tf.tensor(values, shape, "float32");
  } finally {
    if (corrupted !== options.corrupted) corrupted.dispose();
  }
}

function nameOf(short: string, layer: number): string {
  return short === "z" ? `blocks.${layer}.attn.hook_z` : `blocks.${layer}.hook_${short}`;
}

/** True where the clean value goes in: (1, T, 1) for a position, (1, 1, H, 1) for a head, broadcast to the activation. */
function cellMask(shape: number[], cells: Cells, pos: number, head: number): tf.Tensor {
  const dims = shape.map(() => 1);
  const onAxis = (axis: number, index: number) => {
    const size = shape[axis];
    const d = dims.map((n, a) => (a === axis ? size : 1));
    return tf.reshape(tf.cast(tf.oneHot([index], size), "bool"), d);
  };
  const parts: tf.Tensor[] = [];
  if (cells === "position" || cells === "position×head") parts.push(onAxis(1, pos));
  if (cells === "head" || cells === "position×head") parts.push(onAxis(2, head));
  const mask = parts.length === 0 ? tf.cast(tf.ones(dims), "bool") : parts.reduce((a, b) => tf.logicalAnd(a, b));
  return tf.broadcastTo(mask, shape);
}
