/**
 * The numbers behind a feature dashboard (as SAELens's and Neuronpedia's): how often and how strongly
 * a feature fires (a histogram of its non-zero activations), the token contexts where it fires most,
 * and the tokens its decoder direction promotes and suppresses through the unembedding
 * (W_dec[f] · W_U, the "logit lens" of one feature). Drawing them is the notebook's job.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { SparseAutoencoder } from "./sae.js";

export interface TopActivation {
  sequence: number;
  position: number;
  activation: number;
  /** Token ids from `window` before to `window` after the position (clipped to the sequence). */
  context: number[];
  /** The feature's activation on each context token. */
  contextActivations: number[];
  /** Index of the firing token inside `context`. */
  at: number;
}

export interface FeatureDashboard {
  feature: number;
  /** Fraction of tokens on which the feature fires. */
  density: number;
  /** Histogram of the non-zero activations: counts[i] lies in [edges[i], edges[i+1]). */
  histogram: { edges: number[]; counts: number[] };
  top: TopActivation[];
  promoted: { token: number; logit: number }[];
  suppressed: { token: number; logit: number }[];
}

export interface DashboardOptions {
  topExamples?: number;
  topLogits?: number;
  bins?: number;
  window?: number;
}

/**
 * Dashboard of `feature` over `activations` (batch, pos, d_in) taken at the tokens `tokens` (batch, pos),
 * with `unembed` W_U (d_in, vocab).
 */
export function featureDashboard(
  sae: SparseAutoencoder,
  activations: tf.Tensor3D,
  tokens: number[][],
  unembed: tf.Tensor2D,
  feature: number,
  options: DashboardOptions = {},
): FeatureDashboard {
  const [batch, pos, dIn] = activations.shape;
  if (!(Number.isInteger(feature) && feature >= 0 && feature < sae.config.dSae)) {
    throw new RangeError(`featureDashboard: feature ${feature} is not in 0..${sae.config.dSae - 1}`);
  }
  if (tokens.length !== batch || tokens.some((row) => row.length !== pos)) {
    throw new RangeError(`featureDashboard: tokens must be ${batch} rows of ${pos} (the activations' batch and positions)`);
  }
  const { topExamples = 10, topLogits = 10, bins = 20, window = 5 } = options;
  const [actsT, logitsT] = tf.tidy(() => {
    const acts = sae.encode(tf.reshape(activations, [batch * pos, dIn]) as tf.Tensor2D);
    const column = tf.reshape(tf.slice(acts, [0, feature], [-1, 1]), [batch, pos]);
    const direction = tf.slice(sae.params.W_dec, [feature, 0], [1, -1]);
    return [column, tf.reshape(tf.matMul(direction, unembed), [-1])];
  });
  const acts = actsT.arraySync() as number[][];
  const logits = Array.from(logitsT.dataSync());
  tf.dispose([actsT, logitsT]);

  const firing = acts.flat().filter((a) => a > 0);
  const max = firing.length > 0 ? Math.max(...firing) : 1;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (max * i) / bins);
  const counts = new Array(bins).fill(0);
  for (const a of firing) counts[Math.min(bins - 1, Math.floor((a / max) * bins))]++;

  const places: [number, number, number][] = [];
  acts.forEach((row, s) => row.forEach((a, p) => a > 0 && places.push([a, s, p])));
  places.sort((x, y) => y[0] - x[0]);
  const top = places.slice(0, topExamples).map(([activation, sequence, position]) => {
    const start = Math.max(0, position - window);
    const end = Math.min(pos, position + window + 1);
    return {
      sequence, position, activation,
      context: tokens[sequence].slice(start, end),
      contextActivations: acts[sequence].slice(start, end),
      at: position - start,
    };
  });
  const byLogit = logits.map((logit, token) => ({ token, logit })).sort((a, b) => b.logit - a.logit);
  return {
    feature,
    density: firing.length / (batch * pos),
    histogram: { edges, counts },
    top,
    promoted: byLogit.slice(0, topLogits),
    suppressed: byLogit.slice(-topLogits).reverse(),
  };
}
