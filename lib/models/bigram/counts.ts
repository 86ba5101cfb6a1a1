import type { Rng } from "../../util/random.js";
import { bigramsOf, CharVocab } from "./vocab.js";

/** Log-likelihood of a word list under a bigram model, summed and averaged over bigrams. */
export interface LikelihoodReport {
  logLikelihood: number;
  bigrams: number;
  /** Average negative log-likelihood per bigram: the loss, lower is better. */
  nll: number;
}

/**
 * makemore's counting bigram model: N[a][b] counts how often character b
 * follows character a (with '.' marking the start and end of every word);
 * each row, normalised, is the distribution of the next character.
 */
export class BigramCounts {
  /** Row-major vocab.size × vocab.size counts: counts[a * size + b]. */
  readonly counts: Int32Array;
  readonly total: number;

  constructor(
    readonly vocab: CharVocab,
    counts: Int32Array,
  ) {
    if (counts.length !== vocab.size * vocab.size) throw new Error("BigramCounts: counts must be size × size");
    this.counts = counts;
    this.total = counts.reduce((sum, c) => sum + c, 0);
  }

  static fromWords(words: string[], vocab = CharVocab.fromWords(words)): BigramCounts {
    const size = vocab.size;
    const counts = new Int32Array(size * size);
    for (const word of words) {
      for (const [a, b] of bigramsOf(word, vocab)) counts[a * size + b]++;
    }
    return new BigramCounts(vocab, counts);
  }

  get size(): number {
    return this.vocab.size;
  }

  count(previous: string, next: string): number {
    return this.counts[this.vocab.encode(previous) * this.size + this.vocab.encode(next)];
  }

  /** Row-normalised (N + smoothing): row a is P(next | a). `smoothing` = 1 is add-one (Laplace) smoothing. */
  probabilities(smoothing = 0): Float64Array {
    const size = this.size;
    const probs = new Float64Array(size * size);
    for (let a = 0; a < size; a++) {
      let rowSum = 0;
      for (let b = 0; b < size; b++) rowSum += this.counts[a * size + b] + smoothing;
      if (rowSum === 0) continue; // a character never followed by anything: leave its row at zero
      for (let b = 0; b < size; b++) probs[a * size + b] = (this.counts[a * size + b] + smoothing) / rowSum;
    }
    return probs;
  }

  /** Log-likelihood of the words' bigrams (in float64). Without smoothing an unseen bigram gives -Infinity. */
  evaluate(words: string[], smoothing = 0): LikelihoodReport {
    const probs = this.probabilities(smoothing);
    let logLikelihood = 0;
    let bigrams = 0;
    for (const word of words) {
      for (const [a, b] of bigramsOf(word, this.vocab)) {
        logLikelihood += Math.log(probs[a * this.size + b]);
        bigrams++;
      }
    }
    return { logLikelihood, bigrams, nll: -logLikelihood / bigrams };
  }

  /** Average negative log-likelihood per bigram of the words. */
  nll(words: string[], smoothing = 0): number {
    return this.evaluate(words, smoothing).nll;
  }

  /** Sample one word: start at '.', draw the next character from its row until '.' comes back. */
  sample(rng: Rng, options: { smoothing?: number; maxLength?: number } = {}): string {
    return sampleWord(this.probabilities(options.smoothing ?? 0), this.vocab, rng, options.maxLength);
  }

  sampleMany(count: number, rng: Rng, options: { smoothing?: number; maxLength?: number } = {}): string[] {
    const probs = this.probabilities(options.smoothing ?? 0);
    return Array.from({ length: count }, () => sampleWord(probs, this.vocab, rng, options.maxLength));
  }
}

/** Draw a word from a row-major next-character distribution (any bigram model's probabilities). */
export function sampleWord(probs: ArrayLike<number>, vocab: CharVocab, rng: Rng, maxLength = 100): string {
  const size = vocab.size;
  let word = "";
  let current = 0;
  while (word.length < maxLength) {
    const row = Array.prototype.slice.call(probs, current * size, (current + 1) * size) as number[];
    current = rng.categorical(row);
    if (current === 0) break;
    word += vocab.decode(current);
  }
  return word;
}

/** A flat row-major size × size array as nested rows (what plots and tables want). */
export function toRows(flat: ArrayLike<number>, size: number): number[][] {
  return Array.from({ length: size }, (_, a) => Array.from({ length: size }, (_, b) => flat[a * size + b]));
}

/** Largest |a[i] - b[i]|, e.g. between learned softmax(W) and the counts model's probabilities. */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDifference: lengths differ (${a.length} vs ${b.length})`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}
