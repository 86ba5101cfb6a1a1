/**
 * IsoFLOP profiles (Hoffmann et al.'s approach 2): for each compute budget, fit a parabola to loss
 * against ln N, take its minimum as the budget's optimal N, then fit N*(C) = k·C^a (and D* = C/(6N*))
 * through those minima.
 */
import { fitLine } from "./powerlaw.js";

export interface IsoFlopPoint {
  n: number;
  flops: number;
  loss: number;
  /** The budget the run was planned for: points with the same one form a profile (default: grouped by flops). */
  budget?: number;
}

export interface IsoFlopProfile {
  flops: number;
  points: IsoFlopPoint[];
  /** loss ≈ c2·(ln N)² + c1·ln N + c0. */
  parabola: { c2: number; c1: number; c0: number };
  nOpt: number;
  lossOpt: number;
}

export interface IsoFlopFit {
  profiles: IsoFlopProfile[];
  /** N*(C) = nCoefficient·C^nExponent. */
  nExponent: number;
  nCoefficient: number;
  /** D*(C) = C / (6·N*) ∝ C^dExponent. */
  dExponent: number;
}

/** Least-squares parabola through (x, y). */
export function fitParabola(xs: number[], ys: number[]): { c2: number; c1: number; c0: number } {
  // Normal equations for [c2, c1, c0], centred on mean x for conditioning.
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  const s = [0, 0, 0, 0, 0];
  const t = [0, 0, 0];
  xs.forEach((x0, i) => {
    const x = x0 - m;
    for (let k = 0; k <= 4; k++) s[k] += x ** k;
    for (let k = 0; k <= 2; k++) t[k] += ys[i] * x ** k;
  });
  const matrix = [
    [s[4], s[3], s[2], t[2]],
    [s[3], s[2], s[1], t[1]],
    [s[2], s[1], s[0], t[0]],
  ];
  for (let col = 0; col < 3; col++) {
    let pivot = col;
    for (let row = col + 1; row < 3; row++) if (Math.abs(matrix[row][col]) > Math.abs(matrix[pivot][col])) pivot = row;
    [matrix[col], matrix[pivot]] = [matrix[pivot], matrix[col]];
    for (let row = 0; row < 3; row++) {
      if (row === col) continue;
      const factor = matrix[row][col] / matrix[col][col];
      for (let k = col; k < 4; k++) matrix[row][k] -= factor * matrix[col][k];
    }
  }
  const [a, b, c] = matrix.map((row, i) => row[3] / row[i]);
  // Undo the centring: a(x−m)² + b(x−m) + c.
  return { c2: a, c1: b - 2 * a * m, c0: a * m * m - b * m + c };
}

/**
 * Group points by their planned budget, or else by FLOPs (within `tolerance` relative of each other are one), fit each
 * budget with at least 3 distinct sizes and an upward parabola, and the power law through the minima.
 */
export function fitIsoFlop(points: IsoFlopPoint[], options: { tolerance?: number } = {}): IsoFlopFit {
  const tolerance = options.tolerance ?? 0.05;
  const groups: IsoFlopPoint[][] = [];
  const planned = new Map<number, IsoFlopPoint[]>();
  for (const p of points) if (p.budget !== undefined) planned.set(p.budget, [...(planned.get(p.budget) ?? []), p]);
  const byFlops: IsoFlopPoint[][] = [];
  for (const p of [...points].filter((q) => q.budget === undefined).sort((a, b) => a.flops - b.flops)) {
    const last = byFlops[byFlops.length - 1];
    if (last && Math.abs(p.flops - last[0].flops) <= tolerance * last[0].flops) last.push(p);
    else byFlops.push([p]);
  }
  groups.push(...[...planned.entries()].map(([, group]) => group), ...byFlops);
  const profiles: IsoFlopProfile[] = [];
  for (const group of groups) {
    if (new Set(group.map((p) => p.n)).size < 3) continue;
    const parabola = fitParabola(group.map((p) => Math.log(p.n)), group.map((p) => p.loss));
    if (!(parabola.c2 > 0)) continue;
    const x = -parabola.c1 / (2 * parabola.c2);
    const flops = group[0].budget ?? Math.exp(group.reduce((s, p) => s + Math.log(p.flops), 0) / group.length);
    profiles.push({ flops, points: group, parabola, nOpt: Math.exp(x), lossOpt: parabola.c2 * x * x + parabola.c1 * x + parabola.c0 });
  }
  profiles.sort((a, b) => a.flops - b.flops);
  if (profiles.length < 2) {
    throw new Error(`fitIsoFlop: need at least 2 budgets with 3 or more sizes and a minimum, found ${profiles.length} of ${groups.length}`);
  }
  const line = fitLine(profiles.map((p) => Math.log(p.flops)), profiles.map((p) => Math.log(p.nOpt)));
  return { profiles, nExponent: line.slope, nCoefficient: Math.exp(line.intercept), dExponent: 1 - line.slope };
}
