/**
 * Reusing output buffers. Allocating a fresh Float32Array per kernel output costs page faults
 * and zeroing on every op, and garbage collection later; instead, when the cpu backend frees a
 * tensor whose buffer a native kernel allocated, the buffer goes back to a pool by length.
 *
 * A buffer is only reused if no one but native kernels ever read it: the backend's storage
 * entries for such buffers get a `values` getter that marks the buffer escaped (dataSync, stock
 * kernels and views all read `values`), while native kernels read the buffer through a private
 * slot. Bookkeeping reads of the entry (refCount, reshape's complex check) do not count.
 *
 * How much it keeps: up to a quarter of the machine's memory (a training step frees and re-asks
 * for the same lengths, so the pool must hold a whole step's worth), least recently used lengths
 * dropped first past that, lengths left idle dropped at the next fresh allocation, and everything
 * dropped when the machine runs short of memory (setPoolLimits changes each; releasePooledBuffers
 * empties it).
 */
import { freemem, totalmem } from "node:os";
import type { CpuBackend } from "./tensors.js";

type Entry = { values?: unknown; refCount: number };
type Get = (dataId: object) => Entry | undefined;
type Set = (dataId: object, entry: Entry) => unknown;

/** Where an entry with a values getter keeps its buffer. */
const rawValues = Symbol("rawValues");

/** The free buffers of one length, and when (in pooled allocations) that length was last used. */
interface SizeClass<T> {
  buffers: T[];
  lastUse: number;
}

interface Pools {
  /** Size classes by length. Map order is recency: a length moves to the end whenever it is used. */
  float: Map<number, SizeClass<Float32Array>>;
  int: Map<number, SizeClass<Int32Array>>;
  bytes: number;
}

/** What the pool did since the last resetPoolStats(): for benchmarks and tests. */
export interface PoolStats {
  /** Outputs served from a pooled buffer. */
  hits: number;
  /** Outputs that needed a fresh buffer (at least minPooledLength elements). */
  misses: number;
  /** Bytes of those fresh buffers. */
  missBytes: number;
  /** Bytes dropped from the pool: over the cap, under memory pressure, or by releasePooledBuffers(). */
  releasedBytes: number;
  /** Bytes the pool holds now, and the most it held. */
  pooledBytes: number;
  peakPooledBytes: number;
  capBytes: number;
}

export interface PoolLimits {
  /** Most bytes the pool keeps (default: a quarter of the machine's memory). */
  capBytes?: number;
  /** When the machine has less memory available than this, the pool empties (default: a tenth of it). */
  minFreeBytes?: number;
  /** Available memory in bytes (default os.freemem); tests replace it. */
  freeMemory?: () => number;
  /**
   * A length unused for this many pooled allocations is dropped at the next fresh allocation
   * (default 4096: a training step of a 48-layer GPT makes fewer, so its lengths all stay).
   */
  idleAllocations?: number;
}

const minPooledLength = 1024; // small arrays are cheap to allocate, not worth tracking
// A fixed cap (it was 256 MB) sent most of a larger model's buffers to the garbage collector and
// re-faulted their pages on every op. Memory pressure is checked every so many bytes pooled, not on
// every buffer (os.freemem reads /proc/meminfo).
const pressureCheckBytes = 64 * 1024 * 1024;
// Sampling with a KV cache makes buffers of a new length at every token (the cache grows by one
// position), never asked for again: idle lengths are dropped so they do not fill the pool.
const defaultLimits = (): Required<PoolLimits> => ({
  capBytes: Math.floor(totalmem() / 4),
  minFreeBytes: Math.floor(totalmem() / 10),
  freeMemory: freemem,
  idleAllocations: 4096,
});
let limits = defaultLimits();
const owned = new WeakSet<object>();
const escaped = new WeakSet<object>();
const rawGets = new WeakMap<object, Get>();
const pools: Pools = { float: new Map(), int: new Map(), bytes: 0 };
const stats = { hits: 0, misses: 0, missBytes: 0, releasedBytes: 0, peakPooledBytes: 0 };
let pooledSinceCheck = 0;
let clock = 0; // pooled allocations so far
let enabled = true;

/** Turns pooling on or off (off: every output is a fresh array); for tests and benchmarks. */
export function setBufferPooling(on: boolean): void {
  enabled = on;
  if (!on) releasePooledBuffers();
}

