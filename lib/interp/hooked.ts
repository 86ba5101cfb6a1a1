/**
 * A TransformerLens-style view of the course's GPT: the same weights (no folding, no centring, so
 * logits match the plain model), run through a forward pass written out with composite tfjs ops
 * that passes every activation through a named hook point (act-names.ts lists them).
 *
 * With no hooks and nothing to cache, runWithHooks calls model.forward itself (the fused native
 * kernels). Hooks passed to a call live only for that call; hooks() attaches hooks for a scope and
 * removes them when it ends, thrown error or not. Tensors made during a run are freed when it ends
 * (and when a hook throws); the cache's tensors are the caller's to free with cache.dispose().
 */
import * as tf from "@tensorflow/tfjs-core";
import type { GPT } from "../models/gpt/model.js";
import { geluComposite, geluTanh } from "../models/gpt/layers.js";
import { hookNames } from "./act-names.js";
import { ActivationCache, type PosSlice } from "./cache.js";
import { headResults } from "./head-results.js";

export { headResults } from "./head-results.js";

/** Token ids: a (batch, pos) int32 tensor, a list of rows, or one row. */
export type Tokens = tf.Tensor2D | number[][] | number[];

/** What a hook is told about where it runs. */
export interface HookPoint {
  /** The full hook name, e.g. "blocks.0.attn.hook_pattern". */
  name: string;
  /** The block, for hook points inside one. */
  layer?: number;
}

/** Reads an activation; returning a tensor of the same shape replaces it. */
export type HookFn = (activation: tf.Tensor, hook: HookPoint) => tf.Tensor | void;
/** Which hook points: one full name, a list of names, or a predicate on the name. */
export type NameFilter = string | string[] | ((name: string) => boolean);
/** [which hook points, hook], as TransformerLens's fwd_hooks entries. */
export type FwdHook = [NameFilter, HookFn];

export interface HookRunOptions {
  fwdHooks?: FwdHook[];
  /** Also compute attn.hook_result, each head's output (batch, pos, head, d_model), as TransformerLens's use_attn_result. */
  useAttnResult?: boolean;
  /** Run the composite (hooked) path even without hooks: the plain model is used otherwise. */
  composite?: boolean;
}

export interface CacheOptions extends HookRunOptions {
  /** Which activations to keep (default all). */
  namesFilter?: NameFilter;
  /** Keep one position (the axis dropped, as TransformerLens) or the range [start, end) of positions; negative counts from the end. */
  posSlice?: PosSlice;
}

/** (…, C) → (…, out): x·Wᵀ + b with PyTorch's (out, in) weight. */
function linear3d(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const shape = x.shape;
  const flat = tf.fused.matMul({ a: tf.reshape(x, [-1, shape[shape.length - 1]]) as tf.Tensor2D, b: weight as tf.Tensor2D, transposeB: true, bias });
  return tf.reshape(flat, [...shape.slice(0, -1), weight.shape[0]]);
}

/** Masked attention scores hold this (TransformerLens: -inf); exp() of it is exactly 0 on every backend. */
export const MASKED_SCORE = -1e9;

export function nameMatcher(filter: NameFilter | undefined): (name: string) => boolean {
  if (filter === undefined) return () => true;
  if (typeof filter === "function") return filter;
  const names = new Set(typeof filter === "string" ? [filter] : filter);
  return (name) => names.has(name);
}

export class HookedGPT {
  readonly model: GPT;
  /** Hooks attached by hooks() scopes now running (innermost last). */
  private readonly attached: FwdHook[] = [];

  constructor(model: GPT) {
    this.model = model;
  }

  get config() {
    return this.model.config;
  }

  /** Every hook point's name in firing order (208 for GPT-2 small; with useAttnResult one more per layer). */
  hookNames(useAttnResult = false): string[] {
    return hookNames(this.config.nLayer, useAttnResult, this.config.attnOnly ?? false);
  }

  /** Number of hooks attached by hooks() scopes (0 outside them). */
  get attachedHooks(): number {
    return this.attached.length;
  }

  /** The unembedding W_U (d_model, d_vocab): the transposed token embedding (the LM head is tied). */
  unembed(): tf.Tensor2D {
    return tf.transpose(this.model.params["transformer.wte.weight"]) as tf.Tensor2D;
  }

  /** Logits (batch, pos, vocab) with the hooks applied. The caller disposes them. */
  runWithHooks(tokens: Tokens, options: HookRunOptions = {}): tf.Tensor3D {
    return this.run(tokens, options, () => false).logits;
  }

  /** Logits and an ActivationCache of the activations the filter names (after any hooks ran on them). */
  runWithCache(tokens: Tokens, options: CacheOptions = {}): { logits: tf.Tensor3D; cache: ActivationCache } {
    return this.run(tokens, { ...options, composite: true }, nameMatcher(options.namesFilter), options.posSlice);
  }

