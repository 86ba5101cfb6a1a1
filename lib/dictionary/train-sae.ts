/**
 * Training an SAE with the course's AdamW on a fixed set of activations: shuffled minibatches, the
 * decoder bias started at the geometric median (or mean), unit-norm decoder rows (the gradient's
 * radial part removed before each step, the rows renormalised after it), dead features (none firing
 * in the last `deadWindow` tokens) re-seeded from badly reconstructed inputs every `resampleEvery`
 * steps with their AdamW moments zeroed (Anthropic's "Towards Monosemanticity" recipe), and for
 * TopK/BatchTopK the AuxK loss on dead features (Gao et al. 2024).
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
  /** A re-seeded encoder column's norm as a fraction of the mean live one (default 0.2, Anthropic's). */
  resampleScale?: number;
  /** A feature is dead when it fired on none of the last this many tokens. */
  deadWindow?: number;
  seed?: number;
  /** Decay the learning rate linearly to 0 over this last fraction of the steps (SAELens's lr_decay_steps; default 0.2). */
  decayFraction?: number;
  /**
   * AuxK (Gao et al. 2024): the dead features' top `auxK` pre-activations (default d_in/2) reconstruct
   * the residual, weighted by `auxKCoefficient` (default 1 for topk and batchtopk, as SAELens; 0 for the
   * others, 0 turns it off). Dead here means silent for `auxDeadWindow` tokens (default: deadWindow).
   */
  auxK?: number;
  auxKCoefficient?: number;
  auxDeadWindow?: number;
  /** Remove each decoder gradient row's component along its (unit) row before the step (default: with unitNormDecoder). */
  tangentDecoderGradient?: boolean;
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
  const { architecture, dSae, unitNormDecoder } = sae.config;
  const usesAuxK = architecture === "topk" || architecture === "batchtopk";
  const auxKCoefficient = options.auxKCoefficient ?? (usesAuxK ? 1 : 0);
  const auxK = options.auxK ?? Math.max(1, Math.floor(dIn / 2));
  const auxDeadWindow = options.auxDeadWindow ?? deadWindow;
  const tangent = options.tangentDecoderGradient ?? unitNormDecoder;
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
      const deadMask = Float32Array.from(sinceFired, (t) => (t >= auxDeadWindow ? 1 : 0));
      const deadCount = deadMask.reduce((a, b) => a + b, 0);
      const dead = auxKCoefficient > 0 && deadCount > 0 ? tf.tensor1d(deadMask) : undefined;
      const { value, grads } = sae.gradients(() => {
        const aux = dead ? { dead, deadCount, k: auxK, coefficient: auxKCoefficient } : undefined;
        const out = sae.forward(batch, true, aux);
        acts = tf.keep(out.featureActs);
        mse = tf.keep(out.mseLoss);
        return out.loss;
      });
      if (tangent) {
        const raw = grads.W_dec;
        grads.W_dec = sae.tangentDecoderGradient(raw);
        raw.dispose();
      }
      optimizer.step(grads, { learningRate: learningRate * Math.min(1, (options.steps - step + 1) / decaySteps) });
      dead?.dispose();
      if (unitNormDecoder) sae.normalizeDecoder();
      if (architecture === "batchtopk") sae.updateBatchThreshold(acts!);
      const fired = tf.tidy(() => tf.sum(tf.cast(tf.greater(acts!, 0), "float32"), 0));
      const counts = await fired.data();
      let l0 = 0;
      for (let f = 0; f < counts.length; f++) {
        l0 += counts[f];
        sinceFired[f] = counts[f] > 0 ? 0 : sinceFired[f] + batchSize;
      }
      const deadNow = Array.from({ length: dSae }, (_, f) => f).filter((f) => sinceFired[f] >= deadWindow);
      let resampled = 0;
      if (resampleEvery > 0 && step % resampleEvery === 0 && step < options.steps && deadNow.length > 0) {
        // They stay counted as dead until they fire, so that AuxK keeps training them.
        resampled = resampleDeadFeatures(sae, batch, deadNow, rng, optimizer, options.resampleScale);
      }
      if (step % logEvery === 0 || step === options.steps) {
        report = { step, loss: (await value.data())[0], mse: (await mse!.data())[0], l0: l0 / batchSize, dead: deadNow.length, resampled };
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
 * Each dead feature's decoder row becomes the (unit) residual of an input of `batch` drawn with
 * probability ∝ its squared reconstruction error; its encoder column that direction at 0.2× the mean
 * live encoder norm, its encoder bias 0 (Anthropic's "Towards Monosemanticity"). With `optimizer`,
 * AdamW's moments of those rows and columns are zeroed too: the old ones belong to the dead feature
 * and would push the new one back. Returns how many were re-seeded.
 */
export function resampleDeadFeatures(sae: SparseAutoencoder, batch: tf.Tensor2D, dead: number[], rng: Rng, optimizer?: AdamW, scaleOfLive = 0.2): number {
  if (dead.length === 0) return 0;
  const [residual, errors] = tf.tidy(() => {
    const r = tf.sub(batch, sae.decode(sae.encode(batch, true)));
    return [r, tf.sum(tf.square(r), 1)];
  });
  const R = residual.arraySync() as number[][];
  const weights = Array.from(errors.dataSync() as Float32Array);
  tf.dispose([residual, errors]);
  const { dIn, dSae } = sae.config;
  const isDead = new Uint8Array(dSae);
  for (const f of dead) isDead[f] = 1;
  const W_dec = sae.params.W_dec.arraySync() as number[][];
  const W_enc = sae.params.W_enc.arraySync() as number[][];
  const b_enc = Array.from(sae.params.b_enc.dataSync());
  const alive = W_enc[0].map((_, f) => f).filter((f) => !isDead[f]);
  const encNorm = (f: number) => Math.sqrt(W_enc.reduce((s, row) => s + row[f] ** 2, 0));
  const scale = scaleOfLive * (alive.length > 0 ? alive.reduce((s, f) => s + encNorm(f), 0) / alive.length : 1);
  for (const f of dead) {
    const row = R[rng.categorical(weights.some((w) => w > 0) ? weights : weights.map(() => 1))];
    const norm = Math.sqrt(row.reduce((s, v) => s + v * v, 0)) || 1;
    for (let j = 0; j < dIn; j++) {
      W_dec[f][j] = row[j] / norm;
      W_enc[j][f] = (scale * row[j]) / norm;
    }
    b_enc[f] = 0;
  }
  tf.tidy(() => {
    sae.params.W_dec.assign(tf.tensor2d(W_dec));
    sae.params.W_enc.assign(tf.tensor2d(W_enc));
    sae.params.b_enc.assign(tf.tensor1d(b_enc));
    // A JumpReLU feature's threshold starts over too: a dead one's has often drifted far above its inputs.
    const theta = sae.params.log_threshold;
    if (theta) theta.assign(tf.where(tf.tensor1d(isDead, "bool"), tf.fill([dSae], Math.log(sae.config.initThreshold)), theta));
  });
  if (optimizer) {
    tf.tidy(() => {
      const keep = tf.tensor1d(Array.from(isDead, (d) => 1 - d));
      optimizer.resetMoments("W_enc", keep);
      optimizer.resetMoments("b_enc", keep);
      optimizer.resetMoments("W_dec", tf.expandDims(keep, 1));
      if (sae.params.log_threshold) optimizer.resetMoments("log_threshold", keep);
    });
  }
  return dead.length;
}
