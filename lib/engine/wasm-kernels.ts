import * as tf from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

/**
 * Fixes to tfjs's WebAssembly backend for training transformers.
 *
 * 1. Matrix products with transposeA/transposeB run 6-18x slower than plain ones: only
 *    untransposed inputs take XNNPACK's fast path. Every matMul gradient uses the flags
 *    (dA = dY·Bᵀ, dB = Aᵀ·dY) and so does attention (q·kᵀ), so we transpose the operand
 *    first (a cheap copy) and multiply without flags.
 * 2. UnsortedSegmentSum, the gradient of gather (an embedding lookup), has no wasm kernel.
 */
export function installWasmKernelFixes(): string[] {
  const fixed: string[] = [];
  for (const kernelName of [tf.BatchMatMul, tf._FusedMatMul]) {
    const original = tf.getKernel(kernelName, "wasm");
    if (original == null || isWrapped(original)) continue;
    tf.unregisterKernel(kernelName, "wasm");
    tf.registerKernel({ ...original, kernelFunc: untransposedMatMul(original.kernelFunc), wrapped: true } as tf.KernelConfig);
    fixed.push(kernelName);
  }
  if (tf.getKernel(tf.UnsortedSegmentSum, "wasm") == null) {
    tf.registerKernel({ kernelName: tf.UnsortedSegmentSum, backendName: "wasm", kernelFunc: unsortedSegmentSum as tf.KernelFunc });
    fixed.push(tf.UnsortedSegmentSum);
  }
  return fixed;
}

function isWrapped(config: tf.KernelConfig): boolean {
  return (config as tf.KernelConfig & { wrapped?: boolean }).wrapped === true;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

function untransposedMatMul(kernelFunc: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return kernelFunc(args);
    const backend = args.backend as BackendWasm;
    const a = args.inputs.a as tf.TensorInfo;
    const b = args.inputs.b as tf.TensorInfo;
    const a2 = transposeA ? swapLastTwoDims(a, backend) : a;
    const b2 = transposeB ? swapLastTwoDims(b, backend) : b;
    try {
      return kernelFunc({
        ...args,
        inputs: { ...args.inputs, a: a2, b: b2 },
        attrs: { ...args.attrs, transposeA: false, transposeB: false },
      });
    } finally {
      if (a2 !== a) backend.disposeData(a2.dataId);
      if (b2 !== b) backend.disposeData(b2.dataId);
    }
  };
}

function swapLastTwoDims(x: tf.TensorInfo, backend: BackendWasm): tf.TensorInfo {
  const rank = x.shape.length;
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  const transpose = tf.getKernel(tf.Transpose, "wasm").kernelFunc;
  return transpose({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
}

/** out[segmentIds[i], ...] += x[i, ...], for a flat (1-D) segmentIds; ids outside [0, numSegments) are dropped. */
function unsortedSegmentSum(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const x = args.inputs.x as tf.TensorInfo;
  const segmentIds = args.inputs.segmentIds as tf.TensorInfo;
  const { numSegments } = args.attrs as { numSegments: number };
  const rows = tf.util.sizeFromShape(segmentIds.shape);
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const rowSize = tf.util.sizeFromShape(outShape) / numSegments;
  const out = backend.makeOutput(outShape, x.dtype);
  // Views are taken after makeOutput: allocating may grow (and so detach) the wasm heap.
  const outValues = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
  const xValues = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const ids = backend.typedArrayFromHeap(segmentIds) as Int32Array;
  outValues.fill(0);
  for (let i = 0; i < rows; i++) {
    const segment = ids[i];
    if (segment < 0 || segment >= numSegments) continue;
    const from = i * rowSize;
    const to = segment * rowSize;
    for (let j = 0; j < rowSize; j++) outValues[to + j] += xValues[from + j];
  }
  return out;
}
