/**
 * From next-token logits to the distribution we sample from: temperature, then top-k, then top-p
 * (nucleus). Plain arrays: the vocabulary is one row, and the result must not depend on the backend.
 */
import type { Rng } from "../util/random.js";

export interface SampleOptions {
  /** Divides the logits: < 1 sharpens, > 1 flattens; 0 means greedy (always the most likely token). Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens (ties with the k-th are kept, as nanoGPT's `logits < v[:, [-1]]`). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probabilities sum to at least topP. */
  topP?: number;
}

/** Throw a RangeError unless temperature ≥ 0, topK is a positive integer and topP is in (0, 1]. */
export function checkSampleOptions(options: SampleOptions): void {
  const { temperature, topK, topP } = options;
  if (temperature !== undefined && !(Number.isFinite(temperature) && temperature >= 0)) {
    throw new RangeError(`temperature must be a finite number >= 0 (0: greedy), got ${temperature}`);
  }
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 1)) throw new RangeError(`topK must be a positive integer, got ${topK}`);
  if (topP !== undefined && !(topP > 0 && topP <= 1)) throw new RangeError(`topP must be in (0, 1], got ${topP}`);
}

/** The probabilities `sampleToken` draws from, after temperature, top-k and top-p. */
export function nextTokenProbabilities(logits: ArrayLike<number>, options: SampleOptions = {}): Float64Array {
  checkSampleOptions(options);
  const { temperature = 1, topK, topP } = options;
  const n = logits.length;
  const probs = new Float64Array(n);
  if (temperature === 0) {
    probs[argmax(logits)] = 1;
    return probs;
  }
  // Plain loops: GPT-2's vocabulary is 50,257 wide and this runs once per token.
  const scaled = new Float64Array(n);
  for (let i = 0; i < n; i++) scaled[i] = logits[i] / temperature;
  if (topK !== undefined && topK < n) {
    const kth = kthLargest(scaled, topK);
    for (let i = 0; i < n; i++) if (scaled[i] < kth) scaled[i] = -Infinity;
  }
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, scaled[i]);
  let total = 0;
  for (let i = 0; i < n; i++) total += probs[i] = Math.exp(scaled[i] - max);
  for (let i = 0; i < n; i++) probs[i] /= total;
  if (topP !== undefined && topP < 1) keepNucleus(probs, topP);
  return probs;
}

/**
 * Zero all but the most likely tokens whose cumulative probability first reaches p, then
 * renormalise. Ties with the last token kept are kept in index order (what a stable sort of the
 * indices by probability would keep); sorting the values alone is many times faster.
 */
function keepNucleus(probs: Float64Array, p: number): void {
  const ascending = probs.filter((x) => x > 0).sort();
  let cumulative = 0;
  let at = ascending.length;
  while (at > 0 && cumulative < p) cumulative += ascending[--at];
  const cutoff = ascending[at];
  let tiesKept = 0;
  for (let j = at; j < ascending.length && ascending[j] === cutoff; j++) tiesKept++;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] > cutoff) continue;
    if (probs[i] === cutoff && tiesKept > 0) tiesKept--;
    else probs[i] = 0;
  }
  for (let i = 0; i < probs.length; i++) probs[i] /= cumulative;
}

/** The k-th largest value (where an ascending sort puts it: index n − k), by quickselect: O(n), no sort. */
function kthLargest(values: Float64Array, k: number): number {
  const a = values.slice();
  const target = a.length - k;
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    // Now a[lo..j] ≤ pivot ≤ a[i..hi], and whatever lies between equals the pivot.
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target];
  }
  return a[target];
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Draw the next token id from logits (one row of the vocabulary). */
export function sampleToken(logits: ArrayLike<number>, options: SampleOptions, rng: Rng): number {
  if (options.temperature === 0) return argmax(logits);
  return rng.categorical(nextTokenProbabilities(logits, options));
}
