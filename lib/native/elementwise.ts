/** Elementwise kernels: broadcasting binary ops, unary math, softmax. */
import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { NativeAddon } from "./addon.js";
import { allocFloats } from "./pool.js";
import { type NativeKernel, input } from "./kernel.js";
import { type KernelArgs, floats, sizeOf, stridesOf } from "./tensors.js";

/** Codes of native/src/kernels.h's BinaryOp. */
const binaryOps = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, squaredDiff: 6, pow: 7 } as const;

/** Codes of native/src/kernels.h's UnaryOp, by tfjs kernel name. */
export const unaryOps = {
  Exp: 0, Log: 1, Sqrt: 2, Rsqrt: 3, Tanh: 4, Neg: 5, Square: 6, Abs: 7, Relu: 8, Sigmoid: 9,
  Reciprocal: 10, Erf: 11, Log1p: 12, Expm1: 13, Sin: 16, Cos: 17, Sign: 18,
} as const;

/** Broadcast shape of two shapes (numpy rules), or null if they do not broadcast. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] | null {
  const rank = Math.max(a.length, b.length);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    shape.push(da === 1 ? db : da);
  }
  return shape;
}

/** Strides of `shape` read along `outShape`: 0 on the dimensions it is broadcast over. */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): Int32Array {
  const strides = stridesOf(shape);
  const out = new Int32Array(outShape.length);
  const offset = outShape.length - shape.length;
  for (let i = 0; i < shape.length; i++) out[offset + i] = shape[i] === 1 ? 0 : strides[i];
  return out;
}

const unitStride = Int32Array.of(1);

export function binaryOp(args: KernelArgs, addon: NativeAddon, op: keyof typeof binaryOps, a: TensorInfo, b: TensorInfo): TensorInfo | null {
  const aValues = floats(args.backend, a);
  const bValues = floats(args.backend, b);
  if (!aValues || !bValues) return null;
  const outShape = broadcastShape(a.shape, b.shape);
  if (!outShape || outShape.length > 8) return null;
  const size = sizeOf(outShape);
  const out = allocFloats(size);
  if (sizeOf(a.shape) === size && sizeOf(b.shape) === size) {
    addon.binary(binaryOps[op], aValues, bValues, out, Int32Array.of(size), unitStride, unitStride);
  } else {
    addon.binary(binaryOps[op], aValues, bValues, out, Int32Array.from(outShape),
      broadcastStrides(a.shape, outShape), broadcastStrides(b.shape, outShape));
  }
  return args.backend.makeTensorInfo(outShape, "float32", out);
}

function binaryKernel(name: string, op: keyof typeof binaryOps): NativeKernel {
  return { name, run: (args, addon) => binaryOp(args, addon, op, input(args, "a")!, input(args, "b")!) };
}

export const binaryKernels: NativeKernel[] = [
  binaryKernel("Add", "add"),
  binaryKernel("Sub", "sub"),
  binaryKernel("Multiply", "mul"),
  binaryKernel("RealDiv", "div"),
  binaryKernel("Maximum", "max"),
  binaryKernel("Minimum", "min"),
  binaryKernel("SquaredDifference", "squaredDiff"),
  binaryKernel("Pow", "pow"),
];

export const unaryKernels: NativeKernel[] = Object.entries(unaryOps).map(([name, op]) => ({
  name,
  run(args, addon) {
    const x = input(args, "x")!;
    const values = floats(args.backend, x);
    if (!values) return null;
    const out = allocFloats(sizeOf(x.shape));
    addon.unary(op, values, out);
    return args.backend.makeTensorInfo(x.shape, "float32", out);
  },
}));

export const softmaxKernel: NativeKernel = {
  name: "Softmax",
  run(args, addon) {
    const logits = input(args, "logits")!;
    const { dim } = args.attrs as { dim: number };
    const rank = logits.shape.length;
    if (dim !== -1 && dim !== rank - 1) return null;
    const values = floats(args.backend, logits);
    if (!values) return null;
    const size = sizeOf(logits.shape);
    const cols = logits.shape[rank - 1];
    const out = allocFloats(size);
    addon.softmax(values, out, size / cols, cols);
    return args.backend.makeTensorInfo(logits.shape, "float32", out);
  },
};
