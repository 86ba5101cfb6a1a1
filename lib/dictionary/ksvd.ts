/**
 * K-SVD (Aharon, Elad & Bruckstein 2006): alternate sparse coding (OMP) with an atom-by-atom
 * dictionary update. Atom k and its coefficients become the best rank-1 fit of the residual of the
 * signals that use atom k, with atom k's own contribution put back — the top singular pair, found by
 * power iteration. An atom no signal uses, or one that has become a copy of another (|cos| > 0.99),
 * is re-seeded with the worst-explained signal (the clean-up in the authors' own code).
 */
import * as tf from "@tensorflow/tfjs-core";
import { Rng } from "../util/random.js";
import { orthogonalMatchingPursuit } from "./omp.js";

export interface KsvdOptions {
  atoms: number;
  /** Non-zeros per signal in the coding step. */
  nNonZero: number;
  iterations?: number;
  /** Power-iteration steps per rank-1 update (warm-started from the current atom). */
  powerSteps?: number;
  seed?: number;
  /** Starting dictionary (d, K); default: K distinct signals, normalised. */
  init?: Float64Array;
  /** Called after each iteration (with the dictionary after the update). */
  onIteration?: (report: KsvdIteration) => void;
}

export interface KsvdIteration {
  iteration: number;
  /** Mean squared reconstruction error per entry after the update. */
  mse: number;
  meanNonZeros: number;
  reseeded: number;
  /** The dictionary (d, K), column-major by atom: atom k is dictionary[k*d .. k*d+d). */
  atoms: Float64Array;
}

export interface KsvdResult {
  /** (K, d): row k is atom k (unit norm). */
  atoms: Float64Array;
  dim: number;
  count: number;
  history: Omit<KsvdIteration, "atoms">[];
}

/** Learn K atoms for the rows of `signals` (n, d). */
export async function ksvd(signals: tf.Tensor2D, options: KsvdOptions): Promise<KsvdResult> {
  const [n, d] = signals.shape;
  const K = options.atoms;
  const iterations = options.iterations ?? 20;
  const powerSteps = options.powerSteps ?? 4;
  const rng = new Rng(options.seed ?? 0);
  const Y = Float64Array.from(await signals.data());
  const atoms = options.init ? Float64Array.from(options.init) : initialAtoms(Y, n, d, K, rng);
  if (atoms.length !== K * d) throw new RangeError(`ksvd: init has ${atoms.length} values, expected ${K}×${d}`);
  for (let k = 0; k < K; k++) normalise(atoms, k * d, d, rng);
  const history: KsvdResult["history"] = [];

  for (let it = 1; it <= iterations; it++) {
    const dict = tf.tensor2d(Float32Array.from(atoms), [K, d]);
    const dictT = tf.transpose(dict) as tf.Tensor2D;
    const code = await orthogonalMatchingPursuit(signals, dictT, { nNonZero: options.nNonZero });
    tf.dispose([dict, dictT]);
    const C = code.coef;
    // Residual R = Y − C·atoms, kept up to date as atoms change.
    const R = Float64Array.from(Y);
    const users: number[][] = Array.from({ length: K }, () => []);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < K; k++) {
        const c = C[i * K + k];
        if (c === 0) continue;
        users[k].push(i);
        for (let j = 0; j < d; j++) R[i * d + j] -= c * atoms[k * d + j];
      }
    }
    let reseeded = 0;
    for (let k = 0; k < K; k++) {
      const rows = users[k];
      if (rows.length === 0) {
        reseedAtom(atoms, k, Y, R, n, d, rng);
        reseeded++;
        continue;
      }
      rankOneUpdate(atoms, k, d, rows, C, K, R, powerSteps);
    }
    reseeded += reseedDuplicates(atoms, K, d, Y, R, n, rng);
    let sq = 0;
    for (let i = 0; i < R.length; i++) sq += R[i] * R[i];
    const meanNonZeros = code.nonZeros.reduce((a, b) => a + b, 0) / n;
    const report = { iteration: it, mse: sq / (n * d), meanNonZeros, reseeded };
    history.push(report);
    options.onIteration?.({ ...report, atoms: Float64Array.from(atoms) });
  }
  return { atoms, dim: d, count: K, history };
}

