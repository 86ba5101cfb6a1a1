/**
 * Sparse autoencoders in SAELens's shapes and names: acts = σ((x − b_dec) W_enc + b_enc),
 * x̂ = acts W_dec + b_dec, with W_enc (d_in, d_sae), W_dec (d_sae, d_in), one decoder row per feature.
 *
 *   standard   σ = ReLU; loss = ‖x − x̂‖² + λ Σ acts·‖W_dec row‖
 *   topk       the k largest pre-activations of each token survive (then ReLU); loss = ‖x − x̂‖²
 *   batchtopk  the k·batch largest of the whole batch survive; at inference a single threshold
 *              (the running mean of the smallest kept activation) replaces the batch, as SAELens does
 *   jumprelu   σ(z) = z·H(z − θ) per feature; loss = ‖x − x̂‖² + λ Σ H(z − θ), with θ's gradient by
 *              the straight-through estimator of Rajamanoharan et al. (2024), a rectangle of width ε
 */
import * as tf from "@tensorflow/tfjs-core";
import { Rng } from "../util/random.js";
import { variableGradsFreeing } from "../train/backprop.js";

export type SaeArchitecture = "standard" | "topk" | "batchtopk" | "jumprelu";

export interface SaeConfig {
  dIn: number;
  dSae: number;
  architecture: SaeArchitecture;
  /** Active features per token (topk, batchtopk). */
  k: number;
  /** Sparsity penalty λ: L1 (standard) or L0 (jumprelu). */
  sparsityCoefficient: number;
  /** The straight-through rectangle's width ε (jumprelu). */
  bandwidth: number;
  /** θ at initialisation (jumprelu). */
  initThreshold: number;
  /** W_enc starts as W_decᵀ. */
  tiedInit: boolean;
  /** Subtract b_dec from the input before encoding (SAELens's apply_b_dec_to_input; GemmaScope: false). */
  applyBDecToInput: boolean;
  /** Keep every decoder row at unit norm after each step. */
  unitNormDecoder: boolean;
  seed: number;
}

export const SAE_DEFAULTS: Omit<SaeConfig, "dIn" | "dSae"> = {
  architecture: "topk",
  k: 8,
  sparsityCoefficient: 1e-3,
  bandwidth: 1e-3,
  initThreshold: 1e-3,
  tiedInit: true,
  applyBDecToInput: true,
  unitNormDecoder: true,
  seed: 0,
};

export interface SaeOutput {
  featureActs: tf.Tensor2D;
  reconstruction: tf.Tensor2D;
  /** Mean over the batch of ‖x − x̂‖². */
  mseLoss: tf.Scalar;
  sparsityLoss: tf.Scalar;
  /** The AuxK loss (0 unless `aux` was given). */
  auxLoss: tf.Scalar;
  loss: tf.Scalar;
}

/**
 * AuxK (Gao et al. 2024, "Scaling and evaluating sparse autoencoders"): the dead features' `k` largest
 * pre-activations must reconstruct what the live ones missed, x − x̂, which gives dead features a
 * gradient toward the data they could explain.
 */
export interface AuxKOptions {
  /** 1 for a dead feature, 0 for a live one (d_sae). */
  dead: tf.Tensor1D;
  deadCount: number;
  k: number;
  coefficient: number;
}

/** customGrad's parameter type (its inputs are typed as a loose rest list). */
type CustomGradient = Parameters<typeof tf.customGrad>[0];

/** Rectangle kernel of width 1 centred at 0: the straight-through estimator's pseudo-derivative. */
function rectangle(u: tf.Tensor): tf.Tensor {
  return tf.cast(tf.less(tf.abs(u), 0.5), "float32");
}

