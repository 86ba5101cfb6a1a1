/**
 * `npm run train -- --preset shakespeare-char-cpu [--key value ...]`: nanoGPT's train.py for this repo.
 *
 * Trains a character-level GPT on tinyshakespeare, estimating train/val loss every evalInterval
 * steps and checkpointing to out/<preset>/ckpt.safetensors; samples from the model at the end.
 *   --preset shakespeare-char | shakespeare-char-cpu   (default shakespeare-char-cpu)
 *   --max_iters=20, --n-layer 2, --learningRate 3e-4 … any model or training setting (--help lists them)
 *   --backend cpu|wasm|webgpu|tensorflow|auto         (default: COURSE_BACKEND, else auto)
 *   --out DIR                                          checkpoint folder (outDir)
 *   --resume                                           continue DIR/ckpt.safetensors exactly
 *   --sample_tokens N                                  tokens to sample at the end (default 500; 0: none)
 * Ctrl-C or SIGTERM stops after the current step and saves a checkpoint (exit 130 / 143); a second
 * one quits at once.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { describeEngine, shutdownEngine, useBackend, type BackendChoice } from "../lib/engine/index.js";
import { loadText } from "../lib/data/index.js";
import { GPT, gptConfig, type GPTConfig } from "../lib/models/gpt/index.js";
import { generate } from "../lib/sample/index.js";
import { CharTokenizer } from "../lib/tokenizers/index.js";
import {
  MODEL_SETTINGS, PRESETS, TRAIN_DEFAULTS, Trainer, checkFitsBlock, formatHelp, parseFlags, terminalProgress, trainConfig, trainFlags,
  type TokenArray, type TrainConfig,
} from "../lib/train/index.js";
import { UsageError, onStopSignal, runCli } from "../lib/util/cli.js";

const USAGE = "npm run train -- [--preset NAME] [--setting value ...]   (nanoGPT's train.py; Ctrl-C saves a checkpoint)";

runCli(async () => {
  const argv = process.argv.slice(2);
  const { values: args, given, help } = parseFlags(argv, trainFlags(PRESETS["shakespeare-char-cpu"], "shakespeare-char-cpu"));
  const presetName = String(args.preset);
  const preset = PRESETS[presetName];
  if (help) {
    console.log(formatHelp(USAGE, trainFlags(preset, presetName)));
    return;
  }

  const modelOverrides: Partial<GPTConfig> = {};
  const trainOverrides: Record<string, unknown> = {};
  for (const key of given) {
    if ((MODEL_SETTINGS as readonly string[]).includes(key)) (modelOverrides as Record<string, unknown>)[key] = args[key];
    else if (key in TRAIN_DEFAULTS) trainOverrides[key] = args[key];
  }
  if (args.out !== undefined) trainOverrides.outDir = args.out;
  const trainSettings = { ...preset.train, ...trainOverrides } as Partial<TrainConfig>;
  const outDir = trainSettings.outDir ?? `out/${presetName}`;
  const resume = args.resume === true || args.initFrom === "resume";
  const checkpointPath = join(outDir, "ckpt.safetensors");
  if (resume && !existsSync(checkpointPath)) throw new UsageError(`--resume: no checkpoint at ${checkpointPath} (train without --resume first, or pass --out)`);
  // Settings that only make sense together (n_embd divisible by n_head, lr_decay_iters > warmup_iters)
  // are checked by the library's config functions: run them now, before any loading.
  asUsageError(() => {
    trainConfig({ ...trainSettings, outDir });
    if (!resume) gptConfig({ ...preset.model, ...modelOverrides, vocabSize: 1 }); // the real vocabulary comes with the data
  });

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
  if (resume) {
    if (Object.keys(modelOverrides).length > 0) console.warn(`--resume: ignoring model settings (${Object.keys(modelOverrides).join(", ")}), the checkpoint fixes them`);
    trainer = Trainer.fromCheckpoint(checkpointPath, data, { ...trainOverrides, outDir }, [progress]);
    checkSplits(data, trainer.model.config.blockSize);
    console.log(`resuming from ${checkpointPath} at iter ${trainer.iter}`);
  } else {
    const modelConfig = { ...preset.model, ...modelOverrides, vocabSize: tokenizer.vocabSize };
    checkSplits(data, modelConfig.blockSize); // before the model allocates blockSize positions
    trainer = new Trainer(new GPT(modelConfig), data, { ...trainSettings, outDir }, [progress]);
  }
  mkdirSync(outDir, { recursive: true });
  tokenizer.save(join(outDir, "tokenizer"));
  const { config, model } = trainer;
  console.log(`number of parameters: ${(model.numParams() / 1e6).toFixed(2)}M`);
  console.log(
    `tokens per iteration: ${(config.gradientAccumulationSteps * config.batchSize * model.config.blockSize).toLocaleString()}` +
      ` (${config.gradientAccumulationSteps} × ${config.batchSize} × ${model.config.blockSize}), ${config.maxIters} iterations`,
  );

  const stop = onStopSignal(() => trainer.stop(), "stopping after this step and saving a checkpoint");
  const result = await trainer.run();
  if (result.checkpoint) console.log(`checkpoint: ${result.checkpoint}`);
  if (result.interrupted) return stop.exitCode || 130;

  const sampleTokens = Number(args.sampleTokens);
  if (sampleTokens > 0) {
    console.log("---------------- sample ----------------");
    await generate(model, tokenizer.encode("\n"), {
      maxNewTokens: sampleTokens,
      temperature: 0.8,
      topK: 200,
      seed: config.seed,
      onToken: (id) => (process.stdout.write(tokenizer.decode([id])), stop.signal === null),
    });
    process.stdout.write("\n");
  }
  await shutdownEngine();
  return stop.exitCode;
});

/** Both splits must hold a window of block_size + 1 tokens. */
function checkSplits(data: { train: TokenArray; val: TokenArray }, blockSize: number): void {
  asUsageError(() => {
    checkFitsBlock(data.val, blockSize, "the validation split"); // the smaller one
    checkFitsBlock(data.train, blockSize, "the training split");
  });
}

/** A RangeError from checking settings is the user's input: report it as a usage error (exit 2). */
function asUsageError(check: () => void): void {
  try {
    check();
  } catch (error) {
    throw error instanceof RangeError ? new UsageError(error.message) : error;
  }
}
