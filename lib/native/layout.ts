/** Kernels that move data: Transpose, Slice, SplitV, Concat, Pack, PadV2, GatherV2, ScatterNd, UnsortedSegmentSum. */
import { type TensorInfo, backend_util, slice_util, util } from "@tensorflow/tfjs-core";
import type { NativeAddon } from "./addon.js";
import { allocFloats } from "./pool.js";
import { type NativeKernel, input } from "./kernel.js";
import { type KernelArgs, emptyLike, floats, ints, offsetOf, sizeOf, stridesOf, words } from "./tensors.js";

export const transposeKernel: NativeKernel = {
  name: "Transpose",
  run(args, addon) {
    const x = input(args, "x")!;
    const values = words(args.backend, x);
    const perm = (args.attrs as { perm: number[] }).perm;
    if (!values || x.shape.length > 8) return null;
    const strides = stridesOf(x.shape);
    const outShape = perm.map((p) => x.shape[p]);
    const out = emptyLike(values, values.length);
    addon.stridedCopy(values, out, Int32Array.from(outShape), Int32Array.from(perm.map((p) => strides[p])), 0);
    return args.backend.makeTensorInfo(outShape, x.dtype, out);
  },
};

/** A strided slice copy; null where the stock kernel is better (contiguous: it returns a view). */
function sliceCopy(args: KernelArgs, addon: NativeAddon, x: TensorInfo, begin: number[], size: number[]): TensorInfo | null {
  const values = words(args.backend, x);
  if (!values || x.shape.length > 8 || sizeOf(size) === 0) return null;
  if (slice_util.isSliceContinous(x.shape, begin, size)) return null;
  const strides = stridesOf(x.shape);
  const offset = offsetOf(begin, strides);
  const out = emptyLike(values, sizeOf(size));
  addon.stridedCopy(values, out, Int32Array.from(size), Int32Array.from(strides), offset);
  return args.backend.makeTensorInfo(size, x.dtype, out);
}

export const sliceKernel: NativeKernel = {
  name: "Slice",
  run(args, addon) {
    const x = input(args, "x")!;
    const { begin, size } = args.attrs as { begin: number | number[]; size: number | number[] };
    const [$begin, $size] = slice_util.parseSliceParams(x as never, begin, size);
    slice_util.assertParamsValid(x as never, $begin, $size);
    return sliceCopy(args, addon, x, $begin, $size);
  },
};

export const splitVKernel: NativeKernel = {
  name: "SplitV",
  run(args, addon) {
    const x = input(args, "x")!;
    const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
    const $axis = util.parseAxisParam(axis, x.shape)[0];
    const sizes = backend_util.prepareSplitSize(x as never, numOrSizeSplits, $axis);
    if (!words(args.backend, x) || x.shape.length > 8 || sizes.some((s) => s === 0)) return null;
    const begin = x.shape.map(() => 0);
    const outputs: TensorInfo[] = [];
    for (const s of sizes) {
      const size = x.shape.slice();
      size[$axis] = s;
      outputs.push(sliceCopy(args, addon, x, begin.slice(), size) ?? contiguousSlice(args, x, begin, size));
      begin[$axis] += s;
    }
    return outputs;
  },
};

function contiguousSlice(args: KernelArgs, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const values = words(args.backend, x)!;
  const offset = offsetOf(begin, stridesOf(x.shape));
  return args.backend.makeTensorInfo(size, x.dtype, values.slice(offset, offset + sizeOf(size)));
}

export const concatKernel: NativeKernel = {
  name: "Concat",
  run(args, addon) {
    const inputs = (args.inputs as TensorInfo[]).filter((t) => sizeOf(t.shape) > 0);
    if (inputs.length < 2) return null;
    const axis = util.parseAxisParam((args.attrs as { axis: number }).axis, inputs[0].shape)[0];
    const all = inputs.map((t) => words(args.backend, t));
    if (all.some((v) => v == null) || inputs.some((t) => t.dtype !== inputs[0].dtype)) return null;
    const outShape = backend_util.computeOutShape(inputs.map((t) => t.shape), axis);
    const rows = sizeOf(outShape.slice(0, axis));
    const outCols = sizeOf(outShape.slice(axis));
    const out = emptyLike(all[0]!, rows * outCols);
    let col = 0;
    inputs.forEach((t, i) => {
      const cols = sizeOf(t.shape.slice(axis));
      addon.copy2d(all[i]!, 0, cols, out, col, outCols, rows, cols);
      col += cols;
    });
    return args.backend.makeTensorInfo(outShape, inputs[0].dtype, out);
  },
};

