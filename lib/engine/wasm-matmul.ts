import * as tf from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

/**
 * Matrix products on tfjs's wasm backend, routed to its fast path.
 *
 * The wasm BatchMatMul uses XNNPACK only when neither operand is transposed AND both have a
 * batch of one; everything else runs a plain C loop 10-30x slower per multiply. Training a
 * GPT hits the slow loop everywhere: every matMul gradient uses the transpose flags
 * (dA = dY·Bᵀ, dB = Aᵀ·dY), attention multiplies batches (q·kᵀ per head), and x[B,T,C]·W
 * has a batch. So we
 *   1. transpose a flagged operand first (a cheap copy) and drop the flag,
 *   2. fold a's batch into its rows when b has no batch: [B,T,C]·[C,N] = [B·T,C]·[C,N],
 *   3. run a batched product as one fast 2-D product per batch element, on views into the
 *      operands' memory (no copies).
 */
export function fastBatchMatMul(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (a.dtype !== "float32" || b.dtype !== "float32") return original(args);
    return withTransposesApplied(args, (a2, b2) =>
      multiply(a2, b2, args.backend as BackendWasm) ??
        original({ ...args, inputs: { a: a2, b: b2 }, attrs: untransposed(args.attrs) }));
  };
}

/** _FusedMatMul (bias, activation) keeps tfjs's kernel; only the transposes are taken out. */
export function untransposedFusedMatMul(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return original(args);
    return withTransposesApplied(args, (a2, b2) =>
      original({ ...args, inputs: { ...args.inputs, a: a2, b: b2 }, attrs: untransposed(args.attrs) }));
  };
}

/** Runs `run` on inputs a and b with their transpose flags applied as copies, freed afterwards. */
function withTransposesApplied(
  args: Parameters<tf.KernelFunc>[0],
  run: (a: tf.TensorInfo, b: tf.TensorInfo) => ReturnType<tf.KernelFunc>,
): ReturnType<tf.KernelFunc> {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  const backend = args.backend as BackendWasm;
  const a2 = transposeA ? swapLastTwoDims(a, backend) : a;
  const b2 = transposeB ? swapLastTwoDims(b, backend) : b;
  try {
    return run(a2, b2);
  } finally {
    if (a2 !== a) backend.disposeData(a2.dataId);
    if (b2 !== b) backend.disposeData(b2.dataId);
  }
}

function untransposed(attrs?: tf.NamedAttrMap): tf.NamedAttrMap {
  return { ...attrs, transposeA: false, transposeB: false };
}

function swapLastTwoDims(x: tf.TensorInfo, backend: BackendWasm): tf.TensorInfo {
  const rank = x.shape.length;
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  const transpose = tf.getKernel(tf.Transpose, "wasm").kernelFunc;
  return transpose({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
}

/** a[..., M, K]·b[..., K, N] on XNNPACK, or undefined for batch shapes left to tfjs. */
function multiply(a: tf.TensorInfo, b: tf.TensorInfo, backend: BackendWasm): tf.TensorInfo | undefined {
  const [m, k] = a.shape.slice(-2);
  const [k2, n] = b.shape.slice(-2);
  if (k !== k2 || m * k * n === 0) return undefined; // tfjs reports mismatches and handles empties
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  const batch = Math.max(batchA, batchB);
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return undefined;
  const outShape = [...tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)), m, n];
  if (tf.util.sizeFromShape(outShape) !== batch * m * n) return undefined; // e.g. [2,1]·[1,3] batch broadcasting
  const heap = wasmHeap(backend);
  const out = backend.makeOutput([batch, m, n], "float32");
  const [aId, bId, outId] = [a, b, out].map((t) => backend.dataIdMap.get(t.dataId)!.id);
  if (batchB === 1) {
    // One product: a's batch elements are just more rows.
    heap.matMul(aId, [1, batch * m, k], bId, [1, k, n], outId);
  } else {
    const [aAt, bAt, outAt] = [a, b, out].map((t) => backend.dataIdMap.get(t.dataId)!.memoryOffset);
    for (let i = 0; i < batch; i++) {
      const aView = batchA === 1 ? aId : heap.view(aAt + i * m * k * 4, m * k);
      const bView = heap.view(bAt + i * k * n * 4, k * n);
      const outView = heap.view(outAt + i * m * n * 4, m * n);
      heap.matMul(aView, [1, m, k], bView, [1, k, n], outView);
      for (const view of [aView, bView, outView]) if (view !== aId) heap.release(view);
    }
  }
  return { ...out, shape: outShape };
}

interface WasmHeap {
  /** Registers a tensor id for `size` floats at byte `offset`, sharing the memory. */
  view(offset: number, size: number): number;
  release(id: number): void;
  matMul(aId: number, aShape: number[], bId: number, bShape: number[], outId: number): void;
}

const heaps = new WeakMap<object, WasmHeap>();

// The parts of tfjs's emscripten module used here (cwrap is emscripten's).
interface WasmModule {
  cwrap(name: string, returns: null, args: string[]): (...args: unknown[]) => void;
  tfjs: { registerTensor(id: number, size: number, memoryOffset: number): void; disposeData(id: number): void };
}

function wasmHeap(backend: BackendWasm): WasmHeap {
  const module = backend.wasm as unknown as WasmModule;
  let heap = heaps.get(module);
  if (heap == null) {
    // The C function behind tfjs's BatchMatMul kernel (3-D shapes, ids of registered tensors).
    const batchMatMul = module.cwrap(tf.BatchMatMul, null, [
      "number", "array", "number", "number", "array", "number", "number", "number", "number",
    ]);
    const ids = backend as unknown as { dataIdNextNumber: number };
    const bytes = (shape: number[]) => new Uint8Array(new Int32Array(shape).buffer);
    heap = {
      view(offset, size) {
        const id = ids.dataIdNextNumber++;
        module.tfjs.registerTensor(id, size, offset);
        return id;
      },
      release(id) {
        module.tfjs.disposeData(id); // also frees XNNPACK's packed copy of a view used as weights
      },
      matMul(aId, aShape, bId, bShape, outId) {
        batchMatMul(aId, bytes(aShape), 3, bId, bytes(bShape), 3, false, false, outId);
      },
    };
    heaps.set(module, heap);
  }
  return heap;
}
