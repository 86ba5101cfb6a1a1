import type { GPTConfig } from "../models/gpt/index.js";
import type { TrainConfig } from "./config.js";

/** A model and a training setup for one dataset, as nanoGPT's config/*.py files. */
export interface TrainPreset {
  /** A registry dataset name (a text file may replace it with --dataset). */
  dataset: string;
  /** "char" (default): the text's characters, split by trainFraction; "gpt2": GPT-2's BPE from prepared shards. */
  tokenizer?: "char" | "gpt2";
  /** Fraction of the tokens used for training; the rest is validation (nanoGPT: 0.9). */
  trainFraction: number;
  /** vocabSize only where it is not the tokenizer's, e.g. GPT-2's 50257 padded to 50304. */
  model: Omit<GPTConfig, "vocabSize"> & { vocabSize?: number };
  train: Partial<TrainConfig>;
  /** Print a sample every this many steps (0 or absent: only at the end). */
  sampleInterval?: number;
}

/**
 * The vocabulary rounded up to a multiple of `multiple` (GPT-2's 50257 → 50304 = 64 · 786 = 128 · 393):
 * matmuls with "nice" sizes run faster on GPUs (build-nanogpt). The extra rows are never targets;
 * training pushes their logits down, as for any token the data never shows.
 */
export function paddedVocabSize(vocabSize: number, multiple = 64): number {
  return Math.ceil(vocabSize / multiple) * multiple;
}

/** nanoGPT's config/train_shakespeare_char.py: a 10.7M-parameter character model ("baby GPT"). */
const shakespeareChar: TrainPreset = {
  dataset: "tinyshakespeare",
  trainFraction: 0.9,
  model: { blockSize: 256, nLayer: 6, nHead: 6, nEmbd: 384, dropout: 0.2, bias: false },
  train: {
    outDir: "out/shakespeare-char",
    evalInterval: 250,
    evalIters: 200,
    logInterval: 10,
    alwaysSaveCheckpoint: false,
    batchSize: 64,
    gradientAccumulationSteps: 1,
    learningRate: 1e-3,
    maxIters: 5000,
    lrDecayIters: 5000,
    minLr: 1e-4,
    beta2: 0.99,
    warmupIters: 100,
  },
};

/**
 * nanoGPT README's CPU line: train_shakespeare_char with --eval_iters=20 --log_interval=1
 * --block_size=64 --batch_size=12 --n_layer=4 --n_head=4 --n_embd=128 --max_iters=2000
 * --lr_decay_iters=2000 --dropout=0.0 (about 0.8M parameters; val loss ≈ 1.88 after 2000 steps).
 */
const shakespeareCharCpu: TrainPreset = {
  ...shakespeareChar,
  model: { blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0, bias: false },
  train: {
    ...shakespeareChar.train,
    outDir: "out/shakespeare-char-cpu",
    evalIters: 20,
    logInterval: 1,
    batchSize: 12,
    maxIters: 2000,
    lrDecayIters: 2000,
  },
};

/**
 * build-nanogpt's recipe at laptop scale: a GPT-2-architecture model (biases, tied head, GELU's tanh
 * form, vocabulary padded to 50304) on Tiny Shakespeare in GPT-2 tokens, AdamW betas (0.9, 0.95), weight decay 0.1
 * on matrices, warm-up then cosine to 10 % of the peak, clipping at 1.0, a total batch in tokens
 * reached by gradient accumulation, and a sample every 50 steps.
 */
const gpt2Shakespeare: TrainPreset = {
  dataset: "tinyshakespeare",
  tokenizer: "gpt2",
  trainFraction: 0.9,
  model: { vocabSize: paddedVocabSize(50257), blockSize: 128, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0, bias: true, activation: "gelu_tanh" },
  train: {
    outDir: "out/gpt2-shakespeare",
    evalInterval: 50,
    evalIters: 10,
    logInterval: 10,
    alwaysSaveCheckpoint: false,
    batchSize: 4,
    totalBatchTokens: 2048, // 4 micro-batches of 4 × 128
    learningRate: 1e-3,
    maxIters: 250, // 512,000 tokens, 1.7 epochs; warm-up (a tenth) and decay (to the end) follow it
    minLr: 1e-4,
    beta1: 0.9,
    beta2: 0.95,
    weightDecay: 0.1,
    gradClip: 1.0,
  },
  sampleInterval: 50,
};

export const PRESETS: Record<string, TrainPreset> = {
  "shakespeare-char": shakespeareChar,
  "shakespeare-char-cpu": shakespeareCharCpu,
  "gpt2-shakespeare": gpt2Shakespeare,
};
