/**
 * The L1 form of sparse coding, min_z ½‖x − D z‖² + λ‖z‖₁ for every signal at once, by ISTA
 * (a gradient step, then soft-thresholding) or FISTA (the same with Nesterov momentum, Beck &
 * Teboulle 2009). The step is 1/L with L the largest eigenvalue of DᵀD (power iteration).
 * scikit-learn's Lasso minimises (1/2d)‖x − Dz‖² + α‖z‖₁: the same problem with λ = α·d.
 */
import * as tf from "@tensorflow/tfjs-core";

export interface LassoOptions {
  lambda: number;
  iterations?: number;
  /** FISTA (default) or plain ISTA. */
  method?: "fista" | "ista";
  /** Called every `reportEvery` iterations with MSE and mean non-zeros (reading them back costs a sync). */
  onIteration?: (report: LassoIteration) => void;
  reportEvery?: number;
}

export interface LassoIteration {
  iteration: number;
  mse: number;
  meanNonZeros: number;
}

/** Codes (n, K) for the rows of `signals` (n, d) over `dictionary` (d, K). */
export async function lassoCode(signals: tf.Tensor2D, dictionary: tf.Tensor2D, options: LassoOptions): Promise<tf.Tensor2D> {
  const iterations = options.iterations ?? 200;
  const fista = (options.method ?? "fista") === "fista";
  const every = options.reportEvery ?? 10;
  const [n] = signals.shape;
  const K = dictionary.shape[1];
  const gram = tf.tidy(() => tf.matMul(dictionary, dictionary, true, false)) as tf.Tensor2D;
  const dtx = tf.tidy(() => tf.matMul(signals, dictionary));
  const lipschitz = await largestEigenvalue(gram);
  const step = 1 / (lipschitz * 1.001); // the Rayleigh quotient is at most λ_max: a hair of margin
  const threshold = options.lambda * step;
  let z: tf.Tensor2D = tf.zeros([n, K]);
  let y: tf.Tensor2D = tf.zeros([n, K]);
  let t = 1;
  for (let it = 1; it <= iterations; it++) {
    const next = tf.tidy(() => {
      // ∇ ½‖x − D y‖² = y DᵀD − xᵀD (rows are signals).
      const moved = tf.sub(y, tf.mul(tf.sub(tf.matMul(y, gram as tf.Tensor2D), dtx), step));
      return tf.mul(tf.sign(moved), tf.relu(tf.sub(tf.abs(moved), threshold))) as tf.Tensor2D;
    });
    const tNext = fista ? (1 + Math.sqrt(1 + 4 * t * t)) / 2 : 1;
    const momentum = fista ? (t - 1) / tNext : 0;
    const yNext = tf.tidy(() => (momentum === 0 ? next.clone() : tf.add(next, tf.mul(tf.sub(next, z), momentum))) as tf.Tensor2D);
    tf.dispose([z, y]);
    [z, y, t] = [next, yNext, tNext];
    if (options.onIteration && (it % every === 0 || it === iterations)) {
      const [mse, nz] = tf.tidy(() => [
        tf.mean(tf.square(tf.sub(signals, tf.matMul(z, dictionary, false, true)))),
        tf.div(tf.sum(tf.cast(tf.notEqual(z, 0), "float32")), n),
      ]);
      options.onIteration({ iteration: it, mse: (await mse.data())[0], meanNonZeros: (await nz.data())[0] });
      tf.dispose([mse, nz]);
    }
  }
  tf.dispose([y, gram, dtx]);
  return z;
}

/** The largest eigenvalue of a symmetric positive semi-definite matrix, by power iteration. */
export async function largestEigenvalue(matrix: tf.Tensor2D, steps = 100): Promise<number> {
  const k = matrix.shape[0];
  let v: tf.Tensor2D = tf.tidy(() => tf.div(tf.ones([k, 1]), Math.sqrt(k)));
  for (let i = 0; i < steps; i++) {
    const next = tf.tidy(() => {
      const w = tf.matMul(matrix, v);
      return tf.div(w, tf.norm(w)) as tf.Tensor2D;
    });
    v.dispose();
    v = next;
  }
  const rayleigh = tf.tidy(() => tf.sum(tf.mul(v, tf.matMul(matrix, v))));
  const value = (await rayleigh.data())[0];
  tf.dispose([v, rayleigh]);
  return value;
}
