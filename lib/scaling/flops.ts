/**
 * Counting a transformer's parameters and training compute.
 *
 * Parameters: nanoGPT's count (every weight but the position embeddings; the LM head is tied to the
 * token embedding) and Kaplan et al.'s non-embedding count (token and position embeddings both out).
 * Compute: the 6·N·D rule, and Chinchilla's exact count (Hoffmann et al., appendix F: embeddings,
 * attention including logits and softmax, the MLP and the output logits, backward = 2 × forward).
 */
import { gptParamSpecs, type GPTConfig } from "../models/gpt/index.js";

export interface ParamCounts {
  /** Everything, the token embedding once (it is tied to the LM head). */
  total: number;
  /** total − position embeddings: what nanoGPT's get_num_params() reports (GPT-2 124M: 123,653,376). */
  nanogpt: number;
  /** total − token and position embeddings: Kaplan et al.'s N. */
  nonEmbedding: number;
}

export function countGPTParams(config: GPTConfig): ParamCounts {
  let total = 0;
  let wte = 0;
  let wpe = 0;
  for (const spec of gptParamSpecs(config)) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    total += size;
    if (spec.name === "transformer.wte.weight") wte = size;
    if (spec.name === "transformer.wpe.weight") wpe = size;
  }
  return { total, nanogpt: total - wpe, nonEmbedding: total - wte - wpe };
}

/** The 6·N·D estimate of training FLOPs (2 per parameter per token forward, 4 backward). */
export function sixND(params: number, tokens: number): number {
  return 6 * params * tokens;
}

export interface TransformerShape {
  seqLen: number;
  vocabSize: number;
  dModel: number;
  nHeads: number;
  nLayers: number;
  /** The MLP's hidden width (4·dModel in GPT; 0 for attention-only blocks, which have no MLP). */
  ffwSize: number;
  /** Per-head width; dModel / nHeads unless given (Chinchilla's models set it separately). */
  keySize?: number;
}

/** Chinchilla's training FLOPs for one sequence of seqLen tokens (forward and backward). */
export function chinchillaFlopsPerSequence(shape: TransformerShape): number {
  const { seqLen: T, vocabSize: V, dModel: d, nHeads: h, nLayers: L, ffwSize: f } = shape;
  const inner = (shape.keySize ?? Math.floor(d / h)) * h;
  const embeddings = 2 * T * V * d;
  const qkv = 2 * 3 * T * d * inner;
  const logits = 2 * T * T * inner;
  const softmax = 3 * h * T * T;
  const weightedValues = 2 * T * T * inner;
  const outProjection = 2 * T * inner * d;
  const mlp = 2 * T * (2 * d * f);
  const unembedding = 2 * T * d * V;
  const forward = embeddings + L * (qkv + logits + softmax + weightedValues + outProjection + mlp) + unembedding;
  return 3 * forward;
}

/** A GPTConfig as Chinchilla's shape; an attention-only GPT (config.attnOnly) has ffwSize 0, so its MLP term is 0. */
export function gptShape(config: GPTConfig, seqLen = config.blockSize): TransformerShape {
  const ffwSize = config.attnOnly ? 0 : 4 * config.nEmbd;
  return { seqLen, vocabSize: config.vocabSize, dModel: config.nEmbd, nHeads: config.nHead, nLayers: config.nLayer, ffwSize };
}

/** Chinchilla's exact training FLOPs for `tokens` tokens in sequences of seqLen. */
export function chinchillaFlops(shape: TransformerShape, tokens: number): number {
  return (chinchillaFlopsPerSequence(shape) / shape.seqLen) * tokens;
}
