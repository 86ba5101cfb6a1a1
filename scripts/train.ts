/**
 * `npm run train -- --preset shakespeare-char-cpu [--key value ...]`: nanoGPT's train.py for this repo.
 *
 * Trains a character-level GPT on tinyshakespeare, estimating train/val loss every evalInterval
 * steps and checkpointing to out/<preset>/ckpt.safetensors; samples from the model at the end.
 *   --preset shakespeare-char | shakespeare-char-cpu   (default shakespeare-char-cpu)
 *   --max_iters=20, --n-layer 2, --learningRate 3e-4 … any model or training setting
 *   --backend cpu|wasm|webgpu|tensorflow|auto         (default: COURSE_BACKEND, else auto)
 *   --out DIR                                          checkpoint folder (outDir)
 *   --resume                                           continue DIR/ckpt.safetensors exactly
 *   --sample_tokens N                                  tokens to sample at the end (default 500; 0: none)
 * Ctrl-C stops after the current step and saves a checkpoint; press it twice to quit at once.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { describeEngine, shutdownEngine, useBackend, type BackendChoice } from "../lib/engine/index.js";
import { loadText } from "../lib/data/index.js";
import { GPT, type GPTConfig } from "../lib/models/gpt/index.js";
import { generate } from "../lib/sample/index.js";
import { CharTokenizer } from "../lib/tokenizers/index.js";
import { NonFiniteLossError, PRESETS, TRAIN_DEFAULTS, Trainer, parseArgs, terminalProgress, type TrainConfig } from "../lib/train/index.js";

const args = parseArgs(process.argv.slice(2));
const presetName = String(args.preset ?? "shakespeare-char-cpu");
const preset = PRESETS[presetName];
if (!preset) throw new Error(`unknown preset "${presetName}"; choose one of ${Object.keys(PRESETS).join(", ")}`);

const modelOverrides: Partial<GPTConfig> = {};
const trainOverrides: Record<string, unknown> = {};
const cliOnly = new Set(["preset", "backend", "out", "resume", "initFrom", "sampleTokens"]);
for (const [key, value] of Object.entries(args)) {
  if (cliOnly.has(key)) continue;
  if (key in preset.model) (modelOverrides as Record<string, unknown>)[key] = value;
  else if (key in TRAIN_DEFAULTS) trainOverrides[key] = value;
  else {
    const known = [...Object.keys(preset.model), ...Object.keys(TRAIN_DEFAULTS), ...cliOnly].join(", ");
    throw new Error(`unknown option --${key}; known: ${known}`);
  }
}
if (args.out !== undefined) trainOverrides.outDir = String(args.out);
const trainSettings = { ...preset.train, ...trainOverrides } as Partial<TrainConfig>;
const outDir = trainSettings.outDir ?? `out/${presetName}`;
const resume = args.resume === true || args.initFrom === "resume";

const engine = await useBackend(args.backend as BackendChoice | undefined);
console.log(`backend: ${describeEngine()}`);
for (const note of engine.notes) console.log(`  ${note}`);

const text = await loadText(preset.dataset);
const tokenizer = CharTokenizer.fromText(text);
const ids = Uint16Array.from(tokenizer.encode(text));
const split = Math.floor(ids.length * preset.trainFraction);
const data = { train: ids.subarray(0, split), val: ids.subarray(split) };
console.log(`${preset.dataset}: ${ids.length.toLocaleString()} characters, vocabulary of ${tokenizer.vocabSize}`);

const progress = terminalProgress();
let trainer: Trainer;
const checkpointPath = join(outDir, "ckpt.safetensors");
if (resume) {
  if (!existsSync(checkpointPath)) throw new Error(`--resume: no checkpoint at ${checkpointPath}`);
  if (Object.keys(modelOverrides).length > 0) console.warn(`--resume: ignoring model settings (${Object.keys(modelOverrides).join(", ")}), the checkpoint fixes them`);
  trainer = Trainer.fromCheckpoint(checkpointPath, data, { ...trainOverrides, outDir }, [progress]);
  console.log(`resuming from ${checkpointPath} at iter ${trainer.iter}`);
} else {
  const model = new GPT({ ...preset.model, ...modelOverrides, vocabSize: tokenizer.vocabSize });
  trainer = new Trainer(model, data, { ...trainSettings, outDir }, [progress]);
}
mkdirSync(outDir, { recursive: true });
tokenizer.save(join(outDir, "tokenizer"));
const { config } = trainer;
const model = trainer.model;
console.log(`number of parameters: ${(model.numParams() / 1e6).toFixed(2)}M`);
console.log(
  `tokens per iteration: ${(config.gradientAccumulationSteps * config.batchSize * model.config.blockSize).toLocaleString()}` +
    ` (${config.gradientAccumulationSteps} × ${config.batchSize} × ${model.config.blockSize}), ${config.maxIters} iterations`,
);

let interrupts = 0;
process.on("SIGINT", () => {
  if (++interrupts > 1) process.exit(130);
  console.error("\nstopping after this step and saving a checkpoint (Ctrl-C again to quit now)");
  trainer.stop();
});

try {
  const result = await trainer.run();
  if (result.checkpoint) console.log(`checkpoint: ${result.checkpoint}`);
  if (result.interrupted) process.exit(130);
} catch (error) {
  if (error instanceof NonFiniteLossError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

const sampleTokens = Number(args.sampleTokens ?? 500);
if (sampleTokens > 0) {
  console.log("---------------- sample ----------------");
  await generate(model, tokenizer.encode("\n"), {
    maxNewTokens: sampleTokens,
    temperature: 0.8,
    topK: 200,
    seed: config.seed,
    onToken: (id) => void process.stdout.write(tokenizer.decode([id])),
  });
  process.stdout.write("\n");
}
await shutdownEngine();
