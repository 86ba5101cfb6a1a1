/**
 * TransformerLens's ActivationCache: the activations of one run by hook name, and the views of
 * the residual stream built from them (accumulated, decomposed, per head, through the final
 * LayerNorm, onto the unembedding). Every method returns new tensors the caller disposes;
 * cache.dispose() frees the cached ones.
 *
 * The weights are used as the model has them (TransformerLens folds the LayerNorm gains into the
 * next weights by default): applyLnToStack centres, divides by the cached scale and multiplies by
 * the gain; the LayerNorm bias, a constant, is added only when asked (a stack of whole residuals).
 */
import * as tf from "@tensorflow/tfjs-core";
import { getActName } from "./act-names.js";
import type { HookedGPT } from "./hooked.js";
import { headResults } from "./head-results.js";

/** One position (its axis dropped) or a range [start, end) of positions; negative counts from the end. */
export type PosSlice = number | [number, number?];

/** Rows of residual-stream vectors (component, …, d_model) and what each row is. */
export interface ResidStack {
  stack: tf.Tensor;
  labels: string[];
}

export interface LnOptions {
  /** Apply the LayerNorm that reads the stream at `layer` (the final one at nLayer) to each row. */
  applyLn?: boolean;
}

export class ActivationCache {
  private readonly store: Map<string, tf.Tensor>;
  private readonly model: HookedGPT;
  /** The posSlice the activations were cached with. */
  readonly posSlice?: PosSlice;
  private disposed = false;

  constructor(model: HookedGPT, store: Map<string, tf.Tensor>, posSlice?: PosSlice) {
    this.model = model;
    this.store = store;
    this.posSlice = posSlice;
  }

  /** Cached hook names, in firing order. */
  get names(): string[] {
    return [...this.store.keys()];
  }

  get size(): number {
    return this.store.size;
  }

  has(name: string, layer?: number, layerType?: string): boolean {
    return this.store.has(getActName(name, layer, layerType));
  }

  /** The activation at a hook point: a full name or getActName's shorthand, get("pattern", 0). */
  get(name: string, layer?: number, layerType?: string): tf.Tensor {
    if (this.disposed) throw new Error("ActivationCache: used after dispose()");
    const full = getActName(name, layer, layerType);
    const value = this.store.get(full);
    if (!value) throw new Error(`ActivationCache has no "${full}" (${this.store.size} cached; include it in namesFilter)`);
    return value;
  }

  /** Free every cached tensor. */
  dispose(): void {
    for (const t of this.store.values()) t.dispose();
    this.store.clear();
    this.disposed = true;
  }

  /**
   * The residual stream before each layer up to `layer` (default: all, then the final stream after
   * the last block), as TransformerLens's accumulated_resid: labels "0_pre", ("0_mid"), …, "final_post".
   * With applyLn each row goes through the LayerNorm at `layer` (bias included): at nLayer, times W_U, the logit lens.
   */
  accumulatedResid(layer?: number, options: LnOptions & { inclMid?: boolean } = {}): ResidStack {
    const { nLayer } = this.model.config;
    const upTo = this.checkLayer(layer);
    const parts: tf.Tensor[] = [];
    const labels: string[] = [];
    for (let l = 0; l <= upTo; l++) {
      if (l === nLayer) {
        parts.push(this.get("resid_post", nLayer - 1));
        labels.push("final_post");
        continue;
      }
      parts.push(this.get("resid_pre", l));
      labels.push(`${l}_pre`);
      if (options.inclMid && l < upTo) {
        if (this.model.config.attnOnly) throw new RangeError("accumulatedResid: an attention-only model has no resid_mid (inclMid)");
        parts.push(this.get("resid_mid", l));
        labels.push(`${l}_mid`);
      }
    }
    const stack = tf.stack(parts);
    return { stack: options.applyLn ? this.consume(stack, (s) => this.applyLnToStack(s, upTo, { bias: true })) : stack, labels };
  }

  /**
   * The residual stream at `layer` (default: the final stream) as the sum of its parts: embed,
   * pos_embed, then each earlier layer's attn_out and mlp_out (no mlp_out when attention-only; with
   * mlpInput, also this layer's attn_out: the MLP's input). The rows sum to the stream.
   */
  decomposeResid(layer?: number, options: LnOptions & { mlpInput?: boolean } = {}): ResidStack {
    const upTo = this.checkLayer(layer);
    const parts = [this.get("hook_embed"), this.get("hook_pos_embed")];
    const labels = ["embed", "pos_embed"];
    const attnOnly = this.model.config.attnOnly ?? false;
    if (options.mlpInput && attnOnly) throw new RangeError("decomposeResid: an attention-only model has no MLP input (mlpInput)");
    for (let l = 0; l < upTo; l++) {
      parts.push(this.get("attn_out", l));
      labels.push(`${l}_attn_out`);
      if (attnOnly) continue;
      parts.push(this.get("mlp_out", l));
      labels.push(`${l}_mlp_out`);
    }
    if (options.mlpInput && upTo < this.model.config.nLayer) {
      parts.push(this.get("attn_out", upTo));
      labels.push(`${upTo}_attn_out`);
    }
    const stack = tf.stack(parts);
    const ln = (s: tf.Tensor) => this.applyLnToStack(s, upTo, { mlpInput: options.mlpInput });
    return { stack: options.applyLn ? this.consume(stack, ln) : stack, labels };
  }

