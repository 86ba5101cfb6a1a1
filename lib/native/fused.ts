/**
 * Fused ops for the cpu backend with native kernels: LayerNorm, GELU, causal self-attention
 * and the AdamW update, each one kernel instead of the 5–20 tfjs kernels (and their passes over
 * memory and engine overhead) that their composite forms take.
 * Each returns null (or false) when it cannot run — another backend, native kernels not
 * loaded or switched off, other dtypes — and the caller runs its composite form, so results
 * never depend on which path ran:
 *
 *   const y = fusedLayerNorm(x, gain, eps) ?? compositeLayerNorm(x, gain, eps);
 */
import * as tf from "@tensorflow/tfjs-core";
import type { NativeAddon } from "./addon.js";
import { dropoutConstants } from "../engine/random-kernels.js";
import { input, type NativeKernel } from "./kernel.js";
import { allocFloats, rawEntry, rawValuesOf } from "./pool.js";
import { state } from "./state.js";
import { type CpuBackend, floats, ints, sizeOf } from "./tensors.js";

function fusedAddon(): NativeAddon | null {
  const s = state();
  return s.addon && s.enabled && tf.getBackend() === "cpu" ? s.addon : null;
}

/** Whether the fused ops run natively right now (cpu backend, addon loaded and enabled). */
export function fusedOpsAvailable(): boolean {
  return fusedAddon() != null;
}

const LAYER_NORM = "CourseLayerNorm";
const LAYER_NORM_GRAD = "CourseLayerNormGrad";
const GELU = "CourseGelu";
const GELU_GRAD = "CourseGeluGrad";
const CROSS_ENTROPY = "CourseCrossEntropy";
const CROSS_ENTROPY_GRAD = "CourseCrossEntropyGrad";
const ATTENTION = "CourseCausalAttention";
const ATTENTION_GRAD = "CourseCausalAttentionGrad";

interface AttentionAttrs {
  batch: number;
  t: number;
  nHead: number;
  scale: number;
  /** Dropout of the attention weights (threshold 0: none); see lib/engine/random-kernels.ts. */
  dropKey: number;
  dropThreshold: number;
  dropScale: number;
}

function dropoutArgs({ dropKey, dropThreshold, dropScale }: AttentionAttrs): [] | [number, number, number] {
  return dropThreshold > 0 ? [dropKey, dropThreshold, dropScale] : [];
}

/** The custom cpu kernels behind the fused ops (registered by install.ts). */
export const fusedKernels: NativeKernel[] = [
  {
    name: LAYER_NORM,
    run(args, addon) {
      const x = input(args, "x")!;
      const gain = input(args, "gain")!;
      const cols = x.shape[x.shape.length - 1];
      const rows = sizeOf(x.shape) / cols;
      const [y, mean, rstd] = [allocFloats(rows * cols), allocFloats(rows), allocFloats(rows)];
      addon.layerNorm(floats(args.backend, x)!, floats(args.backend, gain)!, y, mean, rstd, rows, cols, args.attrs!.eps as number);
      return [
        args.backend.makeTensorInfo(x.shape, "float32", y),
        args.backend.makeTensorInfo([rows], "float32", mean),
        args.backend.makeTensorInfo([rows], "float32", rstd),
      ];
    },
  },
  {
    name: LAYER_NORM_GRAD,
    run(args, addon) {
      const [dy, x, mean, rstd, gain] = ["dy", "x", "mean", "rstd", "gain"].map((name) => input(args, name)!);
      const cols = x.shape[x.shape.length - 1];
      const rows = sizeOf(x.shape) / cols;
      const [dx, dgain] = [allocFloats(rows * cols), allocFloats(cols)];
      const f = (t: tf.TensorInfo) => floats(args.backend, t)!;
      addon.layerNormGrad(f(dy), f(x), f(mean), f(rstd), f(gain), dx, dgain, rows, cols);
      return [args.backend.makeTensorInfo(x.shape, "float32", dx), args.backend.makeTensorInfo(gain.shape, "float32", dgain)];
    },
  },
  {
    name: GELU,
    run(args, addon) {
      const x = input(args, "x")!;
      const y = allocFloats(sizeOf(x.shape));
      addon.gelu(floats(args.backend, x)!, y);
      return args.backend.makeTensorInfo(x.shape, "float32", y);
    },
  },
  {
    name: GELU_GRAD,
    run(args, addon) {
      const dy = input(args, "dy")!;
      const x = input(args, "x")!;
      const dx = allocFloats(sizeOf(x.shape));
      addon.geluGrad(floats(args.backend, dy)!, floats(args.backend, x)!, dx);
      return args.backend.makeTensorInfo(x.shape, "float32", dx);
    },
  },
  {
    name: CROSS_ENTROPY,
    run(args, addon) {
      const logits = input(args, "logits")!;
      const [rows, cols] = logits.shape;
      const lse = allocFloats(rows);
      const loss = addon.crossEntropy(floats(args.backend, logits)!, ints(args.backend, input(args, "targets"))!, lse, rows, cols);
      return [args.backend.makeTensorInfo([], "float32", Float32Array.of(loss)), args.backend.makeTensorInfo([rows], "float32", lse)];
    },
  },
  {
    name: CROSS_ENTROPY_GRAD,
    run(args, addon) {
      const [dy, logits, lse] = ["dy", "logits", "lse"].map((name) => input(args, name)!);
      const [rows, cols] = logits.shape;
      const dx = allocFloats(rows * cols);
      const scale = floats(args.backend, dy)![0]; // d(loss), a scalar
      addon.crossEntropyGrad(floats(args.backend, logits)!, ints(args.backend, input(args, "targets"))!, floats(args.backend, lse)!, dx,
        rows, cols, scale / rows);
      return args.backend.makeTensorInfo(logits.shape, "float32", dx);
    },
  },
  {
    name: ATTENTION,
    run(args, addon) {
      const qkv = input(args, "qkv")!;
      const { batch, t, nHead, scale } = args.attrs as unknown as AttentionAttrs;
      const c = qkv.shape[1] / 3;
      // Each attention row's max and 1 / sum: the backward pass recomputes the weights from
      // them instead of keeping (B·nHead, T, T) of them per layer.
      const [y, stats] = [allocFloats(batch * t * c), allocFloats(batch * nHead * t * 2)];
      addon.attention(floats(args.backend, qkv)!, y, stats, batch, t, nHead, c, scale, ...dropoutArgs(args.attrs as unknown as AttentionAttrs));
      return [args.backend.makeTensorInfo([batch * t, c], "float32", y),
        args.backend.makeTensorInfo([batch * nHead, t, 2], "float32", stats)];
    },
  },
  {
    name: ATTENTION_GRAD,
    run(args, addon) {
      const [dy, qkv, stats] = ["dy", "qkv", "stats"].map((name) => input(args, name)!);
      const { batch, t, nHead, scale } = args.attrs as unknown as AttentionAttrs;
      const c = qkv.shape[1] / 3;
      const dqkv = allocFloats(batch * t * 3 * c);
      const f = (x: tf.TensorInfo) => floats(args.backend, x)!;
      addon.attentionGrad(f(dy), f(qkv), f(stats), dqkv, batch, t, nHead, c, scale, ...dropoutArgs(args.attrs as unknown as AttentionAttrs));
      return args.backend.makeTensorInfo(qkv.shape, "float32", dqkv);
    },
  },
];