/** Replace atom k and its coefficients by the top singular pair of E = R_users + c_k a_kᵀ. */
function rankOneUpdate(
  atoms: Float64Array, k: number, d: number, rows: number[], C: Float64Array, K: number, R: Float64Array, powerSteps: number,
): void {
  const m = rows.length;
  const E = new Float64Array(m * d);
  for (let r = 0; r < m; r++) {
    const i = rows[r];
    const c = C[i * K + k];
    for (let j = 0; j < d; j++) E[r * d + j] = R[i * d + j] + c * atoms[k * d + j];
  }
  const v = atoms.slice(k * d, k * d + d);
  const u = new Float64Array(m);
  for (let step = 0; step < powerSteps; step++) {
    // u = E v, v = Eᵀ u / ‖Eᵀ u‖: the power method on EᵀE, started at the current atom.
    for (let r = 0; r < m; r++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += E[r * d + j] * v[j];
      u[r] = s;
    }
    v.fill(0);
    for (let r = 0; r < m; r++) for (let j = 0; j < d; j++) v[j] += E[r * d + j] * u[r];
    let norm = 0;
    for (let j = 0; j < d; j++) norm += v[j] * v[j];
    norm = Math.sqrt(norm);
    if (norm === 0) return; // E is zero: the atom already explains its signals exactly
    for (let j = 0; j < d; j++) v[j] /= norm;
  }
  for (let j = 0; j < d; j++) atoms[k * d + j] = v[j];
  for (let r = 0; r < m; r++) {
    const i = rows[r];
    let c = 0;
    for (let j = 0; j < d; j++) c += E[r * d + j] * v[j];
    C[i * K + k] = c;
    for (let j = 0; j < d; j++) R[i * d + j] = E[r * d + j] - c * v[j];
  }
}

/**
 * Atom k becomes the signal (normalised) with the largest residual; its residual is then spoken for.
 * The signal, not its residual: the residual is orthogonal to the atoms already used, which is
 * exactly the wrong place when one atom sits between two true directions.
 */
function reseedAtom(atoms: Float64Array, k: number, Y: Float64Array, R: Float64Array, n: number, d: number, rng: Rng): void {
  let worst = 0;
  let worstSq = -1;
  for (let i = 0; i < n; i++) {
    let sq = 0;
    for (let j = 0; j < d; j++) sq += R[i * d + j] ** 2;
    if (sq > worstSq) [worst, worstSq] = [i, sq];
  }
  for (let j = 0; j < d; j++) atoms[k * d + j] = Y[worst * d + j];
  normalise(atoms, k * d, d, rng);
  // Not refitted until the next coding step; zeroing this residual keeps two empty atoms apart.
  for (let j = 0; j < d; j++) R[worst * d + j] = 0;
}

/** Re-seed each atom whose |cos| with an earlier atom exceeds 0.99; returns how many. */
function reseedDuplicates(atoms: Float64Array, K: number, d: number, Y: Float64Array, R: Float64Array, n: number, rng: Rng): number {
  let count = 0;
  for (let k = 1; k < K; k++) {
    for (let q = 0; q < k; q++) {
      let c = 0;
      for (let j = 0; j < d; j++) c += atoms[k * d + j] * atoms[q * d + j];
      if (Math.abs(c) > 0.99) {
        reseedAtom(atoms, k, Y, R, n, d, rng);
        count++;
        break;
      }
    }
  }
  return count;
}

function initialAtoms(Y: Float64Array, n: number, d: number, K: number, rng: Rng): Float64Array {
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const atoms = new Float64Array(K * d);
  for (let k = 0; k < K; k++) {
    if (k < n) atoms.set(Y.subarray(order[k] * d, order[k] * d + d), k * d);
  }
  return atoms;
}

/** Scale atoms[at..at+d) to unit norm; a zero vector becomes a random direction. */
function normalise(atoms: Float64Array, at: number, d: number, rng: Rng): void {
  let sq = 0;
  for (let j = 0; j < d; j++) sq += atoms[at + j] ** 2;
  if (sq < 1e-24) {
    for (let j = 0; j < d; j++) atoms[at + j] = rng.normal();
    sq = 0;
    for (let j = 0; j < d; j++) sq += atoms[at + j] ** 2;
  }
  const inv = 1 / Math.sqrt(sq);
  for (let j = 0; j < d; j++) atoms[at + j] *= inv;
}
