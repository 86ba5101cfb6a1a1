/**
 * SAE metrics as SAELens defines them (sae_lens/evals.py), over a set of activations:
 *   l0                  mean number of firing features per token
 *   explainedVariance   1 − Σ‖x − x̂‖² / Σ‖x − mean(x)‖² (sums over the tokens)
 *   mse                 mean over every entry of (x − x̂)²
 *   deadFeatures        features that fired on none of these tokens
 *   meanLog10Density    mean over features of log10(firing fraction + 1e-10)
 * and the CE loss score, (CE zero-ablated − CE with the SAE) / (CE zero-ablated − clean CE).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { SparseAutoencoder } from "./sae.js";

export interface SaeMetrics {
  l0: number;
  explainedVariance: number;
  mse: number;
  deadFeatures: number;
  meanLog10Density: number;
  /** Firing fraction of each feature. */
  density: Float32Array;
}

export async function saeMetrics(sae: SparseAutoencoder, activations: tf.Tensor2D, batchSize = 4096): Promise<SaeMetrics> {
  const [n, d] = activations.shape;
  const fired = new Float64Array(sae.config.dSae);
  let [firing, residSq, totalSq] = [0, 0, 0];
  const mean = tf.tidy(() => tf.mean(activations, 0));
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const sums = tf.tidy(() => {
      const x = tf.slice(activations, [start, 0], [size, d]) as tf.Tensor2D;
      const acts = sae.encode(x);
      const on = tf.cast(tf.greater(acts, 0), "float32");
      return [tf.sum(on, 0), tf.sum(tf.square(tf.sub(x, sae.decode(acts)))), tf.sum(tf.square(tf.sub(x, mean)))];
    });
    const [counts, r, t] = await Promise.all(sums.map((s) => s.data()));
    tf.dispose(sums);
    counts.forEach((c, f) => {
      fired[f] += c;
      firing += c;
    });
    residSq += r[0];
    totalSq += t[0];
  }
  mean.dispose();
  const density = Float32Array.from(fired, (c) => c / n);
  let logSum = 0;
  for (const p of density) logSum += Math.log10(p + 1e-10);
  return {
    l0: firing / n,
    explainedVariance: 1 - residSq / totalSq,
    mse: residSq / (n * d),
    deadFeatures: fired.filter((c) => c === 0).length,
    meanLog10Density: logSum / density.length,
    density,
  };
}

/** How an activation is replaced inside the model: the same shape in, the same shape out. */
export type Replacement = (activation: tf.Tensor) => tf.Tensor;

/**
 * The CE loss score from a caller's "loss with this replacement" function, e.g. with the hooked GPT:
 *   (replace) => lossOf(hooked.runWithHooks(tokens, { fwdHooks: [["blocks.0.hook_resid_post", replace]] }))
 * It is called three times: with the identity (clean), with zeros (ablated) and with the SAE's x̂.
 */
export async function ceLossScore(
  lossWith: (replace: Replacement) => Promise<number> | number,
  sae: Pick<SparseAutoencoder, "reconstruct">,
): Promise<{ score: number; clean: number; zeroAblated: number; spliced: number }> {
  const clean = await lossWith((a) => a.clone());
  const zeroAblated = await lossWith((a) => tf.zerosLike(a));
  const spliced = await lossWith((a) => sae.reconstruct(a));
  return { score: (zeroAblated - spliced) / (zeroAblated - clean), clean, zeroAblated, spliced };
}