/** z·H(z − θ): z's gradient passes where the feature fires; θ's is −(θ/ε)·rect((z − θ)/ε). */
function jumpRelu(z: tf.Tensor2D, theta: tf.Tensor1D, bandwidth: number): tf.Tensor2D {
  const f = tf.customGrad(((zIn: tf.Tensor, thetaIn: tf.Tensor, save: tf.GradSaveFunc) => {
    save([zIn, thetaIn]);
    return {
      value: tf.mul(tf.relu(zIn), tf.cast(tf.greater(zIn, thetaIn), "float32")),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [zs, ts] = saved;
        const fires = tf.cast(tf.greater(zs, ts), "float32");
        const dTheta = tf.sum(tf.mul(dy, tf.mul(tf.neg(tf.div(ts, bandwidth)), rectangle(tf.div(tf.sub(zs, ts), bandwidth)))), 0);
        return [tf.mul(dy, fires), dTheta];
      },
    };
  }) as unknown as CustomGradient);
  return f(z, theta) as tf.Tensor2D;
}

/** H(z − θ) counted per token: no gradient to z; θ's is −(1/ε)·rect((z − θ)/ε). */
function stepCount(z: tf.Tensor2D, theta: tf.Tensor1D, bandwidth: number): tf.Tensor {
  const f = tf.customGrad(((zIn: tf.Tensor, thetaIn: tf.Tensor, save: tf.GradSaveFunc) => {
    save([zIn, thetaIn]);
    return {
      value: tf.cast(tf.greater(zIn, thetaIn), "float32"),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [zs, ts] = saved;
        const dTheta = tf.sum(tf.mul(dy, tf.mul(-1 / bandwidth, rectangle(tf.div(tf.sub(zs, ts), bandwidth)))), 0);
        return [tf.zerosLike(zs), dTheta];
      },
    };
  }) as unknown as CustomGradient);
  return f(z, theta);
}

/** x itself, through which no gradient flows (tfjs has no stop_gradient). */
function detach(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad(((xIn: tf.Tensor) => ({ value: tf.clone(xIn), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) })) as unknown as CustomGradient);
  return f(x);
}

/**
 * ReLU(z) where z is among the `keep` largest of its row (or, with `wholeBatch`, of the batch), else
 * 0. The gradient passes where a value is kept; the selection itself is not differentiated.
 */
function keepLargest(z: tf.Tensor2D, keep: number, wholeBatch: boolean): tf.Tensor2D {
  const f = tf.customGrad(((zIn: tf.Tensor, save: tf.GradSaveFunc) => {
    const values = wholeBatch ? tf.reshape(zIn, [-1]) : zIn;
    const top = tf.topk(values, keep).values;
    const kth = wholeBatch ? tf.min(top) : tf.slice(top, [0, keep - 1], [-1, 1]);
    const kept = tf.cast(tf.logicalAnd(tf.greaterEqual(zIn, kth), tf.greater(zIn, 0)), "float32");
    save([kept]);
    return { value: tf.mul(tf.relu(zIn), kept), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, saved[0]) };
  }) as unknown as CustomGradient);
  return f(z) as tf.Tensor2D;
}

export class SparseAutoencoder {
  readonly config: SaeConfig;
  /** W_enc, b_enc, W_dec, b_dec, and log_threshold for jumprelu: what AdamW trains. */
  readonly params: Record<string, tf.Variable>;
  /** Inference threshold of a batchtopk SAE (running mean of the smallest kept activation). */
  batchThreshold = 0;
  private thresholdSteps = 0;

