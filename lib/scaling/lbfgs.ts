/**
 * L-BFGS (Nocedal & Wright, algorithm 7.4) with a backtracking Armijo line search, for the small
 * smooth problems of lib/scaling (five parameters, a few hundred points).
 *
 * Why written here: the npm packages that offer L-BFGS (optimization-js, fmin) are unmaintained,
 * untyped or lack it; the algorithm is fifty lines and the fits need only its unbounded form.
 *
 *   const { x, value } = minimizeLBFGS((x) => ({ value: f(x), gradient: df(x) }), x0);
 */

export interface Objective {
  (x: Float64Array): { value: number; gradient: Float64Array };
}

export interface LBFGSOptions {
  /** Pairs (s, y) kept for the Hessian estimate (scipy's default, 10). */
  memory?: number;
  maxIterations?: number;
  /** Stop when the largest gradient component is below this (scipy's pgtol, 1e-5). */
  gradientTolerance?: number;
  /** Stop when the relative decrease of the value in one step is below this (about scipy's factr 1e7). */
  valueTolerance?: number;
}

export interface LBFGSResult {
  x: Float64Array;
  value: number;
  gradient: Float64Array;
  iterations: number;
  converged: boolean;
}

const dot = (a: Float64Array, b: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

const maxAbs = (a: Float64Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** The quasi-Newton direction −H·g by the two-loop recursion over the stored pairs. */
function direction(g: Float64Array, ss: Float64Array[], ys: Float64Array[]): Float64Array {
  const q = Float64Array.from(g);
  const alphas: number[] = [];
  for (let i = ss.length - 1; i >= 0; i--) {
    const a = dot(ss[i], q) / dot(ys[i], ss[i]);
    alphas[i] = a;
    for (let j = 0; j < q.length; j++) q[j] -= a * ys[i][j];
  }
  if (ss.length > 0) {
    const last = ss.length - 1;
    const scale = dot(ss[last], ys[last]) / dot(ys[last], ys[last]);
    for (let j = 0; j < q.length; j++) q[j] *= scale;
  }
  for (let i = 0; i < ss.length; i++) {
    const b = dot(ys[i], q) / dot(ys[i], ss[i]);
    for (let j = 0; j < q.length; j++) q[j] += ss[i][j] * (alphas[i] - b);
  }
  for (let j = 0; j < q.length; j++) q[j] = -q[j];
  return q;
}

export function minimizeLBFGS(f: Objective, x0: ArrayLike<number>, options: LBFGSOptions = {}): LBFGSResult {
  const memory = options.memory ?? 10;
  const maxIterations = options.maxIterations ?? 500;
  const gradientTolerance = options.gradientTolerance ?? 1e-5;
  const valueTolerance = options.valueTolerance ?? 1e-12;
  let x = Float64Array.from(x0);
  let { value, gradient } = f(x);
  const ss: Float64Array[] = [];
  const ys: Float64Array[] = [];
  let iterations = 0;
  let converged = maxAbs(gradient) < gradientTolerance;
  while (!converged && iterations < maxIterations && Number.isFinite(value)) {
    iterations++;
    let d = direction(gradient, ss, ys);
    let slope = dot(d, gradient);
    if (!(slope < 0)) {
      // Not a descent direction (a stale curvature estimate): restart from steepest descent.
      ss.length = ys.length = 0;
      d = gradient.map((v) => -v);
      slope = dot(d, gradient);
    }
    let step = ss.length === 0 ? Math.min(1, 1 / Math.max(maxAbs(gradient), 1e-12)) : 1;
    let next: { value: number; gradient: Float64Array } | undefined;
    let xNext = x;
    for (let tries = 0; tries < 60; tries++) {
      xNext = x.map((v, i) => v + step * d[i]);
      next = f(xNext);
      if (Number.isFinite(next.value) && next.value <= value + 1e-4 * step * slope) break;
      next = undefined;
      step *= 0.5;
    }
    if (!next) {
      converged = true; // no step decreases the value: a minimum to working precision
      break;
    }
    const s = xNext.map((v, i) => v - x[i]);
    const y = next.gradient.map((v, i) => v - gradient[i]);
    if (dot(s, y) > 1e-12 * dot(y, y)) {
      ss.push(s);
      ys.push(y);
      if (ss.length > memory) {
        ss.shift();
        ys.shift();
      }
    }
    const decrease = value - next.value;
    x = xNext;
    value = next.value;
    gradient = next.gradient;
    converged = maxAbs(gradient) < gradientTolerance || decrease <= valueTolerance * Math.max(Math.abs(value), 1);
  }
  return { x, value, gradient, iterations, converged };
}
