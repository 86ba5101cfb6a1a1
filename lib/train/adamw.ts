/**
 * AdamW (Loshchilov & Hutter), step for step as torch.optim.AdamW: weight decay is decoupled from
 * the gradient (parameters shrink by lr·weightDecay before the Adam update) and, as nanoGPT
 * configures it, applies only to tensors of 2 or more dimensions (matmul weights, embeddings),
 * never to biases and LayerNorm gains.
 */
import * as tf from "@tensorflow/tfjs-core";
import { fusedAdamWStep } from "../native/index.js";
import type { Gradients } from "./clip.js";

export interface AdamWConfig {
  learningRate: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** torch.optim.AdamW's defaults. */
export const ADAMW_DEFAULTS: AdamWConfig = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

/** The optimizer's state as plain arrays, for checkpoints. */
export interface AdamWState {
  step: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

export interface StepOptions {
  /** Learning rate for this step (default config.learningRate), e.g. from a schedule. */
  learningRate?: number;
  /** Multiplies every gradient first (gradient clipping's factor), at no extra cost. */
  gradScale?: number;
}

export class AdamW {
  readonly config: AdamWConfig;
  /** Number of steps taken (PyTorch's state["step"], which drives the bias correction). */
  steps = 0;
  private readonly m: Record<string, tf.Variable> = {};
  private readonly v: Record<string, tf.Variable> = {};

  /** decays(name, param) picks the tensors to decay; by default those with 2 or more dimensions. */
  constructor(
    readonly params: Record<string, tf.Variable>,
    config: Partial<AdamWConfig> = {},
    readonly decays: (name: string, param: tf.Variable) => boolean = (_, p) => p.rank >= 2,
  ) {
    this.config = { ...ADAMW_DEFAULTS, ...config };
    for (const [name, p] of Object.entries(params)) {
      // tidy frees the zerosLike tensors (the variables keep their own copy): without it, two leaked per parameter.
      this.m[name] = tf.tidy(() => tf.variable(tf.zerosLike(p), false));
      this.v[name] = tf.tidy(() => tf.variable(tf.zerosLike(p), false));
    }
  }

  /** One update of every parameter that has a gradient in `grads` (keyed by parameter name). */
  step(grads: Gradients, options: StepOptions = {}): void {
    const { beta1, beta2, eps, weightDecay } = this.config;
    const lr = options.learningRate ?? this.config.learningRate;
    const scale = options.gradScale ?? 1;
    this.steps += 1;
    const stepSize = lr / (1 - beta1 ** this.steps);
    const invSqrtCorrection2 = 1 / Math.sqrt(1 - beta2 ** this.steps);
    for (const [name, p] of Object.entries(this.params)) {
      const g = grads[name];
      if (!g) continue;
      const decay = weightDecay !== 0 && this.decays(name, p) ? 1 - lr * weightDecay : 1;
      // In place, in one native pass, on the cpu backend with the addon; false elsewhere.
      const fused = fusedAdamWStep(p, this.m[name], this.v[name], g, {
        beta1, beta2, eps, decay, stepSize, invSqrtCorrection2, gradScale: scale,
      });
      if (fused) continue;
      tf.tidy(() => {
        const m = tf.add(tf.mul(this.m[name], beta1), tf.mul(g, (1 - beta1) * scale));
        const v = tf.add(tf.mul(this.v[name], beta2), tf.mul(tf.square(g), (1 - beta2) * scale * scale));
        const denom = tf.add(tf.mul(tf.sqrt(v), invSqrtCorrection2), eps);
        const decayed = decay !== 1 ? tf.mul(p, decay) : p;
        p.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), stepSize)));
        this.m[name].assign(m);
        this.v[name].assign(v);
      });
    }
  }

  /** The moments and step count (read asynchronously: WebGPU under Node has no synchronous reads). */
  async getState(): Promise<AdamWState> {
    const state: AdamWState = { step: this.steps, m: {}, v: {} };
    for (const name of Object.keys(this.params)) {
      // Copies: on cpu, data() returns the live buffer, which the fused step updates in place.
      state.m[name] = Float32Array.from((await this.m[name].data()) as Float32Array);
      state.v[name] = Float32Array.from((await this.v[name].data()) as Float32Array);
    }
    return state;
  }

  setState(state: AdamWState): void {
    this.steps = state.step;
    for (const [name, p] of Object.entries(this.params)) {
      if (!state.m[name] || !state.v[name]) throw new Error(`AdamW.setState: no moments for "${name}"`);
      tf.tidy(() => {
        this.m[name].assign(tf.tensor(state.m[name], p.shape, "float32"));
        this.v[name].assign(tf.tensor(state.v[name], p.shape, "float32"));
      });
    }
  }

  /**
   * Zero both moments of `name` where `keep` (broadcast to the parameter's shape) is 0, e.g. the rows
   * of features an SAE has just re-initialised, so that their old gradients do not steer them.
   */
  resetMoments(name: string, keep: tf.Tensor): void {
    if (!this.m[name]) throw new Error(`AdamW.resetMoments: no parameter "${name}"`);
    tf.tidy(() => {
      this.m[name].assign(tf.mul(this.m[name], keep));
      this.v[name].assign(tf.mul(this.v[name], keep));
    });
  }

  dispose(): void {
    for (const t of [...Object.values(this.m), ...Object.values(this.v)]) t.dispose();
  }
}
