/**
 * Applying learned merges to one chunk of ids, as tiktoken does: repeatedly merge the adjacent
 * pair whose merge came first (lowest merged id), leftmost first on ties, until no pair can merge.
 * Every merged id is larger than the ids it joins, so this equals minbpe's "merge every
 * occurrence of the best pair" loop.
 */
import { MinHeap } from "./heap.js";
import type { PairTable } from "./pair-table.js";

const NONE = 0x7fffffff;

/** Merges `ids` in place and returns the merged sequence (a new array for long chunks). */
export function mergeChunk(ids: number[], merges: PairTable): number[] {
  return ids.length <= 128 ? mergeShort(ids, merges) : mergeLong(ids, merges);
}

function rankOf(merges: PairTable, a: number, b: number): number {
  const id = merges.get(a, b);
  return id < 0 ? NONE : id;
}

/** Quadratic but allocation-light: right for the few-byte chunks that regex splitting produces. */
function mergeShort(ids: number[], merges: PairTable): number[] {
  if (ids.length < 2) return ids;
  const ranks: number[] = [];
  for (let i = 0; i + 1 < ids.length; i++) ranks.push(rankOf(merges, ids[i], ids[i + 1]));
  for (;;) {
    let best = NONE;
    let at = -1;
    for (let i = 0; i < ranks.length; i++) {
      if (ranks[i] < best) {
        best = ranks[i];
        at = i;
      }
    }
    if (at < 0) return ids;
    ids[at] = best;
    ids.splice(at + 1, 1);
    ranks.splice(at, 1);
    if (at > 0) ranks[at - 1] = rankOf(merges, ids[at - 1], ids[at]);
    if (at < ranks.length) ranks[at] = rankOf(merges, ids[at], ids[at + 1]);
  }
}

/** O(n log n) with a linked list and a heap of (rank, position): for long chunks (BasicTokenizer's whole text). */
function mergeLong(input: number[], merges: PairTable): number[] {
  const n = input.length;
  const ids = Int32Array.from(input);
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  const heap = new MinHeap();
  for (let i = 0; i + 1 < n; i++) {
    const rank = rankOf(merges, ids[i], ids[i + 1]);
    if (rank !== NONE) heap.push(rank, i, i);
  }
  while (heap.size > 0) {
    const rank = heap.topKey();
    const i = heap.pop();
    const j = next[i];
    if (ids[i] < 0 || j < 0 || rankOf(merges, ids[i], ids[j]) !== rank) continue; // stale entry
    ids[i] = rank;
    ids[j] = -1;
    const k = next[j];
    next[i] = k;
    if (k >= 0) prev[k] = i;
    const p = prev[i];
    if (p >= 0) {
      const left = rankOf(merges, ids[p], rank);
      if (left !== NONE) heap.push(left, p, p);
    }
    if (k >= 0) {
      const right = rankOf(merges, rank, ids[k]);
      if (right !== NONE) heap.push(right, i, i);
    }
  }
  const out: number[] = [];
  for (let i = 0; i >= 0; i = next[i]) out.push(ids[i]);
  return out;
}
