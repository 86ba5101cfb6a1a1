/**
 * Bootstrap: refit on resamples (drawn with replacement, seeded) and summarise each parameter by
 * its standard error and a percentile interval.
 */
import { Rng } from "../util/random.js";

export interface Spread {
  /** The sample standard deviation over the resamples: the bootstrap standard error. */
  standardError: number;
  /** Percentile interval (2.5 %, 97.5 % for level 0.95). */
  low: number;
  high: number;
}

/** Indices 0..n-1 drawn n times with replacement. */
export function resampleIndices(n: number, rng: Rng): number[] {
  return Array.from({ length: n }, () => Math.floor(rng.random() * n));
}

export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

export function spreadOf(values: number[], level = 0.95): Spread {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  const mean = finite.reduce((s, v) => s + v, 0) / finite.length;
  const variance = finite.reduce((s, v) => s + (v - mean) ** 2, 0) / Math.max(finite.length - 1, 1);
  const tail = (1 - level) / 2;
  return { standardError: Math.sqrt(variance), low: quantile(finite, tail), high: quantile(finite, 1 - tail) };
}

/**
 * Refit `fit` on `resamples` bootstrap samples of `n` points; `fit(indices)` returns the named
 * parameters of one refit. Returns every refit and each parameter's spread.
 */
export function bootstrap<K extends string>(
  n: number,
  fit: (indices: number[]) => Record<K, number>,
  options: { resamples?: number; seed?: number; level?: number } = {},
): { samples: Record<K, number>[]; spread: Record<K, Spread> } {
  const rng = new Rng(options.seed ?? 1234);
  const samples: Record<K, number>[] = [];
  for (let r = 0; r < (options.resamples ?? 1000); r++) samples.push(fit(resampleIndices(n, rng)));
  const spread = {} as Record<K, Spread>;
  for (const key of Object.keys(samples[0] ?? {}) as K[]) spread[key] = spreadOf(samples.map((s) => s[key]), options.level);
  return { samples, spread };
}
