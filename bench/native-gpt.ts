/**
 * A minimal nanoGPT-style model (pre-LN blocks, causal self-attention, GELU MLP, tied
 * embeddings, no biases, no dropout) and one AdamW train step, written with plain tfjs ops.
 * It exists to benchmark and test the native cpu kernels; the course's model lives in
 * lib/models/gpt. bench/torch_gpt_step.py is the same model in PyTorch.
 */
import * as tf from "@tensorflow/tfjs-core";
import { Rng } from "../lib/util/random.js";

export interface TinyGptConfig {
  vocabSize: number;
  blockSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
}

/** nanoGPT's `train_shakespeare_char` on CPU: the config its README suggests for a laptop. */
export const nanoGptCpuConfig: TinyGptConfig = { vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128 };

type Params = Record<string, tf.Variable>;

export function initParams(config: TinyGptConfig, seed = 1337): Params {
  const rng = new Rng(seed);
  const { vocabSize, blockSize, nLayer, nEmbd } = config;
  const normal = (shape: number[], std: number) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) values[i] = rng.normal() * std;
    return tf.variable(tf.tensor(values, shape));
  };
  const ones = (n: number) => tf.variable(tf.ones([n]));
  const projStd = 0.02 / Math.sqrt(2 * nLayer);
  const params: Params = { wte: normal([vocabSize, nEmbd], 0.02), wpe: normal([blockSize, nEmbd], 0.02) };
  for (let l = 0; l < nLayer; l++) {
    params[`h${l}.ln1`] = ones(nEmbd);
    params[`h${l}.attn`] = normal([nEmbd, 3 * nEmbd], 0.02);
    params[`h${l}.attnProj`] = normal([nEmbd, nEmbd], projStd);
    params[`h${l}.ln2`] = ones(nEmbd);
    params[`h${l}.fc`] = normal([nEmbd, 4 * nEmbd], 0.02);
    params[`h${l}.mlpProj`] = normal([4 * nEmbd, nEmbd], projStd);
  }
  params.lnF = ones(nEmbd);
  return params;
}

function layerNorm(x: tf.Tensor, weight: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), weight);
}

function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

function attention(x: tf.Tensor, params: Params, l: number, config: TinyGptConfig, mask: tf.Tensor): tf.Tensor {
  const [B, T, C] = x.shape;
  const hs = C / config.nHead;
  const qkv = tf.matMul(tf.reshape(x, [B * T, C]), params[`h${l}.attn`]);
  const heads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [B, T, config.nHead, hs]), [0, 2, 1, 3]);
  const [q, k, v] = tf.split(qkv, 3, 1).map(heads);
  const att = tf.softmax(tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hs)), mask));
  const y = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [B * T, C]);
  return tf.reshape(tf.matMul(y, params[`h${l}.attnProj`]), [B, T, C]);
}

function mlp(x: tf.Tensor, params: Params, l: number): tf.Tensor {
  const [B, T, C] = x.shape;
  const h = gelu(tf.matMul(tf.reshape(x, [B * T, C]), params[`h${l}.fc`]));
  return tf.reshape(tf.matMul(h, params[`h${l}.mlpProj`]), [B, T, C]);
}

/** Mean cross-entropy of next-token predictions; `idx` and `targets` are int32 [B, T]. */
export function gptLoss(params: Params, config: TinyGptConfig, idx: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const [B, T] = idx.shape;
    const mask = tf.mul(tf.sub(tf.linalg.bandPart(tf.ones([T, T]), -1, 0), 1), 1e9);
    let x = tf.reshape(tf.gather(params.wte, tf.reshape(idx, [B * T])), [B, T, config.nEmbd]);
    x = tf.add(x, tf.slice(params.wpe, [0, 0], [T, config.nEmbd]));
    for (let l = 0; l < config.nLayer; l++) {
      x = tf.add(x, attention(layerNorm(x, params[`h${l}.ln1`]), params, l, config, mask));
      x = tf.add(x, mlp(layerNorm(x, params[`h${l}.ln2`]), params, l));
    }
    x = tf.reshape(layerNorm(x, params.lnF), [B * T, config.nEmbd]);
    const logits = tf.matMul(x, params.wte, false, true);
    const logProbs = tf.logSoftmax(logits);
    const flatIndex = tf.add(tf.range(0, B * T * config.vocabSize, config.vocabSize, "int32"), tf.reshape(targets, [B * T]));
    const picked = tf.gather(tf.reshape(logProbs, [-1]), flatIndex);
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}

export interface AdamWConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const adamWDefaults: AdamWConfig = { lr: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };

/** AdamW as torch.optim.AdamW: decoupled weight decay on 2-D weights only (as nanoGPT groups them). */
export class AdamW {
  private step = 0;
  private m = new Map<string, tf.Variable>();
  private v = new Map<string, tf.Variable>();
  constructor(private params: Params, private config: AdamWConfig = adamWDefaults) {
    for (const [name, p] of Object.entries(params)) {
      this.m.set(name, tf.variable(tf.zerosLike(p)));
      this.v.set(name, tf.variable(tf.zerosLike(p)));
    }
  }

  apply(grads: Record<string, tf.Tensor>): void {
    this.step++;
    const { lr, beta1, beta2, eps, weightDecay } = this.config;
    const bc1 = 1 - beta1 ** this.step;
    const bc2 = 1 - beta2 ** this.step;
    tf.tidy(() => {
      for (const [name, p] of Object.entries(this.params)) {
        const g = grads[name];
        const m = tf.add(tf.mul(this.m.get(name)!, beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(this.v.get(name)!, beta2), tf.mul(tf.square(g), 1 - beta2));
        this.m.get(name)!.assign(m);
        this.v.get(name)!.assign(v);
        const decayed = p.rank >= 2 ? tf.mul(p, 1 - lr * weightDecay) : p;
        const update = tf.mul(tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), eps)), lr);
        p.assign(tf.sub(decayed, update));
      }
    });
  }
}

/** One train step: forward, backward, AdamW. Returns the loss before the update. */
export function trainStep(params: Params, config: TinyGptConfig, opt: AdamW, idx: tf.Tensor, targets: tf.Tensor): number {
  const { value, grads } = tf.variableGrads(() => gptLoss(params, config, idx, targets), Object.values(params));
  const byName: Record<string, tf.Tensor> = {};
  for (const [name, p] of Object.entries(params)) byName[name] = grads[p.name];
  opt.apply(byName);
  const loss = value.dataSync()[0];
  value.dispose();
  tf.dispose(Object.values(grads));
  return loss;
}

/** A random batch of token ids, as int32 tensors [B, T]. */
export function randomBatch(config: TinyGptConfig, batchSize: number, seed: number): { idx: tf.Tensor; targets: tf.Tensor } {
  const rng = new Rng(seed);
  const n = batchSize * config.blockSize;
  const ids = Int32Array.from({ length: n + 1 }, () => rng.randint(0, config.vocabSize));
  return {
    idx: tf.tensor(ids.subarray(0, n), [batchSize, config.blockSize], "int32"),
    targets: tf.tensor(ids.subarray(1, n + 1), [batchSize, config.blockSize], "int32"),
  };
}
