/** Reading and making tensors inside a cpu-backend kernel. */
import type { DataType, TensorInfo } from "@tensorflow/tfjs-core";
import { allocFloats, allocInts, rawEntry, rawValuesOf } from "./pool.js";

/** The part of tfjs-backend-cpu's MathBackendCPU that kernels use. */
export interface CpuBackend {
  data: { get(dataId: object): { values?: unknown; refCount: number } };
  makeTensorInfo(shape: number[], dtype: DataType, values: Float32Array | Int32Array): TensorInfo;
}

export interface KernelArgs {
  inputs: Record<string, TensorInfo> | TensorInfo[];
  backend: CpuBackend;
  attrs?: Record<string, unknown>;
}

export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

/** The float32 values of a tensor, or null when it is not a plain float32 tensor. */
export function floats(backend: CpuBackend, t: TensorInfo | undefined): Float32Array | null {
  if (t == null || t.dtype !== "float32") return null;
  const values = rawValuesOf(rawEntry(backend, t.dataId));
  return values instanceof Float32Array && values.length >= sizeOf(t.shape) && sizeOf(t.shape) > 0 ? values : null;
}

export function ints(backend: CpuBackend, t: TensorInfo | undefined): Int32Array | null {
  if (t == null || t.dtype !== "int32") return null;
  const values = rawValuesOf(rawEntry(backend, t.dataId));
  return values instanceof Int32Array && values.length >= sizeOf(t.shape) && sizeOf(t.shape) > 0 ? values : null;
}

/** float32 or int32 values, for kernels that only move data. */
export function words(backend: CpuBackend, t: TensorInfo | undefined): Float32Array | Int32Array | null {
  return floats(backend, t) ?? ints(backend, t);
}

export function emptyLike(values: Float32Array | Int32Array, size: number): Float32Array | Int32Array {
  return values instanceof Float32Array ? allocFloats(size) : allocInts(size);
}

export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

/** Flat position of the element at `index` in a buffer with these strides. */
export function offsetOf(index: readonly number[], strides: readonly number[]): number {
  let offset = 0;
  for (let i = 0; i < index.length; i++) offset += index[i] * strides[i];
  return offset;
}