  constructor(config: Partial<SaeConfig> & { dIn: number; dSae: number }) {
    this.config = { ...SAE_DEFAULTS, ...config };
    const { dIn, dSae, tiedInit, seed } = this.config;
    if (!(Number.isInteger(dIn) && dIn > 0 && Number.isInteger(dSae) && dSae > 0)) {
      throw new RangeError(`sae: dIn and dSae must be positive integers (got ${dIn}, ${dSae})`);
    }
    const rng = new Rng(seed);
    // Decoder rows: random unit directions (Kaiming-uniform-like scale is irrelevant once normalised).
    const wDec = new Float32Array(dSae * dIn);
    for (let f = 0; f < dSae; f++) {
      let sq = 0;
      for (let j = 0; j < dIn; j++) sq += (wDec[f * dIn + j] = rng.normal()) ** 2;
      for (let j = 0; j < dIn; j++) wDec[f * dIn + j] /= Math.sqrt(sq);
    }
    const wEnc = new Float32Array(dIn * dSae);
    const bound = 1 / Math.sqrt(dIn);
    for (let j = 0; j < dIn; j++) {
      for (let f = 0; f < dSae; f++) wEnc[j * dSae + f] = tiedInit ? wDec[f * dIn + j] : (2 * rng.random() - 1) * bound;
    }
    // tidy frees the initial values (each variable keeps its own reference).
    this.params = tf.tidy(() => {
      const params: Record<string, tf.Variable> = {
        W_enc: tf.variable(tf.tensor2d(wEnc, [dIn, dSae])),
        b_enc: tf.variable(tf.zeros([dSae])),
        W_dec: tf.variable(tf.tensor2d(wDec, [dSae, dIn])),
        b_dec: tf.variable(tf.zeros([dIn])),
      };
      if (this.config.architecture === "jumprelu") params.log_threshold = tf.variable(tf.fill([dSae], Math.log(this.config.initThreshold)));
      return params;
    });
  }

