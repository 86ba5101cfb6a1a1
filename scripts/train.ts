/**
 * `npm run train -- --preset shakespeare-char-cpu [--key value ...]`: nanoGPT's train.py for this repo.
 *
 * Trains a GPT, estimating train/val loss every evalInterval steps and checkpointing to
 * out/<preset>/ckpt.safetensors; samples from the model at the end.
 *   --preset shakespeare-char | shakespeare-char-cpu | gpt2-shakespeare   (default shakespeare-char-cpu)
 *   --max_iters=20, --n-layer 2, --learningRate 3e-4 … any model or training setting (--help lists them)
 *   --backend cpu|wasm|webgpu|tensorflow|auto         (default: COURSE_BACKEND, else auto)
 *   --out DIR                                          checkpoint folder (outDir)
 *   --resume                                           continue DIR/ckpt.safetensors exactly
 *   --dataset NAME|FILE --tokenizer char|gpt2          the text and how it becomes tokens; gpt2 reads the
 *   --data_dir DIR                                     shards of npm run prepare (prepared here on first use)
 *   --init_from gpt2|gpt2-medium|…                     fine-tune OpenAI's weights (cropped to --block_size)
 *   --total_batch_tokens N                             tokens per step, by gradient accumulation
 *   --peak_flops F                                     the device's peak FLOP/s for the MFU in the log
 *   --sample_interval N, --sample_tokens N             samples while training, and tokens at the end
 *   --hellaswag N                                      score the first N HellaSwag validation examples at the end
 *                                                      (e.g. --init_from gpt2 --max_iters 0 --hellaswag 10042: GPT-2's acc_norm)
 * Ctrl-C or SIGTERM stops after the current step and saves a checkpoint (exit 130 / 143); a second
 * one quits at once.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describeEngine, shutdownEngine, useBackend, type BackendChoice } from "../lib/engine/index.js";
import { nativeThreads } from "../lib/native/index.js";
import { DATASETS, ShardLoader, defaultShardsDir, loadText, prepareShards } from "../lib/data/index.js";
import { GPT, buildGPT, gptConfig, gptWeights, type GPTConfig } from "../lib/models/gpt/index.js";
import { evaluateHellaSwag, formatHellaSwag, loadHellaSwag } from "../lib/evals/index.js";
import { generate } from "../lib/sample/index.js";
import { CharTokenizer, loadTiktokenEncoding, saveTiktokenReference } from "../lib/tokenizers/index.js";
import {
  MODEL_SETTINGS, PRESETS, TRAIN_DEFAULTS, Trainer, checkFitsBlock, formatHelp, isBatchStream, paddedDecoder, parseFlags, peakFlopsFor, periodicSamples,
  terminalProgress, trainConfig, trainFlags, withAccumulation, type TokenSource, type TrainConfig, type TrainerCallbacks,
} from "../lib/train/index.js";
import { UsageError, onStopSignal, runCli } from "../lib/util/cli.js";

const USAGE = "npm run train -- [--preset NAME] [--setting value ...]   (nanoGPT's train.py; Ctrl-C saves a checkpoint)";

interface Corpus {
  data: { train: TokenSource; val: TokenSource };
  vocabSize: number;
  encode(text: string): number[];
  decode(ids: number[]): string;
  /** The prompt of samples: a newline (characters) or the end-of-text token (GPT-2). */
  prompt: number[];
  /** Write <prefix>.model for npm run sample (a tiktoken reference for GPT-2 tokens). */
  save(prefix: string): void;
}

