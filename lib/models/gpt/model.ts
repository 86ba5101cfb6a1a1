/**
 * GPT, after nanoGPT's model.py: token + position embeddings, nLayer pre-LayerNorm blocks of causal
 * multi-head self-attention and a GELU MLP (attention alone with config.attnOnly), a final LayerNorm,
 * and an LM head tied to the token embedding. Parameters are tf.Variables named and shaped exactly as nanoGPT's state_dict.
 *
 * The residual stream is kept as a (B·T, C) matrix so that every Linear is one 2-D matmul; only
 * attention reshapes it into heads.
 */
import * as tf from "@tensorflow/tfjs-core";
import { Rng } from "../../util/random.js";
import { gptConfig, type GPTConfig } from "./config.js";
import { gptParamSpecs, initParamValues } from "./params.js";
import { activationFunction, crossEntropy, dropout, layerNorm, linear } from "./layers.js";
import { fusedBlock, fusedCausalSelfAttention } from "../../native/index.js";
import type { KVCache } from "./kv-cache.js";
import type { PretrainedOptions } from "./pretrained.js";

export interface ForwardOptions {
  /** Apply dropout (training mode). Default false: evaluation. */
  training?: boolean;
  /** Draws the dropout seeds; required when training with dropout > 0, so runs are reproducible. */
  rng?: Rng;
  /** Compute logits for the last position only (what generation needs). Cannot be combined with targets. */
  lastPositionOnly?: boolean;
  /**
   * Sampling with a key/value cache: idx holds only the positions after the cached ones, which
   * attend over them; their keys and values are appended. Not for training.
   */
  cache?: KVCache;
}

export interface ForwardResult {
  /** (B, T, vocabSize), or (B, 1, vocabSize) with lastPositionOnly. */
  logits: tf.Tensor3D;
  /** Mean cross-entropy over all B·T positions, when targets were given. */
  loss?: tf.Scalar;
}

export interface GPTOptions {
  /** Seed of the weight initialisation (default 1337, as nanoGPT). */
  seed?: number;
  /**
   * Parameter values by nanoGPT name (PyTorch shapes, row-major), used instead of drawing the
   * initialisation: loading a pretrained model builds each parameter once, from the file's values.
   */
  weights?: Map<string, Float32Array> | Record<string, Float32Array>;
}

/** Added to attention scores above the diagonal: exp() of it underflows to exactly 0 (finite, unlike -Infinity, on every backend). */
const MASKED = -1e9;

export class GPT {
  readonly config: GPTConfig;
  /** Trainable parameters by nanoGPT name, e.g. "transformer.h.0.attn.c_attn.weight" (shape (3C, C)). */
  readonly params: Record<string, tf.Variable>;
  /** (blockSize, blockSize): 0 on and below the diagonal, MASKED above; built once. */
  private readonly causalMask: tf.Tensor2D;