  /** Pre-activations (x − b_dec) W_enc + b_enc. */
  preActs(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const centred = this.config.applyBDecToInput ? tf.sub(x, this.params.b_dec) : x;
      return tf.add(tf.matMul(centred, this.params.W_enc), this.params.b_enc) as tf.Tensor2D;
    });
  }

  /** Feature activations (batch, d_sae); `training` selects batchtopk's batch rule over its threshold. */
  encode(x: tf.Tensor2D, training = false): tf.Tensor2D {
    return tf.tidy(() => {
      const z = this.preActs(x);
      const { architecture, k, bandwidth } = this.config;
      if (architecture === "standard") return tf.relu(z);
      if (architecture === "jumprelu") return jumpRelu(z, tf.exp(this.params.log_threshold) as tf.Tensor1D, bandwidth);
      if (architecture === "topk") return keepLargest(z, Math.min(k, this.config.dSae), false);
      if (!training) return tf.mul(tf.relu(z), tf.cast(tf.greater(z, this.batchThreshold), "float32")) as tf.Tensor2D;
      return keepLargest(z, Math.min(k * x.shape[0], z.size), true);
    });
  }

  decode(acts: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.add(tf.matMul(acts, this.params.W_dec), this.params.b_dec) as tf.Tensor2D);
  }

  /** x̂ for activations of any shape (…, d_in): the function to splice into a hook. */
  reconstruct(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const flat = tf.reshape(x, [-1, this.config.dIn]) as tf.Tensor2D;
      return tf.reshape(this.decode(this.encode(flat)), x.shape);
    });
  }

  /** Everything the training step needs (inside a tidy or variableGrads). */
  forward(x: tf.Tensor2D, training = false, aux?: AuxKOptions): SaeOutput {
    const featureActs = this.encode(x, training);
    const reconstruction = this.decode(featureActs);
    const mseLoss = tf.mean(tf.sum(tf.square(tf.sub(reconstruction, x)), 1)) as tf.Scalar;
    let sparsityLoss: tf.Scalar = tf.scalar(0);
    const { architecture, sparsityCoefficient, bandwidth } = this.config;
    if (architecture === "standard") {
      const norms = tf.norm(this.params.W_dec, "euclidean", 1);
      sparsityLoss = tf.mul(sparsityCoefficient, tf.mean(tf.sum(tf.mul(featureActs, norms), 1))) as tf.Scalar;
    } else if (architecture === "jumprelu") {
      const count = stepCount(this.preActs(x), tf.exp(this.params.log_threshold) as tf.Tensor1D, bandwidth);
      sparsityLoss = tf.mul(sparsityCoefficient, tf.mean(tf.sum(count, 1))) as tf.Scalar;
    }
    const auxLoss = aux && aux.deadCount > 0 && aux.coefficient > 0 ? this.auxKLoss(x, reconstruction, aux) : tf.scalar(0);
    return { featureActs, reconstruction, mseLoss, sparsityLoss, auxLoss, loss: tf.addN([mseLoss, sparsityLoss, auxLoss]) as tf.Scalar };
  }

  /** coefficient · min(dead/k, 1) · mean ‖(x − x̂) − top-k of the dead features' pre-activations · W_dec‖². */
  private auxKLoss(x: tf.Tensor2D, reconstruction: tf.Tensor2D, aux: AuxKOptions): tf.Scalar {
    const k = Math.min(aux.k, aux.deadCount);
    const z = this.preActs(x);
    const deadOnly = tf.where(tf.cast(aux.dead, "bool"), z, tf.fill(z.shape, -Infinity)) as tf.Tensor2D;
    const residual = detach(tf.sub(x, reconstruction));
    const explained = tf.matMul(keepLargest(deadOnly, k, false), this.params.W_dec);
    const loss = tf.mean(tf.sum(tf.square(tf.sub(explained, residual)), 1));
    return tf.mul(aux.coefficient * Math.min(aux.deadCount / aux.k, 1), loss) as tf.Scalar;
  }

  /** Track batchtopk's inference threshold from a training batch's activations. */
  updateBatchThreshold(acts: tf.Tensor2D): void {
    const smallest = tf.tidy(() => {
      const positive = tf.where(tf.greater(acts, 0), acts, tf.fill(acts.shape, Infinity));
      return tf.min(positive);
    });
    const value = smallest.dataSync()[0];
    smallest.dispose();
    if (!Number.isFinite(value)) return;
    this.thresholdSteps += 1;
    this.batchThreshold += (value - this.batchThreshold) / Math.min(this.thresholdSteps, 100);
  }

  /**
   * The decoder's gradient without its component along each (unit) decoder row, which a
   * renormalisation would undo anyway and which otherwise skews Adam's per-entry step sizes.
   */
  tangentDecoderGradient(grad: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => {
      const W = this.params.W_dec;
      return tf.sub(grad, tf.mul(tf.sum(tf.mul(grad, W), 1, true), W)) as tf.Tensor2D;
    });
  }

  /** Scale each decoder row to unit norm. */
  normalizeDecoder(): void {
    tf.tidy(() => {
      const W = this.params.W_dec;
      this.params.W_dec.assign(tf.div(W, tf.maximum(tf.norm(W, "euclidean", 1, true), 1e-8)));
    });
  }

  /** The per-feature thresholds SAELens stores for a JumpReLU SAE (batchtopk: its one threshold). */
  thresholds(): Float32Array {
    if (this.config.architecture === "jumprelu") return Float32Array.from(tf.tidy(() => tf.exp(this.params.log_threshold)).dataSync());
    return new Float32Array(this.config.dSae).fill(this.config.architecture === "batchtopk" ? this.batchThreshold : 0);
  }

  /** Gradients of `loss` with respect to every parameter, keyed as `params` (for AdamW.step). */
  gradients(loss: () => tf.Scalar): { value: tf.Scalar; grads: Record<string, tf.Tensor> } {
    const entries = Object.entries(this.params);
    const { value, grads } = variableGradsFreeing(loss, entries.map(([, v]) => v));
    return { value, grads: Object.fromEntries(entries.map(([key, v]) => [key, grads[v.name]])) };
  }

  dispose(): void {
    tf.dispose(Object.values(this.params));
  }
}

/**
 * The geometric median of the rows of x (n, d) by Weiszfeld's iteration: the point minimising the
 * summed Euclidean distance, SAELens's initial decoder bias.
 */
export function geometricMedian(x: tf.Tensor2D, iterations = 100, eps = 1e-8): Float32Array {
  const median = tf.tidy(() => {
    let m = tf.mean(x, 0);
    for (let i = 0; i < iterations; i++) {
      const w = tf.div(1, tf.maximum(tf.norm(tf.sub(x, m), "euclidean", 1), eps));
      m = tf.div(tf.sum(tf.mul(x, tf.expandDims(w, 1)), 0), tf.sum(w));
    }
    return m;
  });
  const values = Float32Array.from(median.dataSync());
  median.dispose();
  return values;
}
