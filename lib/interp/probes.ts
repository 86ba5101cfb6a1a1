/**
 * Linear probes: multinomial logistic regression from cached activations (N, d_model) to labels,
 * trained full-batch with Adam and weight decay (an L2 penalty) on a seeded split, scored on the
 * held-out part. A probe whose held-out accuracy is high says the label is linearly readable there.
 */
import * as tf from "@tensorflow/tfjs-core";
import { Rng } from "../util/random.js";
import type { ActivationCache } from "./cache.js";

export interface ProbeOptions {
  /** Number of classes (default: the largest label + 1). */
  classes?: number;
  /** L2 penalty on the weights, weightDecay/2 · ‖W‖² (default 1e-3). */
  weightDecay?: number;
  /** Full-batch Adam steps (default 300) at this learning rate (default 0.05). */
  steps?: number;
  learningRate?: number;
  /** Share of the examples held out for the test accuracy (default 0.25). */
  testFraction?: number;
  /** Seeds the split (default 0). */
  seed?: number;
}

export interface Probe {
  /** (d_model, classes) and (classes): logits = x·W + b. */
  weight: tf.Tensor2D;
  bias: tf.Tensor1D;
  classes: number;
  trainAccuracy: number;
  /** Accuracy on the held-out examples. */
  testAccuracy: number;
  testSize: number;
  /** The probe direction, unit length: for two classes W[:,1] − W[:,0], else the class-0 column (see weight for all). */
  direction: Float32Array;
  /** Predicted class per row of x (N, d_model). */
  predict(x: tf.Tensor2D): tf.Tensor1D;
  dispose(): void;
}

/** Train a probe on features (N, d_model) for integer labels (N). */
export async function trainProbe(features: tf.Tensor2D, labels: ArrayLike<number>, options: ProbeOptions = {}): Promise<Probe> {
  const [N, C] = features.shape;
  if (labels.length !== N) throw new RangeError(`trainProbe: ${labels.length} labels for ${N} rows of features`);
  const ys = Array.from(labels);
  if (ys.some((y) => !Number.isInteger(y) || y < 0)) throw new RangeError("trainProbe: labels must be non-negative integers");
  const K = options.classes ?? Math.max(...ys) + 1;
  const { weightDecay = 1e-3, steps = 300, learningRate = 0.05, testFraction = 0.25, seed = 0 } = options;
  const order = shuffled(N, seed);
  const nTest = Math.min(N - 1, Math.max(1, Math.round(N * testFraction)));
  const [testRows, trainRows] = [order.slice(0, nTest), order.slice(nTest)];
  const weight = tf.tidy(() => tf.variable(tf.zeros([C, K]))) as tf.Variable<tf.Rank.R2>;
  const bias = tf.tidy(() => tf.variable(tf.zeros([K]))) as tf.Variable<tf.Rank.R1>;
  const optimizer = tf.train.adam(learningRate);
  const [xTrain, xTest] = tf.tidy(() => [tf.gather(features, trainRows), tf.gather(features, testRows)]) as [tf.Tensor2D, tf.Tensor2D];
  const yTrain = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(trainRows.map((i) => ys[i]), "int32"), K), "float32"));
  try {
    for (let step = 0; step < steps; step++) {
      tf.tidy(() => {
        optimizer.minimize(() => {
          const logits = tf.add(tf.matMul(xTrain, weight), bias);
          const nll = tf.neg(tf.mean(tf.sum(tf.mul(yTrain, tf.logSoftmax(logits)), -1)));
          return tf.add(nll, tf.mul(weightDecay / 2, tf.sum(tf.square(weight)))) as tf.Scalar;
        });
      });
    }
    const predict = (x: tf.Tensor2D) => tf.tidy(() => tf.argMax(tf.add(tf.matMul(x, weight), bias), -1)) as tf.Tensor1D;
    const accuracy = async (x: tf.Tensor2D, rows: number[]) => {
      const predicted = predict(x);
      const values = await predicted.data();
      predicted.dispose();
      return rows.filter((row, i) => values[i] === ys[row]).length / rows.length;
    };
    const direction = await probeDirection(weight, K);
    return {
      weight,
      bias,
      classes: K,
      trainAccuracy: await accuracy(xTrain, trainRows),
      testAccuracy: await accuracy(xTest, testRows),
      testSize: nTest,
      direction,
      predict,
      dispose: () => {
        weight.dispose();
        bias.dispose();
      },
    };
  } catch (error) {
    weight.dispose();
    bias.dispose();
    throw error;
  } finally {
    for (const t of [xTrain, xTest, yTrain]) t.dispose();
    optimizer.dispose();
  }
}

/**
 * One probe per layer on the cached `name` ("resid_post" by default) at `position` (default the
 * last; not needed when the cache was made with a single-position posSlice): features (batch, d_model).
 */
export async function probeLayers(cache: ActivationCache, labels: ArrayLike<number>, options: ProbeOptions & { name?: string; position?: number; layers?: number[] } = {}): Promise<Probe[]> {
  const name = options.name ?? "resid_post";
  const layers = options.layers ?? cache.names.filter((n) => n.endsWith(`.hook_${name}`)).map((n) => Number(n.split(".")[1]));
  if (layers.length === 0) throw new Error(`probeLayers: the cache has no ${name} activations`);
  const probes: Probe[] = [];
  for (const layer of layers) {
    const act = cache.get(name, layer);
    const features = tf.tidy(() => {
      if (act.rank === 2) return act.clone() as tf.Tensor2D;
      const [B, T, C] = act.shape as [number, number, number];
      const position = options.position ?? -1;
      const pos = position < 0 ? position + T : position;
      if (!(pos >= 0 && pos < T)) throw new RangeError(`probeLayers: position ${position} is outside the ${T} positions`);
      return tf.reshape(tf.slice(act, [0, pos, 0], [B, 1, C]), [B, C]) as tf.Tensor2D;
    });
    try {
      probes.push(await trainProbe(features, labels, options));
    } finally {
      features.dispose();
    }
  }
  return probes;
}

async function probeDirection(weight: tf.Tensor2D, K: number): Promise<Float32Array> {
  const column = tf.tidy(() => {
    const cols = tf.unstack(weight, 1);
    const dir = K === 2 ? tf.sub(cols[1], cols[0]) : cols[0];
    return tf.div(dir, tf.maximum(tf.norm(dir), 1e-12));
  });
  const values = (await column.data()) as Float32Array;
  column.dispose();
  return values;
}

function shuffled(n: number, seed: number): number[] {
  const rng = new Rng(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.randint(0, i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}
