/**
 * Teacher–student toys (the seed's "scaling laws" exercises): a fixed random teacher network
 * defines the target; students are one-hidden-layer MLPs of a given width trained online (a fresh
 * batch each step, so data never repeats) with Adam; the loss is measured on a fixed test set.
 *
 * teacher-mse: the teacher's outputs are regression targets, loss = mean squared error.
 * teacher-ce:  the teacher's argmax is the class label, loss = cross-entropy (nats).
 *
 * config: width (student hidden units), steps, batch, lr, inputs (8), teacherWidth (64),
 * outputs (1 for mse, classes for ce), teacherSeed (the teacher, shared by every run: 0).
 */
import { engineInfo, tf, useBackend } from "../../engine/index.js";
import type { RunOutcome } from "../runs.js";
import type { RunConfig, TaskContext } from "../sweep.js";

interface ToyConfig {
  width: number;
  steps: number;
  batch: number;
  lr: number;
  inputs: number;
  teacherWidth: number;
  outputs: number;
  teacherSeed: number;
  evalEvery: number;
  testSize: number;
}

function toyConfig(config: RunConfig, outputs: number): ToyConfig {
  const get = (key: string, fallback: number): number => {
    const value = config[key] ?? fallback;
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) throw new Error(`config.${key} must be a positive number, got ${JSON.stringify(value)}`);
    return value;
  };
  const steps = get("steps", 300);
  return {
    width: get("width", 16),
    steps,
    batch: get("batch", 64),
    lr: get("lr", 3e-3),
    inputs: get("inputs", 8),
    teacherWidth: get("teacherWidth", 64),
    outputs: get("outputs", outputs),
    teacherSeed: (config.teacherSeed as number | undefined) ?? 0,
    evalEvery: get("evalEvery", Math.max(1, Math.floor(steps / 10))),
    testSize: get("testSize", 1024),
  };
}

interface Mlp {
  w1: tf.Variable;
  b1: tf.Variable;
  w2: tf.Variable;
  b2: tf.Variable;
}

/** Weights ~ N(0, scale²/fan_in), biases 0; the teacher's are not trainable (nothing may update it). */
function mlp(inputs: number, hidden: number, outputs: number, seed: number, scale = 1, trainable = true): Mlp {
  // Inside tidy, so the initial tensors are freed (the variables keep their own copies).
  const variable = (init: () => tf.Tensor) => tf.tidy(() => tf.variable(init(), trainable));
  return {
    w1: variable(() => tf.randomNormal([inputs, hidden], 0, scale / Math.sqrt(inputs), "float32", seed)),
    b1: variable(() => tf.zeros([hidden])),
    w2: variable(() => tf.randomNormal([hidden, outputs], 0, scale / Math.sqrt(hidden), "float32", seed + 1)),
    b2: variable(() => tf.zeros([outputs])),
  };
}

const forward = (net: Mlp, x: tf.Tensor2D): tf.Tensor2D => tf.tidy(() => tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(x, net.w1), net.b1)), net.w2), net.b2));
const disposeMlp = (net: Mlp) => Object.values(net).forEach((v: tf.Variable) => v.dispose());
const countParams = (net: Mlp) => Object.values(net).reduce((s: number, v: tf.Variable) => s + v.size, 0);

async function trainStudent(config: RunConfig, context: TaskContext, kind: "mse" | "ce"): Promise<RunOutcome> {
  const c = toyConfig(config, kind === "mse" ? 1 : 8);
  if (!engineInfo()) await useBackend(); // a fresh worker process: COURSE_BACKEND, else the fastest here
  // The teacher's seed is the sweep's, not the run's: every student learns the same function.
  const teacher = mlp(c.inputs, c.teacherWidth, c.outputs, 1000 + c.teacherSeed, kind === "ce" ? 3 : 2, false);
  const student = mlp(c.inputs, c.width, c.outputs, 2000 + 7919 * context.seed);
  const target = (x: tf.Tensor2D): tf.Tensor => tf.tidy(() => (kind === "mse" ? forward(teacher, x) : tf.argMax(forward(teacher, x), 1)));
  const lossOf = (x: tf.Tensor2D, y: tf.Tensor): tf.Scalar =>
    tf.tidy(() => {
      const out = forward(student, x);
      return kind === "mse" ? tf.losses.meanSquaredError(y, out) : tf.losses.softmaxCrossEntropy(tf.oneHot(y as tf.Tensor1D, c.outputs), out);
    }) as tf.Scalar;
  const testX = tf.randomNormal([c.testSize, c.inputs], 0, 1, "float32", 3000 + c.teacherSeed) as tf.Tensor2D;
  const testY = target(testX);
  const optimizer = tf.train.adam(c.lr);
  const params = countParams(student);
  const curve: { step: number; loss: number }[] = [];
  const evaluate = async (step: number) => {
    const loss = lossOf(testX, testY);
    const value = (await loss.data())[0];
    loss.dispose();
    curve.push({ step, loss: value });
    context.progress(step, value);
  };
  try {
    for (let step = 0; step < c.steps; step++) {
      if (step % c.evalEvery === 0) await evaluate(step);
      tf.tidy(() => {
        const x = tf.randomNormal([c.batch, c.inputs], 0, 1, "float32", 10_000 + context.seed * 1_000_003 + step) as tf.Tensor2D;
        const y = target(x);
        optimizer.minimize(() => lossOf(x, y), false, Object.values(student));
      });
    }
    await evaluate(c.steps);
  } finally {
    optimizer.dispose();
    for (const t of [testX, testY]) t.dispose();
    disposeMlp(teacher);
    disposeMlp(student);
  }
  const tokens = c.steps * c.batch;
  const losses = curve.map((p) => p.loss);
  return {
    params,
    tokens,
    flops: 6 * params * tokens,
    finalLoss: losses[losses.length - 1],
    bestLoss: Math.min(...losses),
    curve,
    backend: tf.getBackend(),
  };
}

export const teacherRegression = (config: RunConfig, context: TaskContext) => trainStudent(config, context, "mse");
export const teacherClassification = (config: RunConfig, context: TaskContext) => trainStudent(config, context, "ce");
