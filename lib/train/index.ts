/**
 * Training, as nanoGPT's train.py.
 *
 *   const trainer = new Trainer(model, { train, val }, { maxIters: 2000, learningRate: 1e-3, ... }, [terminalProgress()]);
 *   const result = await trainer.run();        // { iter, interrupted, losses: StepInfo[], evals, checkpoint }
 *   const again = Trainer.fromCheckpoint("out/x/ckpt.safetensors", { train, val }, { maxIters: 4000 });
 *
 * Trainer(model, data, config?, callbacks?): .run(), .step(), .evaluate(), await .saveCheckpoint(path?),
 *   .stop(), .dispose(), .iter, .evals, .bestValLoss, .optimizer, .rng, .config; static fromCheckpoint(path, data, overrides?, callbacks?)
 * TrainerCallbacks { onStart, onStep(StepInfo), onEval(EvalInfo), onCheckpoint, onEnd }
 *   terminalProgress({ stream?, logInterval? })  progress bar on stderr
 *   lossChart(target: { plot(fig) }, { everyMs? })  live plotly chart, e.g. lossChart(liveDisplay())
 *   trainingProgress()  the chart in a notebook, the bar in a terminal
 * NonFiniteLossError { iter, quantity, value }: a non-finite loss, gradient norm, estimate or weight; nothing is saved
 * TrainConfig, TRAIN_DEFAULTS, trainConfig(partial) (checks every field; warm-up and decay follow maxIters unless given),
 *   scheduleWarnings(config); PRESETS["shakespeare-char" | "shakespeare-char-cpu"]: TrainPreset
 * Pieces: getBatch(data, blockSize, batchSize, rng) → { x, y }; estimateLoss(model, data, { batchSize, iters, rng, shouldStop? });
 *   estimateLosses(model, { train, val }, { batchSize, iters, seed, shouldStop? }) (EvaluationStopped when shouldStop()); lossAndGrads(model, x, y, { training?, rng?, lossScale? });
 *   AdamW(params, config?, decays?) with .step(grads, { learningRate?, gradScale? }), .getState(), .setState();
 *   learningRateAt(iter, schedule); globalNorm(grads) → Scalar; clipScale(norm, maxNorm); clipGradNorm(grads, maxNorm) → { grads, norm: Scalar };
 *   saveCheckpoint(path, model, state) (async); loadCheckpoint(path) → { model, state }.
 * Everything reads tensors asynchronously, so it all runs on WebGPU under Node too.
 *   checkFitsBlock(data, blockSize, what): throws unless data holds a window of blockSize + 1 tokens.
 * Streams and GPT-2-style runs: TrainData splits may be BatchStreams (lib/data's ShardLoader: consecutive windows, position
 *   saved in checkpoints; isBatchStream, nextBatch(source, blockSize, batchSize, rng)); TrainConfig.totalBatchTokens derives
 *   gradientAccumulationSteps (accumulationSteps(total, B, T), withAccumulation(config, blockSize)); StepInfo.tokens and
 *   .tokensPerSecond; flopsPerToken(config, numParams), mfu(), peakFlopsFor(description), formatMfu() (nanoGPT's estimate_mfu);
 *   terminalProgress({ throughput: { peakFlops } }); periodicSamples({ every, decode, prompt }), paddedDecoder(decode, vocabSize) (callbacks may return promises,
 *   which the trainer awaits); paddedVocabSize(50257) = 50304; PRESETS["gpt2-shakespeare"].
 * Command lines: parseFlags(argv, schema) → { values, given, positionals, help } checks each --key=value against a
 *   FlagSchema (type, range, choices; UsageError naming the flag, "did you mean" for typos); formatHelp(usage, schema);
 *   trainFlags(preset, name) is npm run train's schema; parseArgs(argv) → { camelCaseKey: value } untyped; camelCase(key).
 */
export * from "./batch.js";
export * from "./schedule.js";
export * from "./clip.js";
export * from "./adamw.js";
export * from "./gradients.js";
export * from "./evaluate.js";
export * from "./config.js";
export * from "./presets.js";
export * from "./checkpoint.js";
export * from "./trainer.js";
export * from "./progress.js";
export * from "./args.js";
export * from "./flags.js";
export * from "./mfu.js";
export * from "./sampling.js";
