/**
 * Chinchilla's parametric loss L(N, D) = E + A/N^α + B/D^β, fitted as Hoffmann et al. (2022,
 * appendix D.2) and Epoch AI's replication (Besiroglu et al. 2024) do: parameters (a, b, e, α, β)
 * with A = eᵃ, B = eᵇ, E = eᵉ; the predicted log-loss is logsumexp(a − α·ln N, b − β·ln D, e);
 * minimise the sum of Huber losses (δ = 1e-3) of its difference from the observed log-loss with
 * L-BFGS, started from every point of a grid, and keep the best.
 */
import { minimizeLBFGS } from "./lbfgs.js";
import { bootstrap, type Spread } from "./bootstrap.js";

export interface LossPoint {
  /** Parameters. */
  n: number;
  /** Training tokens. */
  d: number;
  loss: number;
}

export interface ChinchillaParams {
  E: number;
  A: number;
  B: number;
  alpha: number;
  beta: number;
}

export interface ChinchillaFit extends ChinchillaParams {
  /** The objective at the optimum (sum of Huber losses). */
  objective: number;
  /** L-BFGS runs made (one per start). */
  starts: number;
}

export interface ChinchillaFitOptions {
  /** Huber's δ on log-loss residuals (Hoffmann et al.: 1e-3). */
  delta?: number;
  /** Starting points [a, b, e, α, β]; default: Hoffmann et al.'s grid (4,500 points). */
  starts?: number[][];
  /** Run L-BFGS from only the best `refine` starts by initial objective (all when omitted). */
  refine?: number;
}

/** Hoffmann et al.'s grid of starts: α, β ∈ {0, 0.5, …, 2}, e ∈ {−1, −0.5, …, 1}, a, b ∈ {0, 5, …, 25}. */
export function chinchillaStartGrid(): number[][] {
  const range = (from: number, to: number, step: number) =>
    Array.from({ length: Math.round((to - from) / step) + 1 }, (_, i) => from + i * step);
  const grid: number[][] = [];
  for (const a of range(0, 25, 5))
    for (const b of range(0, 25, 5))
      for (const e of range(-1, 1, 0.5))
        for (const alpha of range(0, 2, 0.5)) for (const beta of range(0, 2, 0.5)) grid.push([a, b, e, alpha, beta]);
  return grid;
}

export function huber(r: number, delta: number): number {
  const a = Math.abs(r);
  return a <= delta ? 0.5 * r * r : delta * (a - 0.5 * delta);
}

/** The objective and its gradient over θ = [a, b, e, α, β] for points given as logs. */
function objective(logN: Float64Array, logD: Float64Array, logL: Float64Array, delta: number) {
  return (theta: Float64Array) => {
    const [a, b, e, alpha, beta] = theta;
    let value = 0;
    const gradient = new Float64Array(5);
    for (let i = 0; i < logN.length; i++) {
      const t1 = a - alpha * logN[i];
      const t2 = b - beta * logD[i];
      const top = Math.max(t1, t2, e);
      const x1 = Math.exp(t1 - top);
      const x2 = Math.exp(t2 - top);
      const x3 = Math.exp(e - top);
      const sum = x1 + x2 + x3;
      const r = top + Math.log(sum) - logL[i];
      value += huber(r, delta);
      const dr = Math.max(-delta, Math.min(delta, r)) / sum;
      gradient[0] += dr * x1;
      gradient[1] += dr * x2;
      gradient[2] += dr * x3;
      gradient[3] -= dr * x1 * logN[i];
      gradient[4] -= dr * x2 * logD[i];
    }
    return { value, gradient };
  };
}

const toParams = (theta: ArrayLike<number>): ChinchillaParams => ({
  A: Math.exp(theta[0]),
  B: Math.exp(theta[1]),
  E: Math.exp(theta[2]),
  alpha: theta[3],
  beta: theta[4],
});

const fromParams = (p: ChinchillaParams): number[] => [Math.log(p.A), Math.log(p.B), Math.log(p.E), p.alpha, p.beta];

export function fitChinchilla(points: LossPoint[], options: ChinchillaFitOptions = {}): ChinchillaFit {
  if (points.length < 5) throw new Error(`fitChinchilla: need at least 5 points, got ${points.length}`);
  for (const p of points) {
    if (!(p.n > 0 && p.d > 0 && p.loss > 0)) throw new Error(`fitChinchilla: N, D and loss must be positive, got ${JSON.stringify(p)}`);
  }
  const f = objective(
    Float64Array.from(points, (p) => Math.log(p.n)),
    Float64Array.from(points, (p) => Math.log(p.d)),
    Float64Array.from(points, (p) => Math.log(p.loss)),
    options.delta ?? 1e-3,
  );
  let starts = options.starts ?? chinchillaStartGrid();
  if (options.refine !== undefined && options.refine < starts.length) {
    starts = starts
      .map((s) => ({ s, value: f(Float64Array.from(s)).value }))
      .sort((x, y) => x.value - y.value)
      .slice(0, options.refine)
      .map((x) => x.s);
  }
  let best: { x: Float64Array; value: number } | undefined;
  for (const start of starts) {
    const result = minimizeLBFGS(f, start, { maxIterations: 1000, gradientTolerance: 1e-9, valueTolerance: 1e-14 });
    if (Number.isFinite(result.value) && (!best || result.value < best.value)) best = result;
  }
  if (!best) throw new Error("fitChinchilla: no start converged to a finite objective");
  return { ...toParams(best.x), objective: best.value, starts: starts.length };
}

/** The fitted loss at (N, D). */
export function chinchillaLoss(p: ChinchillaParams, n: number, d: number): number {
  return p.E + p.A / n ** p.alpha + p.B / d ** p.beta;
}

/**
 * Bootstrap standard errors and intervals: refit on resamples, each started from the full-data
 * optimum (and `extraStarts`), as Epoch's replication reports them.
 */
export function bootstrapChinchilla(
  points: LossPoint[],
  fit: ChinchillaParams,
  options: { resamples?: number; seed?: number; level?: number; extraStarts?: number[][]; delta?: number } = {},
): { samples: ChinchillaParams[]; spread: Record<keyof ChinchillaParams, Spread> } {
  const starts = [fromParams(fit), ...(options.extraStarts ?? [])];
  return bootstrap(
    points.length,
    (indices) => {
      const { E, A, B, alpha, beta } = fitChinchilla(
        indices.map((i) => points[i]),
        { starts, delta: options.delta },
      );
      return { E, A, B, alpha, beta };
    },
    options,
  );
}

/**
 * The compute-optimal allocation under C = 6·N·D: N*(C) = G·(C/6)^a, D*(C) = (C/6)/N*(C), with
 * a = β/(α+β) and G = (αA/(βB))^(1/(α+β)) (Hoffmann et al., equation 4).
 */
export function computeOptimal(p: ChinchillaParams, flops: number): { n: number; d: number; loss: number } {
  const a = p.beta / (p.alpha + p.beta);
  const g = ((p.alpha * p.A) / (p.beta * p.B)) ** (1 / (p.alpha + p.beta));
  const n = g * (flops / 6) ** a;
  const d = flops / 6 / n;
  return { n, d, loss: chinchillaLoss(p, n, d) };
}

/** The exponents of N*(C) ∝ C^a and D*(C) ∝ C^b. */
export function computeOptimalExponents(p: ChinchillaParams): { a: number; b: number } {
  return { a: p.beta / (p.alpha + p.beta), b: p.alpha / (p.alpha + p.beta) };
}
