/** The learning-rate schedule of nanoGPT's train.py: linear warm-up, cosine decay, then a floor. */
export interface LrSchedule {
  learningRate: number;
  /** Iterations of linear warm-up to learningRate. */
  warmupIters: number;
  /** Iteration at which the cosine reaches minLr (nanoGPT: about maxIters). */
  lrDecayIters: number;
  minLr: number;
  /** false: a constant learningRate. */
  decayLr: boolean;
}

/** The learning rate at iteration `iter` (0-based). */
export function learningRateAt(iter: number, s: LrSchedule): number {
  if (!s.decayLr) return s.learningRate;
  if (iter < s.warmupIters) return (s.learningRate * (iter + 1)) / (s.warmupIters + 1);
  // ≥ rather than nanoGPT's >: the same value at lrDecayIters (the cosine's end), and no 0/0 when it equals warmupIters.
  if (iter >= s.lrDecayIters) return s.minLr;
  const decayRatio = (iter - s.warmupIters) / (s.lrDecayIters - s.warmupIters);
  const coeff = 0.5 * (1 + Math.cos(Math.PI * decayRatio)); // from 1 down to 0
  return s.minLr + coeff * (s.learningRate - s.minLr);
}