  /**
   * Attach hooks while fn runs (an async fn: until its promise settles); they are removed
   * afterwards, also when fn throws. As TransformerLens's `with model.hooks(fwd_hooks=...)`.
   */
  hooks<T>(fwdHooks: FwdHook[], fn: (model: HookedGPT) => T): T {
    const start = this.attached.length;
    this.attached.push(...fwdHooks);
    const detach = () => void this.attached.splice(start);
    let result: T;
    try {
      result = fn(this);
    } catch (error) {
      detach();
      throw error;
    }
    if (result instanceof Promise) return result.finally(detach) as T;
    detach();
    return result;
  }

  private run(tokens: Tokens, options: HookRunOptions, keep: (name: string) => boolean, posSlice?: PosSlice): { logits: tf.Tensor3D; cache: ActivationCache } {
    const idx = toTokenTensor(tokens);
    const owned = idx !== tokens;
    const hooks = [...this.attached, ...(options.fwdHooks ?? [])].map(([filter, fn]) => [nameMatcher(filter), fn] as const);
    const stored = new Map<string, tf.Tensor>();
    try {
      if (hooks.length === 0 && !options.composite && !options.useAttnResult) {
        return { logits: this.model.forward(idx).logits, cache: new ActivationCache(this, stored, posSlice) };
      }
      const [, T] = idx.shape;
      const point = (name: string, x: tf.Tensor, layer?: number): tf.Tensor => {
        let value = x;
        for (const [matches, fn] of hooks) {
          if (!matches(name)) continue;
          const out = fn(value, { name, layer });
          if (out === undefined) continue;
          if (!(out instanceof tf.Tensor)) throw new TypeError(`hook on ${name} returned ${typeof out}, not a tensor`);
          if (out.shape.join() !== value.shape.join()) throw new RangeError(`hook on ${name} returned shape [${out.shape}], expected [${value.shape}]`);
          value = out;
        }
        if (keep(name)) stored.set(name, tf.keep(tf.clone(slicePositions(name, value, T, posSlice))));
        return value;
      };
      const logits = tf.tidy(() => this.hookedForward(idx, point, options.useAttnResult ?? false));
      return { logits, cache: new ActivationCache(this, stored, posSlice) };
    } catch (error) {
      for (const t of stored.values()) t.dispose();
      throw error;
    } finally {
      if (owned) idx.dispose();
    }
  }

  /** The forward pass, every activation through point(). Same math as GPT.forward (nanoGPT's), composite ops. */
  private hookedForward(idx: tf.Tensor2D, point: (name: string, x: tf.Tensor, layer?: number) => tf.Tensor, useAttnResult: boolean): tf.Tensor3D {
    const [B, T] = idx.shape;
    const { nLayer, nEmbd: C, blockSize, vocabSize } = this.config;
    if (T > blockSize) throw new RangeError(`sequence length ${T} exceeds blockSize ${blockSize}`);
    const p = this.model.params;
    const wte = p["transformer.wte.weight"];
    const embed = point("hook_embed", tf.reshape(tf.gather(wte, tf.reshape(idx, [-1])), [B, T, C]));
    const positions = tf.slice(p["transformer.wpe.weight"], [0, 0], [T, C]);
    const posEmbed = point("hook_pos_embed", tf.broadcastTo(tf.expandDims(positions, 0), [B, T, C]));
    let resid = tf.add(embed, posEmbed);
    const causal = tf.cast(tf.linalg.bandPart(tf.ones([T, T]), -1, 0), "bool");
    for (let layer = 0; layer < nLayer; layer++) {
      const b = `blocks.${layer}`;
      const h = `transformer.h.${layer}`;
      const at = (name: string, x: tf.Tensor) => point(`${b}.${name}`, x, layer);
      resid = at("hook_resid_pre", resid);
      const attnIn = this.layerNorm(resid, `${h}.ln_1`, (name, x) => at(`ln1.${name}`, x));
      const attnOut = at("hook_attn_out", this.attention(attnIn, h, causal, (name, x) => at(`attn.${name}`, x), useAttnResult));
      if (this.config.attnOnly) {
        resid = at("hook_resid_post", tf.add(resid, attnOut));
        continue;
      }
      resid = at("hook_resid_mid", tf.add(resid, attnOut));
      const mlpIn = this.layerNorm(resid, `${h}.ln_2`, (name, x) => at(`ln2.${name}`, x));
      const mlpOut = at("hook_mlp_out", this.mlp(mlpIn, h, (name, x) => at(`mlp.${name}`, x)));
      resid = at("hook_resid_post", tf.add(resid, mlpOut));
    }
    const final = this.layerNorm(resid, "transformer.ln_f", (name, x) => point(`ln_final.${name}`, x));
    const logits = tf.matMul(tf.reshape(final, [B * T, C]) as tf.Tensor2D, wte, false, true);
    return tf.reshape(logits, [B, T, vocabSize]) as tf.Tensor3D;
  }

