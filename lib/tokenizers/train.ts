/**
 * Learning BPE merges with incremental pair counts.
 *
 * minbpe recounts every pair of the whole text for each merge; here the counts are kept up to date:
 * a merge of (a, b) at a position only changes the pairs with its left and right neighbours, so
 * each merge costs time proportional to its occurrences, not to the text. The tokens live in a
 * linked list, each pair remembers where it occurs, and a heap gives the most frequent pair.
 *
 * The result is exactly minbpe's: the most frequent pair wins and ties go to the pair that occurs
 * first in the text (minbpe's `max` over a dict filled in text order), so each pair also tracks
 * its first occurrence, which orders the heap among equal counts. Identical chunks are merged
 * the same way, so each distinct chunk is stored once with its count as a weight.
 */
import { MinHeap } from "./heap.js";
import { PairTable } from "./pair-table.js";
import { concatBytes, renderToken, utf8Encode } from "./bytes.js";

export interface MergeEvent {
  /** 1-based merge number. */
  step: number;
  /** How many merges were asked for. */
  total: number;
  pair: [number, number];
  /** The new token's id (256 + step - 1). */
  id: number;
  bytes: Uint8Array;
  /** How many times the pair occurred when it was merged. */
  count: number;
}

export interface TrainOptions {
  /** Print each merge, as minbpe does. */
  verbose?: boolean;
  onMerge?: (merge: MergeEvent) => void;
}

export interface LearnedMerge {
  pair: [number, number];
  id: number;
  count: number;
}

/**
 * Learns up to `numMerges` merges over the UTF-8 bytes of `chunks` (pairs never cross chunks).
 * Stops early when no pair is left (every chunk is a single token).
 */
export function learnMerges(chunks: Iterable<string>, numMerges: number, options: TrainOptions = {}): LearnedMerge[] {
  const state = new TrainingState(countChunks(chunks));
  const vocab: Uint8Array[] = Array.from({ length: 256 }, (_, b) => Uint8Array.of(b));
  const merges: LearnedMerge[] = [];
  for (let step = 1; step <= numMerges; step++) {
    const best = state.mostFrequentPair();
    if (best < 0) {
      if (options.verbose) console.log(`stopping after ${merges.length} merges: no pair is left to merge`);
      break;
    }
    const id = 255 + step;
    const pair: [number, number] = [state.pairFirst[best], state.pairSecond[best]];
    const count = state.counts[best];
    state.merge(best, id);
    vocab.push(concatBytes([vocab[pair[0]], vocab[pair[1]]]));
    merges.push({ pair, id, count });
    if (options.verbose) {
      console.log(`merge ${step}/${numMerges}: (${pair[0]}, ${pair[1]}) -> ${id} (${renderToken(vocab[id])}) had ${count} occurrences`);
    }
    options.onMerge?.({ step, total: numMerges, pair, id, bytes: vocab[id], count });
  }
  return merges;
}

/** Distinct chunks with their counts, in order of first appearance. */
function countChunks(chunks: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const chunk of chunks) counts.set(chunk, (counts.get(chunk) ?? 0) + 1);
  return counts;
}

const STALE = -1;

class TrainingState {
  /** Token id at each node of the linked list (-1 once merged into its left neighbour). */
  private ids: Int32Array;
  private next: Int32Array;
  private prev: Int32Array;
  /** How many times the node's chunk occurs in the text. */
  private weight: Int32Array;

  private pairIndex = new PairTable(1 << 16);
  pairFirst: number[] = [];
  pairSecond: number[] = [];
  counts: number[] = [];
  /** The node where each pair first occurs (STALE when that occurrence went away: recomputed on flush). */
  private first: number[] = [];
  /** Nodes where each pair started at some point; entries go stale and are checked before use. */
  private where: number[][] = [];
  private heap = new MinHeap(); // (-count, first occurrence, pair)
  private touched: number[] = [];
  private touchedMark: Uint8Array = new Uint8Array(0);