runCli(async () => {
  const argv = process.argv.slice(2);
  const { values: args, given, help } = parseFlags(argv, trainFlags(PRESETS["shakespeare-char-cpu"], "shakespeare-char-cpu"));
  const presetName = String(args.preset);
  const preset = PRESETS[presetName];
  if (help) {
    console.log(formatHelp(USAGE, trainFlags(preset, presetName)));
    return;
  }
  // Defaults of the preset actually chosen (the first parse used shakespeare-char-cpu's for --help's sake).
  const dataset = given.has("dataset") ? String(args.dataset) : preset.dataset;
  const initFrom = String(args.initFrom);
  const pretrained = initFrom.startsWith("gpt2") ? initFrom : null;
  const tokenizerKind = pretrained ? "gpt2" : given.has("tokenizer") ? String(args.tokenizer) : (preset.tokenizer ?? "char");
  if (pretrained && given.has("tokenizer") && args.tokenizer !== "gpt2") throw new UsageError(`--init_from ${pretrained} needs --tokenizer gpt2 (its vocabulary)`);
  if (given.has("dataDir") && tokenizerKind !== "gpt2") throw new UsageError("--data_dir holds GPT-2 shards: use it with --tokenizer gpt2");
  if (!Object.prototype.hasOwnProperty.call(DATASETS, dataset) && !existsSync(dataset)) {
    throw new UsageError(`--dataset ${dataset}: neither a dataset name (${Object.keys(DATASETS).join(", ")}) nor an existing text file`);
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
  const resume = args.resume === true || initFrom === "resume";
  const checkpointPath = join(outDir, "ckpt.safetensors");
  if (resume && !existsSync(checkpointPath)) throw new UsageError(`--resume: no checkpoint at ${checkpointPath} (train without --resume first, or pass --out)`);
  const modelSettings = { ...preset.model, ...modelOverrides };
  // Settings that only make sense together (n_embd divisible by n_head, lr_decay_iters > warmup_iters,
  // total_batch_tokens a multiple of batch_size × block_size) are checked by the library's config
  // functions: run them now, before any loading.
  asUsageError(() => {
    const checked = trainConfig({ ...trainSettings, outDir });
    if (!resume) {
      gptConfig({ ...modelSettings, vocabSize: modelSettings.vocabSize ?? 1 }); // the real vocabulary comes with the data
      withAccumulation(checked, modelSettings.blockSize, trainSettings.gradientAccumulationSteps);
    }
  });

  const engine = await useBackend(args.backend as BackendChoice | undefined);
  console.log(`backend: ${describeEngine()}`);
  for (const note of engine.notes) console.log(`  ${note}`);
  if (engine.native) console.log(`native kernels: ${nativeThreads()} threads (COURSE_NATIVE_THREADS to change)`);

  let trainer: Trainer | undefined;
  const stop = onStopSignal(() => trainer?.stop(), "stopping after this step and saving a checkpoint");
  const stopped = () => stop.signal !== null;
  const corpus = tokenizerKind === "gpt2" ? await gpt2Corpus(dataset, args.dataDir as string | undefined, stopped) : await charCorpus(dataset, preset.trainFraction);
  if (!corpus) return stop.exitCode;
  const peakFlops = (args.peakFlops as number | undefined) ?? peakFlopsFor(describeEngine());
  const callbacks: TrainerCallbacks[] = [terminalProgress({ throughput: { peakFlops } })];
  const sampleInterval = Number(given.has("sampleInterval") ? args.sampleInterval : (preset.sampleInterval ?? 0));
  if (sampleInterval > 0) callbacks.push(periodicSamples({ every: sampleInterval, decode: corpus.decode, prompt: corpus.prompt, seed: 42 }));
  if (resume) {
    if (Object.keys(modelOverrides).length > 0) console.warn(`--resume: ignoring model settings (${Object.keys(modelOverrides).join(", ")}), the checkpoint fixes them`);
    trainer = Trainer.fromCheckpoint(checkpointPath, corpus.data, { ...trainOverrides, outDir }, callbacks);
    checkSplits(corpus.data, trainer.config.batchSize, trainer.model.config.blockSize);
    console.log(`resuming from ${checkpointPath} at iter ${trainer.iter}`);
  } else {
    const vocabSize = modelSettings.vocabSize ?? corpus.vocabSize;
    if (vocabSize < corpus.vocabSize) throw new UsageError(`the model's vocabulary (${vocabSize}) is smaller than the tokenizer's (${corpus.vocabSize})`);
    checkSplits(corpus.data, trainSettings.batchSize ?? TRAIN_DEFAULTS.batchSize, modelSettings.blockSize); // before the model allocates blockSize positions
    const model = pretrained ? await fineTuneStart(pretrained, modelSettings.blockSize, corpus.vocabSize, modelOverrides.dropout) : new GPT({ ...modelSettings, vocabSize });
    trainer = new Trainer(model, corpus.data, { ...trainSettings, outDir }, callbacks);
  }
  mkdirSync(outDir, { recursive: true });
  corpus.save(join(outDir, "tokenizer"));
  const { config, model } = trainer;
  console.log(`number of parameters: ${(model.numParams() / 1e6).toFixed(2)}M (vocabulary ${model.config.vocabSize})`);
  console.log(
    `tokens per iteration: ${(config.gradientAccumulationSteps * config.batchSize * model.config.blockSize).toLocaleString()}` +
      ` (${config.gradientAccumulationSteps} × ${config.batchSize} × ${model.config.blockSize}), ${config.maxIters} iterations`,
  );
  console.log(peakFlops ? `MFU against a peak of ${(peakFlops / 1e12).toPrecision(3)} TFLOP/s` : "MFU n/a: peak FLOP/s unknown for this device (pass --peak_flops)");

  const result = await trainer.run();
  if (result.checkpoint) console.log(`checkpoint: ${result.checkpoint}`);
  if (result.interrupted) return stop.exitCode || 130;

  const sampleTokens = Number(args.sampleTokens);
  if (sampleTokens > 0) {
    console.log("---------------- sample ----------------");
    await generate(model, corpus.prompt, {
      maxNewTokens: sampleTokens,
      temperature: 0.8,
      topK: 200,
      seed: config.seed,
      onToken: (id) => (process.stdout.write(corpus.decode([id])), stop.signal === null),
    });
    process.stdout.write("\n");
  }
  const hellaswag = Number(args.hellaswag);
  if (hellaswag > 0 && !stopped()) {
    if (tokenizerKind !== "gpt2") throw new UsageError("--hellaswag scores GPT-2 tokens: use it with --tokenizer gpt2");
    const examples = await loadHellaSwag();
    const result = await evaluateHellaSwag(model, examples, corpus.encode, {
      limit: hellaswag,
      shouldStop: stopped,
      onExample: (done, r) => done % 100 === 0 && process.stderr.write(`\rHellaSwag ${done}/${Math.min(hellaswag, examples.length)}: acc_norm ${r.accNorm.toFixed(4)}`),
    });
    process.stderr.write("\n");
    console.log(formatHellaSwag(result));
  }
  await shutdownEngine();
  return stop.exitCode;
});

/** Characters of the text, split into the first trainFraction for training and the rest for validation. */
async function charCorpus(dataset: string, trainFraction: number): Promise<Corpus> {
  const text = Object.prototype.hasOwnProperty.call(DATASETS, dataset) ? await loadText(dataset) : readFileSync(dataset, "utf8");
  const tokenizer = CharTokenizer.fromText(text);
  const ids = Uint16Array.from(tokenizer.encode(text));
  const split = Math.floor(ids.length * trainFraction);
  console.log(`${dataset}: ${ids.length.toLocaleString()} characters, vocabulary of ${tokenizer.vocabSize}`);
  return {
    data: { train: ids.subarray(0, split), val: ids.subarray(split) },
    vocabSize: tokenizer.vocabSize,
    encode: (text) => tokenizer.encode(text),
    decode: (ids) => tokenizer.decode(ids),
    prompt: tokenizer.encode("\n"),
    save: (prefix) => tokenizer.save(prefix),
  };
}

/** GPT-2 tokens from the shards in dataDir (the default folder is prepared now when it has none). */
async function gpt2Corpus(dataset: string, dataDir: string | undefined, shouldStop: () => boolean): Promise<Corpus | null> {
  const dir = dataDir ?? defaultShardsDir(dataset);
  // The default folder is prepared on first use; a --data_dir given must already hold shards.
  if (dataDir === undefined && !existsSync(join(dir, "meta.json"))) {
    console.log(`${dir}: no shards yet, preparing them (npm run prepare -- --dataset ${dataset} --tokenizer gpt2 --out ${dir})`);
    if (!(await prepareShards({ dataset, out: dir, shouldStop }))) {
      console.error(`stopped while preparing ${dir}: no meta.json written, the next run prepares it again`);
      return null;
    }
  }
  const train = ShardLoader.open(dir, "train");
  const val = ShardLoader.open(dir, "val");
  if (train.meta.tokenizer !== "gpt2") throw new UsageError(`${dir} holds ${train.meta.tokenizer} tokens, not gpt2`);
  const tokenizer = await loadTiktokenEncoding("gpt2");
  console.log(`${train.meta.dataset} (${dir}): ${train.totalTokens.toLocaleString()} train and ${val.totalTokens.toLocaleString()} val GPT-2 tokens`);
  return {
    data: { train, val },
    vocabSize: tokenizer.vocabSize,
    encode: (text) => tokenizer.encode(text),
    decode: paddedDecoder((ids) => tokenizer.decode(ids), tokenizer.vocabSize),
    prompt: [train.meta.eot],
    save: (prefix) => saveTiktokenReference(prefix, "gpt2"), // npm run sample rebuilds the encoding from its name
  };
}

/**
 * OpenAI's weights through the GPT-2 loader (GPT.fromPretrained: the Hugging Face cache, else a
 * download), with the position table cropped to blockSize when that is shorter (nanoGPT's
 * crop_block_size: fine-tuning at a shorter context). --dropout, when given, replaces GPT-2's 0.
 */
async function fineTuneStart(name: string, blockSize: number, vocabSize: number, dropout: number | undefined): Promise<GPT> {
  const model = await GPT.fromPretrained(name, dropout === undefined ? {} : { dropout });
  if (model.config.vocabSize < vocabSize) throw new Error(`--init_from ${name}: its vocabulary (${model.config.vocabSize}) is smaller than GPT-2's tokenizer (${vocabSize})`);
  if (blockSize >= model.config.blockSize) return model;
  const stored = await gptWeights(model);
  const weights: Record<string, Float32Array> = {};
  for (const [key, t] of Object.entries(stored)) weights[key] = t.data as Float32Array;
  const { nEmbd } = model.config;
  weights["transformer.wpe.weight"] = weights["transformer.wpe.weight"].slice(0, blockSize * nEmbd);
  model.dispose();
  console.log(`${name}: position embeddings cropped to block_size ${blockSize}`);
  return buildGPT({ ...model.config, blockSize }, weights);
}

/** Both splits must hold a batch (a window of block_size + 1 tokens for arrays; batch_size × block_size + 1 per shard for streams). */
function checkSplits(data: { train: TokenSource; val: TokenSource }, batchSize: number, blockSize: number): void {
  asUsageError(() => {
    for (const [what, split] of [["the validation split", data.val], ["the training split", data.train]] as const) {
      if (isBatchStream(split)) split.checkFits(batchSize, blockSize);
      else checkFitsBlock(split, blockSize, what);
    }
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

