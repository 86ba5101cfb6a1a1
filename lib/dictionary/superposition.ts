/**
 * Anthropic's "Toy Models of Superposition" (Elhage et al. 2022): n features squeezed into m < n
 * dimensions and read back, x′ = ReLU(WᵀW x + b) with W (m, n), trained on the importance-weighted
 * squared error Σᵢ Iᵢ (xᵢ − x′ᵢ)². Each feature is 0 with probability `sparsity`, else uniform in [0, 1).
 * Dense features: the model keeps the m most important ones. Sparse: it stores more features than
 * dimensions, 5 in 2 as a regular pentagon.
 */
import * as tf from "@tensorflow/tfjs-core";
import { AdamW } from "../train/adamw.js";
import { variableGradsFreeing } from "../train/backprop.js";
import { Rng } from "../util/random.js";

export interface ToySuperpositionOptions {
  nFeatures: number;
  nHidden: number;
  sparsity: number;
  /** Iᵢ; default 0.9^i. */
  importance?: number[];
  steps?: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
}

export interface ToySuperpositionResult {
  /** (m, n): column i is where feature i is stored. */
  W: number[][];
  b: number[];
  loss: number;
}

/** Trains one toy model; its columns' norms and angles are the picture. */
export async function trainToySuperposition(options: ToySuperpositionOptions): Promise<ToySuperpositionResult> {
  const { nFeatures: n, nHidden: m, sparsity } = options;
  const importance = options.importance ?? Array.from({ length: n }, (_, i) => 0.9 ** i);
  const steps = options.steps ?? 5000;
  const batchSize = options.batchSize ?? 1024;
  const rng = new Rng(options.seed ?? 0);
  // Xavier-normal start, as the paper's code.
  const std = Math.sqrt(2 / (n + m));
  const params = tf.tidy(() => ({
    W: tf.variable(tf.tensor2d(Array.from({ length: m }, () => Array.from({ length: n }, () => std * rng.normal())))),
    b: tf.variable(tf.zeros([n])),
  }));
  const optimizer = new AdamW(params, { learningRate: options.learningRate ?? 1e-3, weightDecay: 0 });
  const weights = tf.tensor1d(importance);
  const x = new Float32Array(batchSize * n);
  let loss = NaN;
  for (let step = 1; step <= steps; step++) {
    for (let i = 0; i < x.length; i++) x[i] = rng.random() < sparsity ? 0 : rng.random();
    const batch = tf.tensor2d(x, [batchSize, n]);
    const { value, grads } = variableGradsFreeing(() =>
      tf.tidy(() => {
        const hidden = tf.matMul(batch, params.W, false, true);
        const out = tf.relu(tf.add(tf.matMul(hidden, params.W), params.b));
        return tf.mean(tf.sum(tf.mul(weights, tf.square(tf.sub(batch, out))), 1)) as tf.Scalar;
      }),
      [params.W, params.b],
    );
    optimizer.step({ W: grads[params.W.name], b: grads[params.b.name] });
    if (step === steps) loss = (await value.data())[0];
    tf.dispose([batch, value, ...Object.values(grads)]);
  }
  const result = { W: params.W.arraySync() as number[][], b: Array.from(params.b.dataSync()), loss };
  optimizer.dispose();
  tf.dispose([params.W, params.b, weights]);
  return result;
}

/** Each column's norm and angle in the plane (degrees, in [0, 360)); meaningful for m = 2. */
export function columnGeometry(W: number[][]): { norm: number; angle: number }[] {
  return W[0].map((_, i) => {
    const [a, c] = [W[0][i], W[1]?.[i] ?? 0];
    return { norm: Math.hypot(a, c), angle: ((Math.atan2(c, a) * 180) / Math.PI + 360) % 360 };
  });
}

/** Angles between neighbouring columns going round the circle (those with norm above `minNorm`). */
export function neighbourAngles(W: number[][], minNorm = 0.5): number[] {
  const angles = columnGeometry(W).filter((g) => g.norm > minNorm).map((g) => g.angle).sort((a, b) => a - b);
  return angles.map((a, i) => (i + 1 < angles.length ? angles[i + 1] - a : 360 - a + angles[0]));
}
