/**
 * A char-level GPT on Tiny Shakespeare, through the course's GPT and Trainer: one run of a
 * model-size × token-budget sweep. Tokens seen = maxIters · batchSize · blockSize; the loss is the
 * validation loss at the end (the Trainer's last evaluation).
 *
 * config: nLayer, nHead, nEmbd, blockSize (64), batchSize (16), maxIters, lr (1e-3), evalIters (20),
 * evals (evaluations over the run, 4). Dropout 0, no bias, nothing saved to disk.
 */
import { loadText } from "../../data/load.js";
import { engineInfo, tf, useBackend } from "../../engine/index.js";
import { GPT } from "../../models/gpt/index.js";
import { CharTokenizer } from "../../tokenizers/index.js";
import { Trainer } from "../../train/index.js";
import { chinchillaFlops, countGPTParams, gptShape } from "../flops.js";
import type { RunOutcome } from "../runs.js";
import type { RunConfig, TaskContext } from "../sweep.js";

let cached: { train: Uint16Array; val: Uint16Array; vocabSize: number } | null = null;

async function shakespeare() {
  if (!cached) {
    const text = await loadText("tinyshakespeare");
    const chars = CharTokenizer.fromText(text);
    const ids = Uint16Array.from(chars.encode(text));
    const split = Math.floor(ids.length * 0.9);
    cached = { train: ids.subarray(0, split), val: ids.subarray(split), vocabSize: chars.vocabSize };
  }
  return cached;
}

function integer(config: RunConfig, key: string, fallback?: number): number {
  const value = config[key] ?? fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) throw new Error(`config.${key} must be a positive integer, got ${JSON.stringify(value)}`);
  return value;
}

export async function charGPT(config: RunConfig, context: TaskContext): Promise<RunOutcome> {
  if (!engineInfo()) await useBackend(); // a fresh worker process: COURSE_BACKEND, else the fastest here
  const data = await shakespeare();
  const blockSize = integer(config, "blockSize", 64);
  const batchSize = integer(config, "batchSize", 16);
  const maxIters = integer(config, "maxIters");
  const evals = integer(config, "evals", 4);
  const model = new GPT(
    { vocabSize: data.vocabSize, blockSize, nLayer: integer(config, "nLayer"), nHead: integer(config, "nHead"), nEmbd: integer(config, "nEmbd"), dropout: 0, bias: false },
    { seed: 1337 + context.seed },
  );
  try {
    const trainer = new Trainer(
      model,
      { train: data.train, val: data.val },
      {
        maxIters,
        batchSize,
        learningRate: typeof config.lr === "number" ? config.lr : 1e-3,
        minLr: (typeof config.lr === "number" ? config.lr : 1e-3) / 10,
        warmupIters: Math.max(1, Math.floor(maxIters / 10)),
        lrDecayIters: maxIters,
        evalInterval: Math.max(1, Math.floor(maxIters / evals)),
        evalIters: integer(config, "evalIters", 20),
        weightDecay: 0.1,
        seed: context.seed,
        outDir: null,
        logInterval: maxIters + 1,
      },
      [{ onEval: (info) => context.progress(info.iter, info.val) }],
    );
    const result = await trainer.run().finally(() => trainer.dispose());
    const last = result.evals[result.evals.length - 1];
    const counts = countGPTParams(model.config);
    const tokens = maxIters * batchSize * blockSize;
    return {
      params: counts.nanogpt,
      nonEmbeddingParams: counts.nonEmbedding,
      tokens,
      flops: 6 * counts.nanogpt * tokens,
      flopsExact: chinchillaFlops(gptShape(model.config), tokens),
      finalLoss: last.val,
      bestLoss: Math.min(...result.evals.map((e) => e.val)),
      curve: result.evals.map((e) => ({ step: e.iter, loss: e.val })),
      backend: tf.getBackend(),
      extra: { trainLoss: last.train },
    };
  } finally {
    model.dispose();
  }
}
