/** Sum / Mean / Max / Min / Prod over any axes of a float32 tensor. */
import { util } from "@tensorflow/tfjs-core";
import type { NativeAddon } from "./addon.js";
import { allocFloats } from "./pool.js";
import { type NativeKernel, input } from "./kernel.js";
import { type KernelArgs, floats, sizeOf, stridesOf } from "./tensors.js";

/** Codes of native/src/kernels.h's ReduceOp. */
const reduceOps = { sum: 0, mean: 1, max: 2, min: 3, prod: 4 } as const;

function reduceKernel(name: string, op: keyof typeof reduceOps, axisAttr: string): NativeKernel {
  return {
    name,
    run(args: KernelArgs, addon: NativeAddon) {
      const x = input(args, "x")!;
      let values = floats(args.backend, x);
      if (!values) return null;
      const shape = x.shape;
      const axes = [...new Set(util.parseAxisParam(args.attrs![axisAttr] as number | number[], shape))].sort((a, b) => a - b);
      if (axes.length === 0) return null;
      const keepDims = Boolean(args.attrs!.keepDims);
      const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
      const red = sizeOf(axes.map((i) => shape[i]));
      let pre: number, post: number;
      if (axes[axes.length - 1] - axes[0] === axes.length - 1) {
        pre = sizeOf(shape.slice(0, axes[0]));
        post = sizeOf(shape.slice(axes[axes.length - 1] + 1));
      } else {
        // Scattered axes: move them innermost first.
        const perm = [...kept, ...axes];
        const strides = stridesOf(shape);
        const moved = new Float32Array(values.length);
        addon.stridedCopy(values, moved, Int32Array.from(perm.map((i) => shape[i])), Int32Array.from(perm.map((i) => strides[i])), 0);
        values = moved;
        pre = sizeOf(kept.map((i) => shape[i]));
        post = 1;
      }
      const out = allocFloats(pre * post);
      addon.reduce(reduceOps[op], values, out, pre, red, post);
      const outShape = keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept.map((i) => shape[i]);
      return args.backend.makeTensorInfo(outShape, "float32", out);
    },
  };
}

export const reduceKernels: NativeKernel[] = [
  reduceKernel("Sum", "sum", "axis"),
  reduceKernel("Mean", "mean", "axis"),
  reduceKernel("Max", "max", "reductionIndices"),
  reduceKernel("Min", "min", "axis"),
  reduceKernel("Prod", "prod", "axis"),
];