/** Changes the pool's limits (unset fields go back to their defaults) and applies them at once. */
export function setPoolLimits(next: PoolLimits = {}): void {
  limits = { ...defaultLimits(), ...next };
  evictUntil(limits.capBytes);
}

/** Drops every pooled buffer (the garbage collector frees them); e.g. after training, before other work. */
export function releasePooledBuffers(): void {
  evictUntil(0);
}

export function pooledBytes(): number {
  return pools.bytes;
}

export function poolStats(): PoolStats {
  return { ...stats, pooledBytes: pools.bytes, capBytes: limits.capBytes };
}

export function resetPoolStats(): void {
  Object.assign(stats, { hits: 0, misses: 0, missBytes: 0, releasedBytes: 0, peakPooledBytes: pools.bytes });
}

type AnyPool = Map<number, SizeClass<Float32Array | Int32Array>>;

/** The size class of a length, moved to the most recently used end of its pool's order. */
function touch<T>(pool: Map<number, SizeClass<T>>, length: number): SizeClass<T> {
  const sizeClass = pool.get(length) ?? { buffers: [], lastUse: clock };
  sizeClass.lastUse = clock;
  pool.delete(length);
  pool.set(length, sizeClass);
  return sizeClass;
}

/** A pooled buffer of this length, or a fresh one made by `make`. */
function take<T extends Float32Array | Int32Array>(pool: Map<number, SizeClass<T>>, length: number, make: (length: number) => T): T {
  clock++;
  const values = pool.get(length)?.buffers.pop();
  if (values) {
    touch(pool, length);
    pools.bytes -= values.byteLength;
    escaped.delete(values);
    stats.hits++;
    return values;
  }
  dropIdle();
  const fresh = make(length);
  stats.misses++;
  stats.missBytes += fresh.byteLength;
  return fresh;
}

function drop(pool: AnyPool, length: number, sizeClass: SizeClass<Float32Array | Int32Array>, keepBytes: number): void {
  while (pools.bytes > keepBytes && sizeClass.buffers.length > 0) {
    const dropped = sizeClass.buffers.pop()!;
    pools.bytes -= dropped.byteLength;
    stats.releasedBytes += dropped.byteLength;
  }
  if (sizeClass.buffers.length === 0) pool.delete(length);
}

/** Drops least recently used buffers until the pool holds at most `bytes`. */
function evictUntil(bytes: number): void {
  for (const pool of [pools.float, pools.int] as AnyPool[]) {
    for (const [length, sizeClass] of pool) {
      if (pools.bytes <= bytes) return;
      drop(pool, length, sizeClass, bytes);
    }
  }
}

/** Drops the lengths unused for limits.idleAllocations allocations (the oldest come first in each pool). */
function dropIdle(): void {
  for (const pool of [pools.float, pools.int] as AnyPool[]) {
    for (const [length, sizeClass] of pool) {
      if (clock - sizeClass.lastUse <= limits.idleAllocations) break;
      drop(pool, length, sizeClass, 0);
    }
  }
}

export function allocFloats(length: number): Float32Array {
  if (!enabled || length < minPooledLength) return new Float32Array(length);
  const values = take(pools.float, length, (n) => new Float32Array(n));
  owned.add(values);
  return values;
}

/** Hands a buffer from allocFloats straight back (work space a kernel is done with). */
export function recycleFloats(values: Float32Array): void {
  if (enabled && owned.has(values) && !escaped.has(values)) give(values);
}

export function allocInts(length: number): Int32Array {
  if (!enabled || length < minPooledLength) return new Int32Array(length);
  const values = take(pools.int, length, (n) => new Int32Array(n));
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
  const bytes = values.byteLength;
  if (bytes > limits.capBytes) return;
  pooledSinceCheck += bytes;
  if (pooledSinceCheck >= pressureCheckBytes) {
    pooledSinceCheck = 0;
    if (limits.freeMemory() < limits.minFreeBytes) {
      releasePooledBuffers();
      return;
    }
  }
  evictUntil(limits.capBytes - bytes);
  const pool = (values instanceof Float32Array ? pools.float : pools.int) as AnyPool;
  touch(pool, values.length).buffers.push(values);
  pools.bytes += bytes;
  stats.peakPooledBytes = Math.max(stats.peakPooledBytes, pools.bytes);
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
