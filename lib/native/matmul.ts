/** BatchMatMul and _FusedMatMul through the addon's sgemm (OpenBLAS when available). */
import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { NativeAddon } from "./addon.js";
import { allocFloats } from "./pool.js";
import { type NativeKernel, input } from "./kernel.js";
import { type KernelArgs, floats, sizeOf } from "./tensors.js";
import { binaryOp, broadcastShape, unaryOps } from "./elementwise.js";

function matMul(args: KernelArgs, addon: NativeAddon, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): TensorInfo | null {
  const aValues = floats(args.backend, a);
  const bValues = floats(args.backend, b);
  if (!aValues || !bValues || a.shape.length < 2 || b.shape.length < 2) return null;
  const aRank = a.shape.length, bRank = b.shape.length;
  const k = transposeA ? a.shape[aRank - 2] : a.shape[aRank - 1];
  const m = transposeA ? a.shape[aRank - 1] : a.shape[aRank - 2];
  const kB = transposeB ? b.shape[bRank - 1] : b.shape[bRank - 2];
  const n = transposeB ? b.shape[bRank - 2] : b.shape[bRank - 1];
  if (k !== kB) return null;
  const batchA = sizeOf(a.shape.slice(0, -2));
  const batchB = sizeOf(b.shape.slice(0, -2));
  const batchShape = broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  if (!batchShape) return null;
  const batch = sizeOf(batchShape);
  // tfjs pairs batch i of the output with A[i % batchA] and B[i % batchB]; that only
  // means broadcasting when each side is either complete or a single matrix.
  if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return null;
  const out = allocFloats(batch * m * n);
  addon.matMul(aValues, bValues, out, batch, batchA, batchB, m, n, k, transposeA, transposeB);
  return args.backend.makeTensorInfo([...batchShape, m, n], "float32", out);
}

export const batchMatMulKernel: NativeKernel = {
  name: "BatchMatMul",
  run(args, addon) {
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    return matMul(args, addon, input(args, "a")!, input(args, "b")!, transposeA, transposeB);
  },
};

/** Matmul, optional bias, optional relu; other activations and prelu fall back. */
export const fusedMatMulKernel: NativeKernel = {
  name: "_FusedMatMul",
  run(args, addon) {
    const { transposeA, transposeB, activation } = args.attrs as { transposeA: boolean; transposeB: boolean; activation?: string };
    if (input(args, "preluActivationWeights") != null) return null;
    if (activation != null && activation !== "linear" && activation !== "relu") return null;
    const bias = input(args, "bias");
    if (bias != null && !floats(args.backend, bias)) return null;
    const product = matMul(args, addon, input(args, "a")!, input(args, "b")!, transposeA, transposeB);
    if (!product) return null;
    let result = product;
    if (bias != null) {
      const withBias = binaryOp(args, addon, "add", product, bias);
      disposeInfo(args, product);
      if (!withBias) return null;
      result = withBias;
    }
    if (activation === "relu") {
      const values = floats(args.backend, result)!;
      addon.unary(unaryOps.Relu, values, values);
    }
    return result;
  },
};

function disposeInfo(args: KernelArgs, t: TensorInfo): void {
  (args.backend as unknown as { disposeIntermediateTensorInfo(t: TensorInfo): void }).disposeIntermediateTensorInfo(t);
}