export const packKernel: NativeKernel = {
  name: "Pack",
  run(args, addon) {
    const inputs = args.inputs as TensorInfo[];
    const { axis } = args.attrs as { axis: number };
    if (inputs.length < 2) return null;
    const shape = inputs[0].shape;
    const $axis = axis < 0 ? axis + shape.length + 1 : axis;
    const all = inputs.map((t) => words(args.backend, t));
    if (all.some((v) => v == null) || inputs.some((t) => t.dtype !== inputs[0].dtype || !util.arraysEqual(t.shape, shape))) return null;
    const rows = sizeOf(shape.slice(0, $axis));
    const cols = sizeOf(shape.slice($axis));
    const out = emptyLike(all[0]!, rows * cols * inputs.length);
    all.forEach((values, i) => addon.copy2d(values!, 0, cols, out, i * cols, cols * inputs.length, rows, cols));
    const outShape = [...shape.slice(0, $axis), inputs.length, ...shape.slice($axis)];
    return args.backend.makeTensorInfo(outShape, inputs[0].dtype, out);
  },
};

export const padKernel: NativeKernel = {
  name: "PadV2",
  run(args, addon) {
    const x = input(args, "x")!;
    const { paddings, constantValue } = args.attrs as { paddings: [number, number][]; constantValue: number };
    const values = words(args.backend, x);
    if (!values || x.shape.length > 8) return null;
    const outShape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
    const outStrides = stridesOf(outShape);
    const out = emptyLike(values, sizeOf(outShape));
    out.fill(constantValue);
    const offset = offsetOf(paddings.map((p) => p[0]), outStrides);
    addon.stridedScatter(values, out, Int32Array.from(x.shape), Int32Array.from(outStrides), offset);
    return args.backend.makeTensorInfo(outShape, x.dtype, out);
  },
};

export const gatherKernel: NativeKernel = {
  name: "GatherV2",
  run(args, addon) {
    const x = input(args, "x")!;
    const indices = input(args, "indices")!;
    const { axis, batchDims } = args.attrs as { axis: number; batchDims?: number };
    const values = words(args.backend, x);
    const idx = ints(args.backend, indices);
    if (!values || !idx || (batchDims ?? 0) !== 0) return null;
    const $axis = util.parseAxisParam(axis, x.shape)[0];
    const outer = sizeOf(x.shape.slice(0, $axis));
    const inner = sizeOf(x.shape.slice($axis + 1));
    const nIdx = sizeOf(indices.shape);
    const out = emptyLike(values, outer * nIdx * inner);
    const ok = addon.gather(values, idx.length === nIdx ? idx : idx.subarray(0, nIdx), out, outer, x.shape[$axis], inner);
    if (!ok) return null; // the stock kernel throws the proper out-of-range error
    const outShape = [...x.shape.slice(0, $axis), ...indices.shape, ...x.shape.slice($axis + 1)];
    return args.backend.makeTensorInfo(outShape, x.dtype, out);
  },
};

export const unsortedSegmentSumKernel: NativeKernel = {
  name: "UnsortedSegmentSum",
  run(args, addon) {
    const x = input(args, "x")!;
    const segmentIds = input(args, "segmentIds")!;
    const { numSegments } = args.attrs as { numSegments: number };
    const values = floats(args.backend, x);
    const ids = ints(args.backend, segmentIds);
    if (!values || !ids) return null;
    const n = sizeOf(segmentIds.shape);
    const inner = sizeOf(x.shape) / n;
    const out = allocFloats(numSegments * inner);
    addon.segmentSum(values, ids.length === n ? ids : ids.subarray(0, n), out, inner, numSegments);
    return args.backend.makeTensorInfo([numSegments, ...x.shape.slice(segmentIds.shape.length)], "float32", out);
  },
};

/** ScatterNd (sums duplicate indices), as a segment sum over flattened slice indices. */
export const scatterNdKernel: NativeKernel = {
  name: "ScatterNd",
  run(args, addon) {
    const indices = input(args, "indices")!;
    const updates = input(args, "updates")!;
    const { shape } = args.attrs as { shape: number[] };
    const idx = ints(args.backend, indices);
    const values = floats(args.backend, updates);
    if (!idx || !values || indices.shape.length < 1) return null;
    const sliceRank = indices.shape[indices.shape.length - 1];
    const numUpdates = sizeOf(indices.shape) / sliceRank;
    const numSlices = sizeOf(shape.slice(0, sliceRank));
    const sliceSize = sizeOf(shape.slice(sliceRank));
    if (sizeOf(updates.shape) !== numUpdates * sliceSize) return null;
    const strides = stridesOf(shape.slice(0, sliceRank));
    const rows = new Int32Array(numUpdates);
    for (let i = 0; i < numUpdates; i++) {
      let row = 0;
      for (let j = 0; j < sliceRank; j++) row += idx[i * sliceRank + j] * strides[j];
      if (row < 0 || row >= numSlices) return null; // the stock kernel throws the proper error
      rows[i] = row;
    }
    const out = allocFloats(numSlices * sliceSize);
    addon.segmentSum(values, rows, out, sliceSize, numSlices);
    return args.backend.makeTensorInfo(shape, "float32", out);
  },
};