  /**
   * Each head's output (no b_O) of every layer before `layer` (default all): rows "L0H0", "L0H1", ….
   * From attn.hook_result when cached, else from attn.hook_z and W_O.
   */
  stackHeadResults(layer?: number, options: LnOptions = {}): ResidStack {
    const upTo = Math.min(this.checkLayer(layer), this.model.config.nLayer);
    const { nHead } = this.model.config;
    const labels: string[] = [];
    const stack = tf.tidy(() => {
      const perLayer: tf.Tensor[] = [];
      for (let l = 0; l < upTo; l++) {
        const result = this.has("result", l) ? this.get("result", l) : headResults(this.get("z", l), this.model.model.params[`transformer.h.${l}.attn.c_proj.weight`], nHead);
        const headAxis = result.rank - 2;
        perLayer.push(...tf.unstack(result, headAxis));
        for (let h = 0; h < nHead; h++) labels.push(`L${l}H${h}`);
      }
      return tf.stack(perLayer);
    });
    return { stack: options.applyLn ? this.consume(stack, (s) => this.applyLnToStack(s, upTo)) : stack, labels };
  }

  /**
   * Rows (component, …, d_model) through the LayerNorm that reads the stream at `layer` (nLayer,
   * the default: ln_final; with mlpInput the block's ln2, else its ln1), using the cached scale:
   * centred, divided by the scale, times the gain, plus the bias only with `bias` (it belongs to no component).
   */
  applyLnToStack(stack: tf.Tensor, layer?: number, options: { mlpInput?: boolean; bias?: boolean } = {}): tf.Tensor {
    const { nLayer } = this.model.config;
    const at = this.checkLayer(layer);
    if (options.mlpInput && this.model.config.attnOnly) throw new RangeError("applyLnToStack: an attention-only model has no ln2 (mlpInput)");
    const [scaleName, param] =
      at === nLayer ? ["ln_final.hook_scale", "transformer.ln_f"] : options.mlpInput ? [`blocks.${at}.ln2.hook_scale`, `transformer.h.${at}.ln_2`] : [`blocks.${at}.ln1.hook_scale`, `transformer.h.${at}.ln_1`];
    const scale = this.get(scaleName);
    const p = this.model.model.params;
    return tf.tidy(() => {
      const centred = tf.sub(stack, tf.mean(stack, -1, true));
      const gained = tf.mul(tf.div(centred, scale), p[`${param}.weight`]);
      const bias = p[`${param}.bias`];
      return options.bias && bias ? tf.add(gained, bias) : gained;
    });
  }

  /**
   * Direct logit attribution: each row (before the final LayerNorm) through ln_final's scale and gain
   * onto the unembedding direction of `tokens` (minus that of `incorrectTokens`). tokens: one id for
   * every row, or ids shaped as the stack's dimensions between the component axis and d_model
   * (e.g. one per batch row for a (component, batch, d_model) stack). Returns (component, …).
   */
  logitAttrs(stack: tf.Tensor, tokens: number | number[] | number[][], incorrectTokens?: number | number[] | number[][]): tf.Tensor {
    const wte = this.model.model.params["transformer.wte.weight"];
    return tf.tidy(() => {
      const direction = (ids: number | number[] | number[][]) => {
        const idx = tf.tensor(typeof ids === "number" ? [ids] : ids, undefined, "int32");
        const rows = tf.gather(wte, tf.reshape(idx, [-1]));
        return typeof ids === "number" ? tf.reshape(rows, [-1]) : tf.reshape(rows, [...idx.shape, wte.shape[1] as number]);
      };
      const dir = incorrectTokens === undefined ? direction(tokens) : tf.sub(direction(tokens), direction(incorrectTokens));
      return tf.sum(tf.mul(this.applyLnToStack(stack, this.model.config.nLayer), dir), -1);
    });
  }

  /** The logit lens: the accumulated residual after each layer through ln_final and W_U, (layer, …, vocab); labels as accumulatedResid. */
  logitLens(options: { inclMid?: boolean } = {}): ResidStack {
    const { stack, labels } = this.accumulatedResid(undefined, { applyLn: true, inclMid: options.inclMid });
    const wte = this.model.model.params["transformer.wte.weight"];
    const logits = tf.tidy(() => {
      const C = stack.shape[stack.rank - 1];
      const flat = tf.matMul(tf.reshape(stack, [-1, C]) as tf.Tensor2D, wte, false, true);
      return tf.reshape(flat, [...stack.shape.slice(0, -1), wte.shape[0]]);
    });
    stack.dispose();
    return { stack: logits, labels };
  }

  private checkLayer(layer?: number): number {
    const { nLayer } = this.model.config;
    const at = layer === undefined || layer === -1 ? nLayer : layer;
    if (!Number.isInteger(at) || at < 0 || at > nLayer) throw new RangeError(`layer must be an integer in 0..${nLayer}, got ${layer}`);
    return at;
  }

  private consume(stack: tf.Tensor, fn: (s: tf.Tensor) => tf.Tensor): tf.Tensor {
    try {
      return fn(stack);
    } finally {
      stack.dispose();
    }
  }
}
