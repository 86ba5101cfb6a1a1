/**
 * Orthogonal matching pursuit, batched (Rubinstein, Zibulevsky & Elad's "Batch-OMP"): the large
 * products (every signal against every atom, and the atoms' Gram matrix) are tensor ops done once;
 * each step then picks, for all signals at once, the atom most correlated with the residual, and
 * refits the signal on its chosen atoms by least squares through a Cholesky factor grown by one row.
 *
 * Shapes: signals X are rows (n, d); the dictionary D holds one atom per column (d, K), unit norm.
 * Coefficients come back as a dense (n, K) array with at most `nNonZero` non-zeros per row.
 */
import * as tf from "@tensorflow/tfjs-core";

export interface OmpOptions {
  /** Stop each signal after this many atoms (default: 10 % of d, at least 1, as scikit-learn). */
  nNonZero?: number;
  /** Or stop each signal once its squared residual norm is at most this (scikit-learn's `tol`). */
  tol?: number;
}

export interface OmpResult {
  /** (n, K) coefficients, row-major, float64. */
  coef: Float64Array;
  n: number;
  atoms: number;
  /** Number of atoms each signal uses. */
  nonZeros: Int32Array;
  /** Squared residual norm of each signal. */
  residual: Float64Array;
}

/** Float64 copy of a 2-D tensor's values (the small solves below run in double precision). */
async function float64(t: tf.Tensor): Promise<Float64Array> {
  return Float64Array.from(await t.data());
}

/** OMP of every row of `signals` (n, d) over `dictionary` (d, K). */
export async function orthogonalMatchingPursuit(
  signals: tf.Tensor2D,
  dictionary: tf.Tensor2D,
  options: OmpOptions = {},
): Promise<OmpResult> {
  const [n, d] = signals.shape;
  const [dd, K] = dictionary.shape;
  if (dd !== d) throw new RangeError(`omp: signals have ${d} dimensions but the dictionary's atoms have ${dd}`);
  const maxAtoms = Math.min(options.tol !== undefined ? d : options.nNonZero ?? Math.max(1, Math.floor(0.1 * d)), d, K);
  if (!(maxAtoms >= 1)) throw new RangeError(`omp: nNonZero must be at least 1 (got ${options.nNonZero})`);
  const [dtx, gram, norms] = tf.tidy(() => [
    tf.matMul(signals, dictionary),
    tf.matMul(dictionary, dictionary, true, false),
    tf.sum(tf.square(signals), 1),
  ]);
  const alpha0 = await float64(dtx);
  const G = await float64(gram);
  const energy = await float64(norms);
  tf.dispose([dtx, gram, norms]);

  const coef = new Float64Array(n * K);
  const nonZeros = new Int32Array(n);
  const residual = Float64Array.from(energy);
  const support = new Int32Array(n * maxAtoms);
  const L = new Float64Array(n * maxAtoms * maxAtoms); // lower Cholesky factor of G[S, S], per signal
  const gamma = new Float64Array(maxAtoms);
  const done = new Uint8Array(n);
  const tol = options.tol;
  for (let i = 0; i < n; i++) if (tol !== undefined && residual[i] <= tol) done[i] = 1;

  for (let step = 0; step < maxAtoms; step++) {
    // Correlations of every residual with every atom: Dᵀr = Dᵀx − G[:, S] γ_S, one tensor product.
    const picks = await pickAtoms(alpha0, G, coef, n, K, done);
    for (let i = 0; i < n; i++) {
      if (done[i]) continue;
      const k = picks[i];
      const s = step;
      const Li = i * maxAtoms * maxAtoms;
      const Si = i * maxAtoms;
      // Grow the Cholesky factor by the new atom: solve L w = G[S, k], then the diagonal.
      let wSq = 0;
      for (let r = 0; r < s; r++) {
        let v = G[support[Si + r] * K + k];
        for (let c = 0; c < r; c++) v -= L[Li + r * maxAtoms + c] * L[Li + s * maxAtoms + c];
        v /= L[Li + r * maxAtoms + r];
        L[Li + s * maxAtoms + r] = v;
        wSq += v * v;
      }
      const diag = G[k * K + k] - wSq;
      if (!(diag > 1e-12)) {
        // The atom is (numerically) in the span of the chosen ones: nothing more can be explained.
        done[i] = 1;
        continue;
      }
      L[Li + s * maxAtoms + s] = Math.sqrt(diag);
      support[Si + s] = k;
      nonZeros[i] = s + 1;
      // γ = (L Lᵀ)⁻¹ (Dᵀx)_S by a forward then a backward substitution.
      for (let r = 0; r <= s; r++) {
        let v = alpha0[i * K + support[Si + r]];
        for (let c = 0; c < r; c++) v -= L[Li + r * maxAtoms + c] * gamma[c];
        gamma[r] = v / L[Li + r * maxAtoms + r];
      }
      for (let r = s; r >= 0; r--) {
        let v = gamma[r];
        for (let c = r + 1; c <= s; c++) v -= L[Li + c * maxAtoms + r] * gamma[c];
        gamma[r] = v / L[Li + r * maxAtoms + r];
      }
      // With least-squares coefficients, ‖r‖² = ‖x‖² − γᵀ (Dᵀx)_S.
      let explained = 0;
      for (let r = 0; r <= s; r++) {
        coef[i * K + support[Si + r]] = gamma[r];
        explained += gamma[r] * alpha0[i * K + support[Si + r]];
      }
      residual[i] = Math.max(0, energy[i] - explained);
      if (tol !== undefined && residual[i] <= tol) done[i] = 1;
    }
    if (done.every((v) => v === 1)) break;
  }
  return { coef, n, atoms: K, nonZeros, residual };
}

/** For each signal not yet done, the atom (not yet chosen) most correlated with its residual. */
async function pickAtoms(
  alpha0: Float64Array,
  G: Float64Array,
  coef: Float64Array,
  n: number,
  K: number,
  done: Uint8Array,
): Promise<Int32Array> {
  const picked = tf.tidy(() => {
    const c = tf.tensor2d(Float32Array.from(coef), [n, K]);
    const corr = tf.sub(tf.tensor2d(Float32Array.from(alpha0), [n, K]), tf.matMul(c, tf.tensor2d(Float32Array.from(G), [K, K])));
    // Chosen atoms are already orthogonal to the residual; masking them guards against round-off.
    const score = tf.where(tf.notEqual(c, 0), tf.fill([n, K], -1), tf.abs(corr));
    return tf.argMax(score, 1);
  });
  const picks = Int32Array.from(await picked.data());
  picked.dispose();
  for (let i = 0; i < n; i++) if (done[i]) picks[i] = -1;
  return picks;
}

/** The coefficients as a tensor (n, K), float32. */
export function coefTensor(result: OmpResult): tf.Tensor2D {
  return tf.tensor2d(Float32Array.from(result.coef), [result.n, result.atoms]);
}