  constructor(config: Partial<GPTConfig> = {}, options: GPTOptions = {}) {
    this.config = gptConfig(config);
    const valueOf = options.weights ? givenWeights(options.weights) : randomWeights(this.config, options.seed ?? 1337);
    const specs = gptParamSpecs(this.config);
    const values = specs.map((spec) => valueOf(spec.name, spec.shape)); // all checked before any tensor exists
    this.params = {};
    specs.forEach((spec, i) => {
      // tidy frees the initial tensor (the variable keeps its data): without it every GPT left one per parameter.
      this.params[spec.name] = tf.tidy(() => tf.variable(tf.tensor(values[i], spec.shape, "float32")));
    });
    const T = this.config.blockSize;
    this.causalMask = tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), MASKED)) as tf.Tensor2D;
  }

  /** GPT-2's released weights ("gpt2", "gpt2-medium", ..., a hub repo id or a local folder), as nanoGPT's GPT.from_pretrained; see pretrained.ts. */
  static async fromPretrained(source: string, options: PretrainedOptions = {}): Promise<GPT> {
    // Imported on use: pretrained.ts builds a GPT, and a static import cycle overflows tslab's module loader.
    const { loadPretrainedGPT } = await import("./pretrained.js");
    return loadPretrainedGPT(source, options);
  }

  /**
   * Logits for token ids idx (B, T) int32, and with targets (B, T) the mean cross-entropy.
   * As nanoGPT's `model(idx, targets)`. The caller disposes the returned tensors.
   */
  forward(idx: tf.Tensor2D, targets?: tf.Tensor2D, options: ForwardOptions = {}): ForwardResult {
    const [B, T] = idx.shape;
    const { blockSize, nEmbd: C, vocabSize } = this.config;
    if (T > blockSize) throw new RangeError(`forward: sequence length ${T} exceeds blockSize ${blockSize}`);
    if (targets && options.lastPositionOnly) throw new Error("forward: lastPositionOnly cannot be used with targets");
    const cache = options.cache;
    if (cache && options.training) throw new Error("forward: a KVCache is for sampling, not training");
    cache?.check(this.config, B, T);
    const past = cache?.length ?? 0; // absolute position of idx's first token
    const drop = this.dropoutFor(options);
    return tf.tidy(() => {
      const p = this.params;
      const tokens = tf.gather(p["transformer.wte.weight"], tf.reshape(idx, [-1])); // (B·T, C)
      const wpe = p["transformer.wpe.weight"];
      const positions = T === blockSize ? wpe : tf.slice(wpe, [past, 0], [T, C]); // (T, C)
      let x = drop(tf.reshape(tf.add(tf.reshape(tokens, [B, T, C]), positions), [B * T, C]) as tf.Tensor2D);
      for (let layer = 0; layer < this.config.nLayer; layer++) {
        const h = `transformer.h.${layer}`;
        // A scope per block: without a gradient tape its intermediates are freed as soon as the
        // block is done (one scope over the whole forward kept every layer's until the end).
        const input = x;
        x = tf.tidy(() => {
          const fused = options.training && !cache ? this.blockNatively(input, h, B, T, drop) : null;
          if (fused) return fused;
          const mid = tf.add(input, this.attention(this.norm(input, `${h}.ln_1`), B, T, h, drop, cache && { cache, layer })) as tf.Tensor2D;
          return this.config.attnOnly ? mid : (tf.add(mid, this.mlp(this.norm(mid, `${h}.ln_2`), h, drop)) as tf.Tensor2D);
        });
      }
      x = this.norm(x, "transformer.ln_f");
      const rows = options.lastPositionOnly ? 1 : T;
      if (options.lastPositionOnly) x = tf.reshape(tf.slice(tf.reshape(x, [B, T, C]), [0, T - 1, 0], [B, 1, C]), [B, C]);
      const logits2d = tf.matMul(x, p["transformer.wte.weight"], false, true) as tf.Tensor2D; // tied LM head
      const logits = tf.reshape(logits2d, [B, rows, vocabSize]) as tf.Tensor3D;
      if (!targets) return { logits };
      return { logits, loss: crossEntropy(logits2d, tf.reshape(targets, [-1])) };
    });
  }

  /** Number of parameters; as nanoGPT, position embeddings are left out unless nonEmbedding is false. */
  numParams(nonEmbedding = true): number {
    let total = 0;
    for (const v of Object.values(this.params)) total += v.size;
    return nonEmbedding ? total - this.params["transformer.wpe.weight"].size : total;
  }

  /** Free the parameters and the mask. */
  dispose(): void {
    for (const v of Object.values(this.params)) v.dispose();
    this.causalMask.dispose();
  }

  /**
   * The whole block as one native op (lib/native/block.ts) when training on the cpu with native
   * kernels, for blocks without biases and with exact GELU; null elsewhere. Same result as the
   * ops below, with a fraction of the engine's bookkeeping.
   */
  private blockNatively(x: tf.Tensor2D, h: string, B: number, T: number, drop: Dropout): tf.Tensor2D | null {
    const { attnOnly, bias, activation, nHead } = this.config;
    if (attnOnly || bias || (activation ?? "gelu") !== "gelu") return null;
    const p = this.params;
    const weights = {
      ln1: p[`${h}.ln_1.weight`] as tf.Tensor1D, attn: p[`${h}.attn.c_attn.weight`] as tf.Tensor2D,
      proj: p[`${h}.attn.c_proj.weight`] as tf.Tensor2D, ln2: p[`${h}.ln_2.weight`] as tf.Tensor1D,
      fc: p[`${h}.mlp.c_fc.weight`] as tf.Tensor2D, fc2: p[`${h}.mlp.c_proj.weight`] as tf.Tensor2D,
    };
    const nextSeed = () => drop.seed()!;
    return fusedBlock(x, weights, { batch: B, t: T, nHead }, drop === NO_DROPOUT ? undefined : { rate: drop.rate, nextSeed });
  }

  private norm(x: tf.Tensor2D, name: string): tf.Tensor2D {
    return layerNorm(x, this.params[`${name}.weight`] as tf.Tensor1D, this.params[`${name}.bias`] as tf.Tensor1D | undefined);
  }

  private linear(x: tf.Tensor2D, name: string): tf.Tensor2D {
    return linear(x, this.params[`${name}.weight`] as tf.Tensor2D, this.params[`${name}.bias`] as tf.Tensor1D | undefined);
  }

  /** Causal multi-head self-attention: one matmul makes q, k and v for all heads at once. */
  private attention(x: tf.Tensor2D, B: number, T: number, h: string, drop: Dropout, cached?: { cache: KVCache; layer: number }): tf.Tensor2D {
    const { nHead, nEmbd: C } = this.config;
    const headSize = C / nHead;
    const qkv = this.linear(x, `${h}.attn.c_attn`); // (B·T, 3C): [q | k | v], each nHead heads wide
    if (cached) return drop(this.linear(cached.cache.attend(cached.layer, qkv, B, T, this.causalMask), `${h}.attn.c_proj`));
    // Native fused attention (cpu backend with the addon): scores, mask, softmax, the weights'
    // dropout and the weighted sum in one kernel. Null elsewhere, and the composite form below runs.
    // (Both take the weights' dropout seed here, in the same order, so both drop the same weights.)
    const weightsSeed = drop.seed();
    const fused = fusedCausalSelfAttention(qkv, B, T, nHead, undefined, weightsSeed === null ? undefined : { rate: drop.rate, seed: weightsSeed });
    if (fused) return drop(this.linear(fused, `${h}.attn.c_proj`));
    const heads = tf.reshape(tf.transpose(tf.reshape(qkv, [B, T, 3, nHead, headSize]), [2, 0, 3, 1, 4]), [3, B * nHead, T, headSize]);
    const [q, k, v] = tf.unstack(heads) as tf.Tensor3D[];
    // Scaling q rather than the scores: fewer elements when T > headSize.
    const scores = tf.matMul(tf.mul(q, 1 / Math.sqrt(headSize)), k, false, true); // (B·nHead, T, T)
    const mask = T === this.config.blockSize ? this.causalMask : tf.slice(this.causalMask, [0, 0], [T, T]);
    const probs = tf.softmax(tf.add(scores, mask));
    const weights = weightsSeed === null ? probs : dropout(probs, drop.rate, weightsSeed);
    const y = tf.matMul(weights, v); // (B·nHead, T, headSize)
    const merged = tf.reshape(tf.transpose(tf.reshape(y, [B, nHead, T, headSize]), [0, 2, 1, 3]), [B * T, C]) as tf.Tensor2D;
    return drop(this.linear(merged, `${h}.attn.c_proj`));
  }

  private mlp(x: tf.Tensor2D, h: string, drop: Dropout): tf.Tensor2D {
    const hidden = activationFunction(this.config.activation ?? "gelu")(this.linear(x, `${h}.mlp.c_fc`)) as tf.Tensor2D;
    return drop(this.linear(hidden, `${h}.mlp.c_proj`));
  }

  private dropoutFor(options: ForwardOptions): Dropout {
    const rate = this.config.dropout;
    if (!options.training || rate === 0) return NO_DROPOUT;
    const rng = options.rng;
    if (!rng) throw new Error("forward: training with dropout needs options.rng (it seeds the dropout masks)");
    const seed = () => rng.seed();
    return Object.assign(<T extends tf.Tensor>(x: T) => dropout(x, rate, seed()), { rate, seed });
  }
}

