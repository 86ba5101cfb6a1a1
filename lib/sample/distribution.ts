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
  const scaled = Float64Array.from(logits, (l) => l / temperature);
  if (topK !== undefined && topK < n) {
    const kth = Float64Array.from(scaled).sort()[n - topK];
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

/** Zero all but the most likely tokens whose cumulative probability first reaches p, then renormalise. */
function keepNucleus(probs: Float64Array, p: number): void {
  const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]);
  let cumulative = 0;
  let kept = 0;
  while (kept < order.length && cumulative < p) cumulative += probs[order[kept++]];
  for (let i = kept; i < order.length; i++) probs[order[i]] = 0;
  for (let i = 0; i < probs.length; i++) probs[i] /= cumulative;
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
