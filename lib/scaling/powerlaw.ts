/**
 * Kaplan et al. (2020) style single-variable laws: L(X) = (X_c / X)^α, optionally + L∞ (the
 * irreducible loss), for X = parameters N or compute C. Fitted by least squares on log-loss:
 * without L∞ that is a straight line in log-log; with it, L-BFGS over (α, ln X_c, ln L∞) from the
 * straight-line fit and a few offsets.
 */
import { minimizeLBFGS } from "./lbfgs.js";
import { bootstrap, quantile, type Spread } from "./bootstrap.js";

export interface PowerLaw {
  alpha: number;
  /** X_c: the scale at which the reducible part equals 1. */
  scale: number;
  /** L∞ (0 when not fitted). */
  offset: number;
}

export function powerLawValue(law: PowerLaw, x: number): number {
  return (law.scale / x) ** law.alpha + law.offset;
}

/** Least-squares line y = slope·x + intercept. */
export function fitLine(xs: ArrayLike<number>, ys: ArrayLike<number>): { slope: number; intercept: number } {
  const n = xs.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i] / n;
    my += ys[i] / n;
  }
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

function check(xs: ArrayLike<number>, ys: ArrayLike<number>): void {
  if (xs.length !== ys.length) throw new Error(`fitPowerLaw: ${xs.length} x values but ${ys.length} losses`);
  if (xs.length < 2) throw new Error(`fitPowerLaw: need at least 2 points, got ${xs.length}`);
  for (let i = 0; i < xs.length; i++) {
    if (!(xs[i] > 0 && ys[i] > 0)) throw new Error(`fitPowerLaw: x and loss must be positive (point ${i}: ${xs[i]}, ${ys[i]})`);
  }
}

export function fitPowerLaw(xs: ArrayLike<number>, ys: ArrayLike<number>, options: { offset?: boolean } = {}): PowerLaw {
  check(xs, ys);
  const lx = Array.from(xs, Math.log);
  const ly = Array.from(ys, Math.log);
  const line = fitLine(lx, ly);
  const straight: PowerLaw = { alpha: -line.slope, scale: Math.exp(line.intercept / -line.slope), offset: 0 };
  if (!options.offset) return straight;
  if (xs.length < 3) throw new Error(`fitPowerLaw: fitting L∞ needs at least 3 points, got ${xs.length}`);
  // θ = [α, ln X_c, ln L∞]; prediction ln L = logsumexp(α(ln X_c − ln X), ln L∞).
  const f = (theta: Float64Array) => {
    const [alpha, logScale, logOffset] = theta;
    let value = 0;
    const gradient = new Float64Array(3);
    for (let i = 0; i < lx.length; i++) {
      const t = alpha * (logScale - lx[i]);
      const top = Math.max(t, logOffset);
      const u = Math.exp(t - top);
      const v = Math.exp(logOffset - top);
      const r = top + Math.log(u + v) - ly[i];
      value += r * r;
      const w = (2 * r * u) / (u + v);
      gradient[0] += w * (logScale - lx[i]);
      gradient[1] += w * alpha;
      gradient[2] += (2 * r * v) / (u + v);
    }
    return { value, gradient };
  };
  const minLoss = Math.min(...Array.from(ys));
  let best: { x: Float64Array; value: number } | undefined;
  for (const fraction of [0.1, 0.5, 0.9, 0.99]) {
    const offset = fraction * minLoss;
    const inner = fitLine(lx, Array.from(ys, (y) => Math.log(Math.max(y - offset, 1e-12))));
    const alpha = Math.max(-inner.slope, 1e-3);
    const start = [alpha, inner.intercept / alpha, Math.log(offset)];
    const result = minimizeLBFGS(f, start, { maxIterations: 2000, gradientTolerance: 1e-12 });
    if (Number.isFinite(result.value) && (!best || result.value < best.value)) best = result;
  }
  if (!best) throw new Error("fitPowerLaw: the fit with L∞ did not converge");
  return { alpha: best.x[0], scale: Math.exp(best.x[1]), offset: Math.exp(best.x[2]) };
}

export interface PowerLawWithBand {
  fit: PowerLaw;
  spread: Record<keyof PowerLaw, Spread>;
  /** The predicted loss at `at` and its percentile band over the resamples. */
  band: { x: number; y: number; low: number; high: number }[];
}

/** The fit, its bootstrap spreads and a confidence band at `at` (default: 50 points over the data's range). */
export function fitPowerLawWithBand(
  xs: number[],
  ys: number[],
  options: { offset?: boolean; resamples?: number; seed?: number; level?: number; at?: number[] } = {},
): PowerLawWithBand {
  const fit = fitPowerLaw(xs, ys, options);
  const { samples, spread } = bootstrap(
    xs.length,
    (indices) => {
      const x = indices.map((i) => xs[i]);
      // A resample needs two distinct x values for a slope; fall back to the full fit otherwise.
      if (new Set(x).size < (options.offset ? 3 : 2)) return { ...fit };
      return { ...fitPowerLaw(x, indices.map((i) => ys[i]), options) };
    },
    options,
  );
  const lo = Math.log(Math.min(...xs));
  const hi = Math.log(Math.max(...xs));
  const at = options.at ?? Array.from({ length: 50 }, (_, i) => Math.exp(lo + ((hi - lo) * i) / 49));
  const tail = (1 - (options.level ?? 0.95)) / 2;
  const band = at.map((x) => {
    const values = samples.map((s) => powerLawValue(s, x)).filter(Number.isFinite).sort((a, b) => a - b);
    return { x, y: powerLawValue(fit, x), low: quantile(values, tail), high: quantile(values, 1 - tail) };
  });
  return { fit, spread, band };
}
