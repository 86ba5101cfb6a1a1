/**
 * Reusing output buffers. Allocating a fresh Float32Array per kernel output costs page faults
 * and zeroing on every op, and garbage collection later; instead, when the cpu backend frees a
 * tensor whose buffer a native kernel allocated, the buffer goes back to a pool by length.
 *
 * A buffer is only reused if no one but native kernels ever read it: the backend's storage
 * entries for such buffers get a `values` getter that marks the buffer escaped (dataSync, stock
 * kernels and views all read `values`), while native kernels read the buffer through a private
 * slot. Bookkeeping reads of the entry (refCount, reshape's complex check) do not count.
 */
import type { CpuBackend } from "./tensors.js";

type Entry = { values?: unknown; refCount: number };
type Get = (dataId: object) => Entry | undefined;
type Set = (dataId: object, entry: Entry) => unknown;

/** Where an entry with a values getter keeps its buffer. */
const rawValues = Symbol("rawValues");

interface Pools {
  float: Map<number, Float32Array[]>;
  int: Map<number, Int32Array[]>;
  bytes: number;
}

const maxPooledBytes = 256 * 1024 * 1024;
const minPooledLength = 1024; // small arrays are cheap to allocate, not worth tracking
const owned = new WeakSet<object>();
const escaped = new WeakSet<object>();
const rawGets = new WeakMap<object, Get>();
const pools: Pools = { float: new Map(), int: new Map(), bytes: 0 };
let enabled = true;

/** Turns pooling on or off (off: every output is a fresh array); for tests and benchmarks. */
export function setBufferPooling(on: boolean): void {
  enabled = on;
  if (!on) clearPool();
}

function clearPool(): void {
  pools.float.clear();
  pools.int.clear();
  pools.bytes = 0;
}

export function pooledBytes(): number {
  return pools.bytes;
}

function take<T extends Float32Array | Int32Array>(pool: Map<number, T[]>, length: number): T | undefined {
  const list = pool.get(length);
  const values = list?.pop();
  if (values) {
    pools.bytes -= values.byteLength;
    escaped.delete(values);
  }
  return values;
}

export function allocFloats(length: number): Float32Array {
  if (!enabled || length < minPooledLength) return new Float32Array(length);
  const values = take(pools.float, length) ?? new Float32Array(length);
  owned.add(values);
  return values;
}

export function allocInts(length: number): Int32Array {
  if (!enabled || length < minPooledLength) return new Int32Array(length);
  const values = take(pools.int, length) ?? new Int32Array(length);
  owned.add(values);
  return values;
}

/** A tensor's storage entry (native kernels only). */
export function rawEntry(backend: CpuBackend, dataId: object): Entry | undefined {
  trackBackend(backend);
  return rawGets.get(backend)!(dataId);
}

/** A tensor's values, read without marking them escaped (native kernels only). */
export function rawValuesOf(entry: Entry | undefined): unknown {
  if (entry == null) return undefined;
  return entry instanceof WatchedEntry ? entry[rawValues] : entry.values;
}

/**
 * A storage entry whose `values` getter records that someone outside the native kernels read
 * the buffer. (A class, so the accessor lives on one shared prototype.)
 */
class WatchedEntry {
  refCount = 0;
  [rawValues]: unknown = undefined;

  constructor(entry: Entry) {
    Object.assign(this, entry); // `values` goes through the setter
  }

  get values(): unknown {
    const current = this[rawValues];
    if (current != null && typeof current === "object") escaped.add(current);
    return current;
  }

  set values(next: unknown) {
    this[rawValues] = next;
  }
}

/** The entry to store: watched when it holds a pool-owned buffer, else unchanged. */
function watched(entry: Entry): Entry {
  const values = entry.values;
  return values != null && typeof values === "object" && owned.has(values) ? new WatchedEntry(entry) : entry;
}

function give(values: Float32Array | Int32Array): void {
  if (pools.bytes + values.byteLength > maxPooledBytes) return;
  const pool = (values instanceof Float32Array ? pools.float : pools.int) as Map<number, (Float32Array | Int32Array)[]>;
  const list = pool.get(values.length);
  if (list) list.push(values);
  else pool.set(values.length, [values]);
  pools.bytes += values.byteLength;
}

/** Wraps the backend's data.set and disposeData once (idempotent per backend instance). */
function trackBackend(backend: CpuBackend): void {
  if (rawGets.has(backend)) return;
  const data = backend.data as unknown as { get: Get; set: Set };
  const rawGet = data.get.bind(data);
  const rawSet = data.set.bind(data);
  rawGets.set(backend, rawGet);
  data.set = (dataId, entry) => rawSet(dataId, watched(entry));
  const withDispose = backend as unknown as { disposeData(dataId: object, force?: boolean): boolean };
  const disposeData = withDispose.disposeData.bind(backend);
  withDispose.disposeData = (dataId, force = false) => {
    const entry = rawGet(dataId);
    const values = rawValuesOf(entry) as Float32Array | Int32Array | undefined;
    const reusable = enabled && entry != null && values != null && (force || entry.refCount <= 1) &&
      owned.has(values) && !escaped.has(values);
    const freed = disposeData(dataId, force);
    if (freed && reusable) give(values);
    return freed;
  };
}
