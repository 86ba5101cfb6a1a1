/**
 * The flags of `npm run train`: every model and training setting, typed by its value in the preset
 * (numbers, booleans, strings), with the range each one allows, plus the script's own flags.
 */
import { backendChoices } from "../engine/types.js";
import type { GPTConfig } from "../models/gpt/index.js";
import type { FlagSchema, FlagSpec } from "./args.js";
import { trainConfig, type TrainConfig } from "./config.js";
import { PRESETS, type TrainPreset } from "./presets.js";

type Range = Omit<FlagSpec, "type" | "default">;
const positiveInteger = { min: 1 };
const count = { min: 0 };
const rate = { min: 0 };
const fraction = { min: 0, below: 1 };

/** Ranges (and help) of the settings a preset holds; their types come from the values. */
export const SETTING_RANGES: Record<keyof Omit<GPTConfig, "vocabSize" | "activation" | "attnOnly"> | keyof TrainConfig, Range> = {
  blockSize: { ...positiveInteger, help: "context length (tokens)" },
  nLayer: { ...positiveInteger, help: "transformer blocks" },
  nHead: { ...positiveInteger, help: "attention heads per block" },
  nEmbd: { ...positiveInteger, help: "width of the residual stream (divisible by n_head)" },
  dropout: { ...fraction, help: "dropout probability while training" },
  bias: { help: "biases in Linear layers and LayerNorms" },
  batchSize: { ...positiveInteger, help: "sequences per micro-batch" },
  gradientAccumulationSteps: { ...positiveInteger, help: "micro-batches per optimizer step" },
  totalBatchTokens: { ...positiveInteger, help: "tokens per optimizer step, reached by gradient accumulation (must be a multiple of batch_size × block_size)" },
  maxIters: { ...count, help: "optimizer steps" },
  evalInterval: { ...positiveInteger, help: "estimate train/val loss every this many steps" },
  evalIters: { ...positiveInteger, help: "batches per loss estimate" },
  logInterval: { ...positiveInteger, help: "print the loss every this many steps" },
  learningRate: { ...rate, help: "peak learning rate" },
  weightDecay: { ...rate, help: "AdamW's decoupled weight decay" },
  beta1: { ...fraction, help: "AdamW's beta1" },
  beta2: { ...fraction, help: "AdamW's beta2" },
  gradClip: { ...rate, help: "clip the global gradient norm to this (0: no clipping)" },
  decayLr: { help: "warm-up then cosine decay (false: constant learning rate)" },
  warmupIters: { ...count, help: "steps of linear warm-up" },
  lrDecayIters: { ...count, help: "step at which the cosine decay reaches min_lr" },
  minLr: { ...rate, help: "learning rate at the end of the decay" },
  seed: { min: 0, max: 2 ** 32 - 1, help: "seeds batches and dropout" },
  outDir: { help: "checkpoint folder (same as --out)" },
  alwaysSaveCheckpoint: { help: "save at every evaluation (false: only when val loss improves)" },
};

/** Integer-valued settings; the rest of the numbers may be fractions. */
const INTEGER_SETTINGS = new Set([
  "blockSize", "nLayer", "nHead", "nEmbd", "batchSize", "gradientAccumulationSteps", "totalBatchTokens", "maxIters",
  "evalInterval", "evalIters", "logInterval", "warmupIters", "lrDecayIters", "seed",
]);

/** The model settings a flag may change (the vocabulary size comes from the data). */
export const MODEL_SETTINGS = ["blockSize", "nLayer", "nHead", "nEmbd", "dropout", "bias"] as const;

/** --init_from: a fresh model, a checkpoint, or OpenAI's GPT-2 weights to fine-tune. */
export const INIT_FROM = ["scratch", "resume", "gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl"] as const;

/** The train script's schema; defaults (for --help) are the preset's values. */
export function trainFlags(preset: TrainPreset, presetName: string): FlagSchema {
  // trainConfig: the warm-up and decay a preset leaves out follow its maxIters (shown as such in --help).
  const settings: Record<string, unknown> = { ...trainConfig({ outDir: `out/${presetName}`, ...preset.train }), ...preset.model };
  const schema: FlagSchema = {
    preset: { type: "string", choices: Object.keys(PRESETS), default: presetName, help: "model and training setup" },
    backend: { type: "string", choices: backendChoices, help: "tensor backend; default: COURSE_BACKEND, else auto" },
    out: { type: "string", help: "checkpoint folder; default: the preset's out_dir" },
    resume: { type: "boolean", default: false, help: "continue <out>/ckpt.safetensors exactly" },
    initFrom: { type: "string", choices: INIT_FROM, default: "scratch", help: "resume (= --resume), or fine-tune OpenAI's GPT-2 weights" },
    dataset: { type: "string", default: preset.dataset, help: "a dataset name or a text file" },
    tokenizer: { type: "string", choices: ["char", "gpt2"], default: preset.tokenizer ?? "char", help: "char: characters of the text; gpt2: GPT-2's BPE, read from prepared shards" },
    dataDir: { type: "string", help: "folder of shards from npm run prepare (tokenizer gpt2); default data/<dataset>-gpt2, prepared on first use" },
    peakFlops: { type: "number", above: 0, help: "the device's peak FLOP/s for the MFU in the log; default: a table of known GPUs, else MFU n/a" },
    sampleInterval: { type: "integer", min: 0, default: preset.sampleInterval ?? 0, help: "print a sample every this many steps (0: none)" },
    sampleTokens: { type: "integer", min: 0, default: 500, help: "tokens to sample at the end (0: none)" },
    hellaswag: { type: "integer", min: 0, default: 0, help: "score this many HellaSwag validation examples at the end (tokenizer gpt2; 10042: all)" },
  };
  for (const [name, range] of Object.entries(SETTING_RANGES)) {
    const value = settings[name];
    if (value === null) {
      schema[name] = { ...range, type: INTEGER_SETTINGS.has(name) ? "integer" : "number" }; // unset unless given
      continue;
    }
    const type = typeof value === "boolean" ? "boolean" : typeof value === "number" ? (INTEGER_SETTINGS.has(name) ? "integer" : "number") : "string";
    schema[name] = { ...range, type, default: value as FlagSpec["default"] };
  }
  return schema;
}
