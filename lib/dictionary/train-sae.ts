/**
 * Training an SAE with the course's AdamW on a fixed set of activations: shuffled minibatches, the
 * decoder bias started at the geometric median (or mean), unit-norm decoder rows after each step,
 * and dead features (none firing in the last `deadWindow` tokens) re-seeded from badly
 * reconstructed inputs every `resampleEvery` steps (Anthropic's "Towards Monosemanticity" recipe).
 */
import * as tf from "@tensorflow/tfjs-core";
import { AdamW } from "../train/adamw.js";
import { Rng } from "../util/random.js";
import { geometricMedian, type SparseAutoencoder } from "./sae.js";

export interface TrainSaeOptions {
  steps: number;
  batchSize?: number;
  learningRate?: number;
  /** Initial b_dec: the data's geometric median (SAELens's default), its mean, or zeros. */
  decoderBiasInit?: "geometric_median" | "mean" | "zeros";
  /** Re-seed dead features every this many steps (0: never). */
  resampleEvery?: number;
  /** A feature is dead when it fired on none of the last this many tokens. */
  deadWindow?: number;
  seed?: number;
  /** Decay the learning rate linearly to 0 over this last fraction of the steps (SAELens's lr_decay_steps; default 0.2). */
  decayFraction?: number;
  /** Called every `logEvery` steps. */
  onStep?: (report: SaeStepReport) => void;
  logEvery?: number;
}

export interface SaeStepReport {
  step: number;
  loss: number;
  mse: number;
  l0: number;
  dead: number;
  resampled: number;
}

/** Trains `sae` on the rows of `activations` (n, d_in); returns the last report. */
export async function trainSae(sae: SparseAutoencoder, activations: tf.Tensor2D, options: TrainSaeOptions): Promise<SaeStepReport> {
  const [n, dIn] = activations.shape;
  if (dIn !== sae.config.dIn) throw new RangeError(`trainSae: activations have ${dIn} dimensions, the SAE expects ${sae.config.dIn}`);
  const batchSize = Math.min(options.batchSize ?? 1024, n);
  const deadWindow = options.deadWindow ?? 50 * batchSize;
  const resampleEvery = options.resampleEvery ?? 0;
  const logEvery = options.logEvery ?? 100;
  const rng = new Rng(options.seed ?? 0);
  const init = options.decoderBiasInit ?? "geometric_median";
  if (init !== "zeros") {
    const bias = init === "mean" ? tf.mean(activations, 0) : tf.tensor1d(geometricMedian(activations));
    sae.params.b_dec.assign(bias);
    bias.dispose();
  }
  if (sae.config.unitNormDecoder) sae.normalizeDecoder();
  const learningRate = options.learningRate ?? 1e-3;
  const decaySteps = Math.max(1, Math.round((options.decayFraction ?? 0.2) * options.steps));
  const optimizer = new AdamW(sae.params, { learningRate, weightDecay: 0 });
  // Tokens since each feature last fired.
  const sinceFired = new Float64Array(sae.config.dSae);
  let order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  let cursor = 0;
  let report: SaeStepReport = { step: 0, loss: NaN, mse: NaN, l0: NaN, dead: 0, resampled: 0 };
  try {
    for (let step = 1; step <= options.steps; step++) {
      if (cursor + batchSize > n) [order, cursor] = [rng.shuffle(order), 0];
      const idx = tf.tensor1d(order.slice(cursor, cursor + batchSize), "int32");
      cursor += batchSize;
      const batch = tf.gather(activations, idx) as tf.Tensor2D;
      let acts: tf.Tensor2D | undefined;
      let mse: tf.Scalar | undefined;
      const { value, grads } = sae.gradients(() => {
        const out = sae.forward(batch, true);
        acts = tf.keep(out.featureActs);
        mse = tf.keep(out.mseLoss);
        return out.loss;
      });
      optimizer.step(grads, { learningRate: learningRate * Math.min(1, (options.steps - step + 1) / decaySteps) });
      if (sae.config.unitNormDecoder) sae.normalizeDecoder();
      if (sae.config.architecture === "batchtopk") sae.updateBatchThreshold(acts!);
      const fired = tf.tidy(() => tf.sum(tf.cast(tf.greater(acts!, 0), "float32"), 0));
      const counts = await fired.data();
      let l0 = 0;
      for (let f = 0; f < counts.length; f++) {
        l0 += counts[f];
        sinceFired[f] = counts[f] > 0 ? 0 : sinceFired[f] + batchSize;
      }
      let dead = 0;
      for (const s of sinceFired) if (s >= deadWindow) dead++;
      let resampled = 0;
      if (resampleEvery > 0 && step % resampleEvery === 0 && step < options.steps && dead > 0) {
        resampled = resampleDead(sae, batch, sinceFired, deadWindow, rng);
      }
      if (step % logEvery === 0 || step === options.steps) {
        report = { step, loss: (await value.data())[0], mse: (await mse!.data())[0], l0: l0 / batchSize, dead, resampled };
        options.onStep?.(report);
      }
      tf.dispose([idx, batch, value, acts!, mse!, fired, ...Object.values(grads)]);
    }
  } finally {
    optimizer.dispose();
  }
  return report;
}

/**
 * Each dead feature's decoder row becomes the (unit) residual of an input drawn with probability ∝
 * its squared reconstruction error; its encoder column that direction at 0.2× the mean live encoder
 * norm, its encoder bias 0. Returns how many were re-seeded.
 */
function resampleDead(sae: SparseAutoencoder, batch: tf.Tensor2D, sinceFired: Float64Array, deadWindow: number, rng: Rng): number {
  const dead: number[] = [];
  sinceFired.forEach((s, f) => s >= deadWindow && dead.push(f));
  const [residual, errors] = tf.tidy(() => {
    const r = tf.sub(batch, sae.decode(sae.encode(batch, true)));
    return [r, tf.sum(tf.square(r), 1)];
  });
  const R = residual.arraySync() as number[][];
  const weights = Array.from(errors.dataSync() as Float32Array);
  tf.dispose([residual, errors]);
  const { dIn } = sae.config;
  const W_dec = sae.params.W_dec.arraySync() as number[][];
  const W_enc = sae.params.W_enc.arraySync() as number[][];
  const b_enc = Array.from(sae.params.b_enc.dataSync());
  const alive = W_enc[0].map((_, f) => f).filter((f) => sinceFired[f] < deadWindow);
  const encNorm = (f: number) => Math.sqrt(W_enc.reduce((s, row) => s + row[f] ** 2, 0));
  const scale = 0.2 * (alive.length > 0 ? alive.reduce((s, f) => s + encNorm(f), 0) / alive.length : 1);
  for (const f of dead) {
    const row = R[rng.categorical(weights.some((w) => w > 0) ? weights : weights.map(() => 1))];
    const norm = Math.sqrt(row.reduce((s, v) => s + v * v, 0)) || 1;
    for (let j = 0; j < dIn; j++) {
      W_dec[f][j] = row[j] / norm;
      W_enc[j][f] = (scale * row[j]) / norm;
    }
    b_enc[f] = 0;
    sinceFired[f] = 0;
  }
  tf.tidy(() => {
    sae.params.W_dec.assign(tf.tensor2d(W_dec));
    sae.params.W_enc.assign(tf.tensor2d(W_enc));
    sae.params.b_enc.assign(tf.tensor1d(b_enc));
  });
  return dead.length;
}