  constructor(chunkCounts: Map<string, number>) {
    const encoded = Array.from(chunkCounts.keys(), utf8Encode);
    const total = encoded.reduce((sum, bytes) => sum + bytes.length, 0);
    this.ids = new Int32Array(total);
    this.next = new Int32Array(total);
    this.prev = new Int32Array(total);
    this.weight = new Int32Array(total);
    let node = 0;
    const weights = Array.from(chunkCounts.values());
    encoded.forEach((bytes, c) => {
      for (let i = 0; i < bytes.length; i++, node++) {
        this.ids[node] = bytes[i];
        this.weight[node] = weights[c];
        this.prev[node] = i > 0 ? node - 1 : -1;
        this.next[node] = i + 1 < bytes.length ? node + 1 : -1;
      }
    });
    for (let i = 0; i < total; i++) {
      if (this.next[i] >= 0) this.addOccurrence(this.ids[i], this.ids[this.next[i]], i, this.weight[i]);
    }
    this.flushTouched();
  }

  /** The most frequent pair (ties: the one occurring first), or -1 if none is left. */
  mostFrequentPair(): number {
    const heap = this.heap;
    while (heap.size > 0) {
      const pair = heap.topValue();
      if (this.counts[pair] === -heap.topKey() && this.first[pair] === heap.topTie() && this.counts[pair] > 0) return pair;
      heap.pop(); // stale: the pair's count or first occurrence has changed since
    }
    return -1;
  }

  /** Replaces every occurrence of `pair`, left to right, by the new token `id`. */
  merge(pair: number, id: number): void {
    const a = this.pairFirst[pair];
    const b = this.pairSecond[pair];
    const starts = Int32Array.from(this.liveOccurrences(pair)).sort();
    this.where[pair] = [];
    const { ids, next, prev } = this;
    for (const i of starts) {
      const j = next[i];
      if (ids[i] !== a || j < 0 || ids[j] !== b) continue; // consumed by an overlapping merge (a a a)
      const w = this.weight[i];
      const left = prev[i];
      const right = next[j];
      if (left >= 0) this.removeOccurrence(ids[left], a, left, w);
      if (right >= 0) this.removeOccurrence(b, ids[right], j, w);
      ids[i] = id;
      ids[j] = -1;
      next[i] = right;
      if (right >= 0) prev[right] = i;
      if (left >= 0) this.addOccurrence(ids[left], id, left, w);
      if (right >= 0) this.addOccurrence(id, ids[right], i, w);
    }
    this.counts[pair] = 0;
    this.flushTouched();
  }

  private isAt(pair: number, i: number): boolean {
    const j = this.next[i];
    return this.ids[i] === this.pairFirst[pair] && j >= 0 && this.ids[j] === this.pairSecond[pair];
  }

  /** The pair's current starts (dropping stale entries from its list). */
  private liveOccurrences(pair: number): number[] {
    const live = this.where[pair].filter((i) => this.isAt(pair, i));
    this.where[pair] = live;
    return live;
  }

  private firstLiveOccurrence(pair: number): number {
    let first = Infinity;
    for (const i of this.liveOccurrences(pair)) if (i < first) first = i;
    return first;
  }

  private addOccurrence(a: number, b: number, at: number, weight: number): void {
    let pair = this.pairIndex.get(a, b);
    if (pair < 0) {
      pair = this.counts.length;
      this.pairIndex.set(a, b, pair);
      this.pairFirst.push(a);
      this.pairSecond.push(b);
      this.counts.push(0);
      this.where.push([]);
      this.first.push(at);
    }
    if (at < this.first[pair]) this.first[pair] = at;
    this.counts[pair] += weight;
    this.where[pair].push(at);
    this.touch(pair);
  }

  private removeOccurrence(a: number, b: number, at: number, weight: number): void {
    const pair = this.pairIndex.get(a, b);
    this.counts[pair] -= weight;
    if (at === this.first[pair]) this.first[pair] = STALE;
    this.touch(pair);
  }

  private touch(pair: number): void {
    if (pair >= this.touchedMark.length) {
      const grown = new Uint8Array(Math.max(1024, 2 * pair + 2));
      grown.set(this.touchedMark);
      this.touchedMark = grown;
    }
    if (this.touchedMark[pair]) return;
    this.touchedMark[pair] = 1;
    this.touched.push(pair);
  }

  /** Pushes the pairs changed since the last flush with their new count and first occurrence (older heap entries go stale). */
  private flushTouched(): void {
    for (const pair of this.touched) {
      this.touchedMark[pair] = 0;
      if (this.counts[pair] <= 0) continue;
      if (this.first[pair] === STALE) this.first[pair] = this.firstLiveOccurrence(pair);
      this.heap.push(-this.counts[pair], this.first[pair], pair);
    }
    this.touched = [];
  }
}