/** Dropout at the model's rate, each call with the next seed; seed() draws one (null: no dropout). */
type Dropout = (<T extends tf.Tensor>(x: T) => T) & { rate: number; seed: () => number | null };
const NO_DROPOUT: Dropout = Object.assign(<T extends tf.Tensor>(x: T) => x, { rate: 0, seed: () => null });

type ParamValues = (name: string, shape: number[]) => Float32Array;

/** GPT-2's initialisation, drawn from the seed. */
function randomWeights(config: GPTConfig, seed: number): ParamValues {
  const values = initParamValues(config, new Rng(seed));
  return (name) => values.get(name)!;
}

/** Given values, each checked to be there with the parameter's size. */
function givenWeights(weights: Map<string, Float32Array> | Record<string, Float32Array>): ParamValues {
  const lookup = weights instanceof Map ? (name: string) => weights.get(name) : (name: string) => (Object.prototype.hasOwnProperty.call(weights, name) ? weights[name] : undefined);
  return (name, shape) => {
    const values = lookup(name);
    const size = shape.reduce((a, b) => a * b, 1);
    if (!(values instanceof Float32Array)) throw new Error(`GPT: options.weights has no Float32Array for "${name}"`);
    if (values.length !== size) throw new Error(`GPT: options.weights["${name}"] has ${values.length} values, shape [${shape}] needs ${size}`);
    return values;
  };
}