function runKernel(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, number> = {}): tf.Tensor[] {
  return ([] as tf.Tensor[]).concat(
    tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs) as tf.Tensor | tf.Tensor[],
  );
}

/**
 * LayerNorm over the last axis with a gain and no bias: (x − mean) / sqrt(var + eps) · gain,
 * with its gradient; null where it cannot run natively.
 */
export function fusedLayerNorm<T extends tf.Tensor>(x: T, gain: tf.Tensor, eps = 1e-5): T | null {
  if (!fusedAddon() || x.dtype !== "float32" || gain.dtype !== "float32" || x.rank < 1 || x.size === 0) return null;
  if (gain.rank !== 1 || gain.shape[0] !== x.shape[x.rank - 1]) return null;
  const op = tf.customGrad(((input: tf.Tensor, g: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, mean, rstd] = runKernel(LAYER_NORM, { x: input, gain: g }, { eps });
    save([input, g, mean, rstd]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, gs, means, rstds] = saved;
        return runKernel(LAYER_NORM_GRAD, { dy, x: xs, mean: means, rstd: rstds, gain: gs });
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, gain) as T;
}

/** Exact GELU, x·Φ(x) (PyTorch's nn.GELU()), with its gradient; null where it cannot run natively. */
export function fusedGelu<T extends tf.Tensor>(x: T): T | null {
  if (!fusedAddon() || x.dtype !== "float32" || x.size === 0) return null;
  const op = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([input]);
    return {
      value: runKernel(GELU, { x: input })[0],
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => runKernel(GELU_GRAD, { dy, x: saved[0] }),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as T;
}

/**
 * Causal multi-head self-attention from the fused projection: qkv is (B·T, 3C), rows in batch
 * then time order, columns [q | k | v] with nHead heads of C / nHead side by side (nanoGPT's
 * c_attn output). Returns y (B·T, C), heads side by side: softmax(q kᵀ · scale + causal mask) v,
 * scale defaulting to 1/sqrt(C / nHead). `dropout` drops attention weights as
 * seededDropout(weights, rate, seed) would on the (B·nHead, T, T) weights: the same mask.
 * Null where it cannot run natively.
 */
export function fusedCausalSelfAttention(qkv: tf.Tensor2D, batch: number, t: number, nHead: number, scale?: number,
  dropout?: { rate: number; seed: number }): tf.Tensor2D | null {
  if (!fusedAddon() || qkv.dtype !== "float32" || qkv.rank !== 2 || qkv.size === 0) return null;
  const c = qkv.shape[1] / 3;
  if (!Number.isInteger(c) || c % nHead !== 0 || qkv.shape[0] !== batch * t) return null;
  const drop = dropout && dropout.rate > 0 ? dropoutConstants(dropout.rate, dropout.seed >>> 0) : null;
  const attrs: AttentionAttrs = {
    batch, t, nHead, scale: scale ?? 1 / Math.sqrt(c / nHead),
    dropKey: drop?.key ?? 0, dropThreshold: drop?.threshold ?? 0, dropScale: drop?.scale ?? 1,
  };
  const op = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, stats] = runKernel(ATTENTION, { qkv: input }, attrs as unknown as Record<string, number>);
    save([input, stats]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        runKernel(ATTENTION_GRAD, { dy, qkv: saved[0], stats: saved[1] }, attrs as unknown as Record<string, number>),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(qkv) as tf.Tensor2D;
}

/**
 * Mean cross-entropy of logits (N, V) against int32 targets (N), with its gradient
 * (softmax − onehot) / N: one pass per row each way, keeping each row's log-sum-exp rather than
 * the (N, V) log-probabilities. Null where it cannot run natively.
 */
export function fusedCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar | null {
  if (!fusedAddon() || logits.dtype !== "float32" || targets.dtype !== "int32" || logits.size === 0) return null;
  if (logits.rank !== 2 || targets.rank !== 1 || targets.shape[0] !== logits.shape[0]) return null;
  const op = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const [loss, lse] = runKernel(CROSS_ENTROPY, { logits: x, targets });
    save([x, targets, lse]);
    lse.dispose(); // (the saved clone keeps the buffer)
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => runKernel(CROSS_ENTROPY_GRAD, { dy, logits: saved[0], targets: saved[1], lse: saved[2] }),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(logits) as tf.Scalar;
}

/**
 * Σ over the tensors of Σ x², read in place (each tensor's sum in double, the tensors added in
 * order): one native pass per tensor instead of a square, a sum and an add kernel. Null where it
 * cannot run natively.
 */
export function fusedSumOfSquares(tensors: tf.Tensor[]): number | null {
  const addon = fusedAddon();
  if (!addon || tensors.some((t) => t.dtype !== "float32")) return null;
  const backend = tf.backend() as unknown as CpuBackend;
  const arrays = tensors.map((t) => floats(backend, t));
  if (arrays.some((a) => a == null)) return null;
  let total = 0;
  arrays.forEach((values, i) => {
    total += addon.sumOfSquares(values!.length === tensors[i].size ? values! : values!.subarray(0, tensors[i].size));
  });
  return total;
}

export interface FusedAdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  /** Multiplies the parameter first: 1 − lr·weightDecay, or 1 for no decay. */
  decay: number;
  /** lr / (1 − beta1^t). */
  stepSize: number;
  /** 1 / sqrt(1 − beta2^t). */
  invSqrtCorrection2: number;
  /** Multiplies the gradient first (clipping's factor); default 1. */
  gradScale?: number;
}

/**
 * The variable's buffer, first copied to a buffer of its own if another tensor shares it (as
 * right after tf.variable(t), while t lives): writing in place must not change other tensors.
 */
function ownBuffer(backend: CpuBackend, variable: tf.Variable): Float32Array | null {
  if (variable.dtype !== "float32") return null;
  const buffer = () => {
    const entry = rawEntry(backend, variable.dataId);
    const values = rawValuesOf(entry);
    return entry != null && values instanceof Float32Array && values.length === variable.size ? { entry, values } : null;
  };
  let found = buffer();
  if (found != null && found.entry.refCount > 1) {
    const copy = tf.tensor(Float32Array.from(found.values), variable.shape, "float32");
    variable.assign(copy);
    copy.dispose();
    found = buffer();
    if (found != null && found.entry.refCount !== 1) return null;
  }
  return found?.values ?? null;
}

/**
 * One AdamW update of `param` and its moments `m`, `v`, in place (as PyTorch does):
 *   m ← β1·m + (1−β1)·s·g;  v ← β2·v + (1−β2)·(s·g)²;  p ← p·decay − stepSize · m / (sqrt(v)·invSqrtCorrection2 + eps)
 * Returns false, changing nothing, where it cannot (then run the tf ops instead). Because it
 * writes into the variables' buffers, arrays read earlier with dataSync() from them change too:
 * copy them if they must keep their values. (A buffer shared with another tensor is first
 * replaced by a copy, so other tensors never change.)
 */
export function fusedAdamWStep(param: tf.Variable, m: tf.Variable, v: tf.Variable, grad: tf.Tensor, options: FusedAdamWOptions): boolean {
  const addon = fusedAddon();
  if (!addon) return false;
  const backend = tf.backend() as unknown as CpuBackend;
  const size = param.size;
  if (m.size !== size || v.size !== size || grad.size !== size) return false;
  if (param.dataId === m.dataId || param.dataId === v.dataId || m.dataId === v.dataId) return false;
  const g = floats(backend, grad);
  const buffers = [param, m, v].map((t) => ownBuffer(backend, t));
  if (!g || g.length !== size || buffers.some((b) => b == null)) return false;
  const [p, mv, vv] = buffers as Float32Array[];
  addon.adamW(p, mv, vv, g, options.beta1, options.beta2, options.eps, options.decay, options.stepSize,
    options.invSqrtCorrection2, options.gradScale ?? 1);
  return true;
}