  /** LayerNorm as TransformerLens writes it: scale = √(mean((x − mean x)²) + ε), normalized = (x − mean x)/scale · w + b. */
  private layerNorm(x: tf.Tensor, param: string, at: (name: string, x: tf.Tensor) => tf.Tensor): tf.Tensor {
    const p = this.model.params;
    const centred = tf.sub(x, tf.mean(x, -1, true));
    const scale = at("hook_scale", tf.sqrt(tf.add(tf.mean(tf.square(centred), -1, true), 1e-5)));
    const gained = tf.mul(tf.div(centred, scale), p[`${param}.weight`]);
    const bias = p[`${param}.bias`];
    return at("hook_normalized", bias ? tf.add(gained, bias) : gained);
  }

  private attention(x: tf.Tensor, h: string, causal: tf.Tensor, at: (name: string, x: tf.Tensor) => tf.Tensor, useAttnResult: boolean): tf.Tensor {
    const p = this.model.params;
    const [B, T, C] = x.shape;
    const H = this.config.nHead;
    const D = C / H;
    // c_attn's weight rows are [W_q; W_k; W_v], each a contiguous (C, C) block: three matmuls, no split of the output.
    const [w, bias3] = [p[`${h}.attn.c_attn.weight`], p[`${h}.attn.c_attn.bias`]];
    const project = (i: number) => linear3d(x, tf.slice(w, [i * C, 0], [C, C]), bias3 && tf.slice(bias3, [i * C], [C]));
    const [q, k, v] = ["hook_q", "hook_k", "hook_v"].map((name, i) => at(name, tf.reshape(project(i), [B, T, H, D])));
    const heads = (t: tf.Tensor) => tf.transpose(t, [0, 2, 1, 3]); // (B, H, T, D)
    const raw = tf.div(tf.matMul(heads(q) as tf.Tensor4D, heads(k) as tf.Tensor4D, false, true), Math.sqrt(D));
    const scores = at("hook_attn_scores", tf.where(causal, raw, tf.scalar(MASKED_SCORE)));
    const pattern = at("hook_pattern", tf.softmax(scores));
    const z = at("hook_z", tf.transpose(tf.matMul(pattern as tf.Tensor4D, heads(v) as tf.Tensor4D), [0, 2, 1, 3])); // (B, T, H, D)
    const weight = p[`${h}.attn.c_proj.weight`];
    const bias = p[`${h}.attn.c_proj.bias`];
    if (!useAttnResult) return linear3d(tf.reshape(z, [B, T, C]), weight, bias);
    const result = at("hook_result", headResults(z, weight, H)); // (B, T, H, C)
    const summed = tf.sum(result, 2);
    return bias ? tf.add(summed, bias) : summed;
  }

  private mlp(x: tf.Tensor, h: string, at: (name: string, x: tf.Tensor) => tf.Tensor): tf.Tensor {
    const p = this.model.params;
    const act = this.config.activation === "gelu_tanh" ? geluTanh : geluComposite;
    const pre = at("hook_pre", linear3d(x, p[`${h}.mlp.c_fc.weight`], p[`${h}.mlp.c_fc.bias`]));
    const post = at("hook_post", act(pre));
    return linear3d(post, p[`${h}.mlp.c_proj.weight`], p[`${h}.mlp.c_proj.bias`]);
  }
}

/** The position axis of an activation: the query axis of scores and patterns, else axis 1. */
export function positionAxis(name: string): number {
  return name.endsWith("hook_attn_scores") || name.endsWith("hook_pattern") ? 2 : 1;
}

function slicePositions(name: string, x: tf.Tensor, T: number, posSlice?: PosSlice): tf.Tensor {
  if (posSlice === undefined) return x;
  const axis = positionAxis(name);
  const wrap = (i: number) => (i < 0 ? i + T : i);
  if (typeof posSlice === "number") {
    const i = wrap(posSlice);
    if (!(i >= 0 && i < T)) throw new RangeError(`posSlice ${posSlice} is outside the ${T} positions`);
    return tf.squeeze(tf.gather(x, [i], axis), [axis]);
  }
  const [start, end] = [wrap(posSlice[0]), wrap(posSlice[1] ?? T)];
  if (!(start >= 0 && end <= T && start < end)) throw new RangeError(`posSlice [${posSlice}] is not a range within the ${T} positions`);
  const begin = x.shape.map((_, a) => (a === axis ? start : 0));
  const size = x.shape.map((n, a) => (a === axis ? end - start : n));
  return tf.slice(x, begin, size);
}

function toTokenTensor(tokens: Tokens): tf.Tensor2D {
  if (tokens instanceof tf.Tensor) {
    if (tokens.rank !== 2) throw new RangeError(`tokens: expected a (batch, pos) tensor, got shape [${tokens.shape}]`);
    return tokens;
  }
  const rows = Array.isArray(tokens[0]) ? (tokens as number[][]) : [tokens as number[]];
  if (rows.length === 0 || rows[0].length === 0) throw new RangeError("tokens: empty");
  if (rows.some((row) => row.length !== rows[0].length)) throw new RangeError("tokens: rows of different lengths");
  return tf.tensor2d(rows, [rows.length, rows[0].length], "int32");
}
