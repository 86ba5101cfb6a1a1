/**
 * A whole transformer block as one native op (native/src/block.cc): nanoGPT's Block without
 * biases and with exact GELU, forward and backward. Its result is the composite block's (the
 * same kernels, the same dropout masks, in the same order); what it saves is the engine's
 * bookkeeping of some twenty ops a block, which in a small model's training step costs as much
 * as their arithmetic. Null where it cannot run (not cpu with native kernels, other dtypes).
 *
 *   const y = fusedBlock(x, weights, { batch: B, t: T, nHead }) ?? compositeBlock(x);
 */
import * as tf from "@tensorflow/tfjs-core";
import { dropoutConstants } from "../engine/random-kernels.js";
import type { NativeAddon } from "./addon.js";
import { input, type NativeKernel } from "./kernel.js";
import { allocFloats, recycleFloats } from "./pool.js";
import { state } from "./state.js";
import { type CpuBackend, floats } from "./tensors.js";

/** The block's weights, PyTorch's (out, in): attn (3C, C), proj (C, C), fc (4C, C), fc2 (C, 4C). */
export interface BlockWeights {
  ln1: tf.Tensor1D;
  attn: tf.Tensor2D;
  proj: tf.Tensor2D;
  ln2: tf.Tensor1D;
  fc: tf.Tensor2D;
  fc2: tf.Tensor2D;
}

export interface BlockShape {
  batch: number;
  t: number;
  nHead: number;
}

/**
 * Dropout of the attention weights, after attn.c_proj and after mlp.c_proj, with three seeds
 * drawn in that order (as the composite block draws them), only once the op is sure to run.
 */
export interface BlockDropout {
  rate: number;
  nextSeed: () => number;
}

const BLOCK = "CourseBlock";
const BLOCK_GRAD = "CourseBlockGrad";
const WEIGHTS = ["ln1", "attn", "proj", "ln2", "fc", "fc2"] as const;
/** What the forward pass keeps, with its size in rows of R (B·T) × C floats, or "rows" (R) or "stats". */
const SAVED = [["h1", 1], ["mean1", "rows"], ["rstd1", "rows"], ["qkv", 3], ["stats", "stats"], ["a", 1], ["xm", 1], ["h2", 1],
  ["mean2", "rows"], ["rstd2", "rows"], ["f", 4], ["g", 4]] as const;

interface BlockAttrs extends BlockShape {
  c: number;
  /** key, threshold, scale of each dropout (threshold 0: none). */
  drop: number[];
}

function savedSizes({ batch, t, nHead, c }: BlockAttrs): number[] {
  const rows = batch * t;
  return SAVED.map(([, size]) => (size === "rows" ? rows : size === "stats" ? batch * nHead * t * 2 : rows * c * size));
}

function tail(attrs: BlockAttrs): number[] {
  return [attrs.batch, attrs.t, attrs.c, attrs.nHead, 1e-5, 1 / Math.sqrt(attrs.c / attrs.nHead), ...attrs.drop];
}

/** The block's cpu kernels (registered by install.ts with the other fused ones). */
export const blockKernels: NativeKernel[] = [
  {
    name: BLOCK,
    run(args, addon: NativeAddon) {
      const attrs = args.attrs as unknown as BlockAttrs;
      const f = (name: string) => floats(args.backend, input(args, name))!;
      const x = input(args, "x")!;
      const y = allocFloats(attrs.batch * attrs.t * attrs.c);
      const sizes = savedSizes(attrs);
      const saved = sizes.map((n) => allocFloats(n));
      addon.block(f("x"), y, ...WEIGHTS.map(f), ...saved, ...tail(attrs));
      return [args.backend.makeTensorInfo(x.shape, "float32", y),
        ...saved.map((values, i) => args.backend.makeTensorInfo([sizes[i]], "float32", values))];
    },
  },
  {
    name: BLOCK_GRAD,
    run(args, addon: NativeAddon) {
      const attrs = args.attrs as unknown as BlockAttrs;
      const f = (name: string) => floats(args.backend, input(args, name))!;
      const { batch, t, c } = attrs;
      const rows = batch * t;
      const dx = allocFloats(rows * c);
      const weightShapes = WEIGHTS.map((name) => input(args, name)!.shape);
      const grads = weightShapes.map((shape) => allocFloats(shape.reduce((a, b) => a * b, 1)));
      const scratch = [rows * c, rows * c, rows * 4 * c, rows * 4 * c].map((n) => allocFloats(n));
      addon.blockGrad(f("dy"), f("x"), ...WEIGHTS.map(f), ...SAVED.map(([name]) => f(name)), dx, ...grads, ...scratch, ...tail(attrs));
      for (const buffer of scratch) recycleFloats(buffer);
      return [args.backend.makeTensorInfo(input(args, "x")!.shape, "float32", dx),
        ...grads.map((values, i) => args.backend.makeTensorInfo(weightShapes[i], "float32", values))];
    },
  },
];

function runKernel(name: string, inputs: Record<string, tf.Tensor>, attrs: BlockAttrs): tf.Tensor[] {
  return ([] as tf.Tensor[]).concat(
    tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[],
  );
}

/**
 * y = x + drop(attn(ln1(x))), then y + drop(mlp(ln2(y))), for x (B·T, C): one native op
 * forward and one backward. Null where it cannot run natively.
 */
export function fusedBlock(x: tf.Tensor2D, weights: BlockWeights, shape: BlockShape, dropout?: BlockDropout): tf.Tensor2D | null {
  const s = state();
  if (!s.addon || !s.enabled || tf.getBackend() !== "cpu" || x.dtype !== "float32" || x.rank !== 2) return null;
  const c = x.shape[1];
  const { batch, t, nHead } = shape;
  if (x.shape[0] !== batch * t || c % nHead !== 0 || x.size === 0) return null;
  const expected: Record<(typeof WEIGHTS)[number], number[]> = { ln1: [c], attn: [3 * c, c], proj: [c, c], ln2: [c], fc: [4 * c, c], fc2: [c, 4 * c] };
  if (WEIGHTS.some((name) => weights[name].dtype !== "float32" || !tf.util.arraysEqual(weights[name].shape, expected[name]))) return null;
  const drop = [0, 1, 2].flatMap(() => {
    if (!dropout || dropout.rate === 0) return [0, 0, 1];
    const { key, threshold, scale } = dropoutConstants(dropout.rate, dropout.nextSeed() >>> 0);
    return [key, threshold, scale];
  });
  const attrs: BlockAttrs = { batch, t, nHead, c, drop };
  const op = tf.customGrad(((...args: unknown[]) => {
    const inputs = args.slice(0, 7) as tf.Tensor[];
    const save = args[7] as tf.GradSaveFunc;
    const named = { x: inputs[0], ...Object.fromEntries(WEIGHTS.map((name, i) => [name, inputs[i + 1]])) };
    const [y, ...saved] = runKernel(BLOCK, named, attrs);
    save([...inputs, ...saved]);
    tf.dispose(saved); // the saved clones keep their buffers
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, kept: tf.Tensor[]) => {
        const gradInputs: Record<string, tf.Tensor> = { dy, x: kept[0] };
        WEIGHTS.forEach((name, i) => (gradInputs[name] = kept[i + 1]));
        SAVED.forEach(([name], i) => (gradInputs[name] = kept[7 + i]));
        return runKernel(BLOCK_GRAD, gradInputs, attrs);
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, ...WEIGHTS.map((name) => weights[name])) as tf.Tensor2D;
}
