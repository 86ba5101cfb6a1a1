import type { GPTConfig } from "../models/gpt/index.js";
import type { TrainConfig } from "./config.js";

/** A model and a training setup for one dataset, as nanoGPT's config/*.py files. */
export interface TrainPreset {
  dataset: "tinyshakespeare";
  /** Fraction of the tokens used for training; the rest is validation (nanoGPT: 0.9). */
  trainFraction: number;
  model: Omit<GPTConfig, "vocabSize">;
  train: Partial<TrainConfig>;
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

export const PRESETS: Record<string, TrainPreset> = {
  "shakespeare-char": shakespeareChar,
  "shakespeare-char-cpu": shakespeareCharCpu,
};
