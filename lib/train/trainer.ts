/**
 * The training loop of nanoGPT's train.py: random batches, AdamW with a warm-up + cosine schedule,
 * gradient accumulation and clipping, periodic train/val loss estimates, checkpoints, resume.
 * Batches and dropout draw from one seeded Rng (saved in checkpoints); loss estimates use their
 * own fixed seeds, so evaluating never changes the training run.
 * As build-nanogpt, the data may instead be BatchStreams (token shards read in order, their
 * position saved in checkpoints) and the batch a total in tokens (totalBatchTokens).
 */
import * as tf from "@tensorflow/tfjs-core";
import { join } from "node:path";
import type { GPT } from "../models/gpt/index.js";
import { Rng } from "../util/random.js";
import { AdamW } from "./adamw.js";
import { isBatchStream, nextBatch, type TokenSource } from "./batch.js";
import { loadCheckpoint, saveCheckpoint, type EvalRecord } from "./checkpoint.js";
import { clipScale, globalNorm, type Gradients } from "./clip.js";
import { scheduleWarnings, trainConfig, withAccumulation, type TrainConfig } from "./config.js";
import { NonFiniteLossError } from "./errors.js";
import { EvaluationStopped, estimateLosses } from "./evaluate.js";
import { lossAndGrads } from "./gradients.js";
import { learningRateAt } from "./schedule.js";

export { NonFiniteLossError } from "./errors.js";

export interface StepInfo {
  /** The iteration just completed (0-based). */
  iter: number;
  /** Training loss of this step (mean over its micro-batches). */
  loss: number;
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Wall time of the step in milliseconds. */
  ms: number;
  /** Tokens the step trained on: gradientAccumulationSteps × batchSize × blockSize. */
  tokens: number;
  /** tokens / (ms / 1000). */
  tokensPerSecond: number;
}

export type EvalInfo = EvalRecord;

/** Each may return a promise (e.g. to sample from the model), which the trainer awaits before going on. */
export interface TrainerCallbacks {
  onStart?(info: { trainer: Trainer; startIter: number; maxIters: number }): void;
  onStep?(info: StepInfo): void;
  onEval?(info: EvalInfo): void;
  onCheckpoint?(info: { iter: number; path: string }): void;
  onEnd?(info: { iter: number; interrupted: boolean }): void;
}

export interface TrainResult {
  /** The next iteration to run (maxIters unless interrupted). */
  iter: number;
  interrupted: boolean;
  /** Training loss of every step this run took. */
  losses: StepInfo[];
  /** Every loss estimate, including earlier runs' when resumed. */
  evals: EvalInfo[];
  /** Path of the last checkpoint written, if any. */
  checkpoint: string | null;
}

/**
 * Token arrays (random windows, as nanoGPT) or BatchStreams such as lib/data's ShardLoader
 * (consecutive windows, as build-nanogpt); a stream's position is saved in checkpoints.
 */
export interface TrainData {
  train: TokenSource;
  val: TokenSource;
}

export class Trainer {
  readonly config: TrainConfig;
  readonly optimizer: AdamW;
  /** Draws the batches and the dropout seeds. */
  readonly rng: Rng;
  /** The next iteration to run. */
  iter = 0;
  bestValLoss = Infinity;
  readonly evals: EvalInfo[] = [];
  private stopRequested = false;

  constructor(
    readonly model: GPT,
    readonly data: TrainData,
    config: Partial<TrainConfig> = {},
    readonly callbacks: TrainerCallbacks[] = [],
  ) {
    this.config = withAccumulation(trainConfig(config), model.config.blockSize, config.gradientAccumulationSteps);
    for (const warning of scheduleWarnings(this.config)) console.warn(warning);
    const { learningRate, beta1, beta2, weightDecay, seed } = this.config;
    this.optimizer = new AdamW(model.params, { learningRate, beta1, beta2, weightDecay });
    this.rng = new Rng(seed);
  }

  /** A trainer that continues a checkpoint exactly; `overrides` may change e.g. maxIters or outDir. */
  static fromCheckpoint(
    path: string,
    data: TrainData,
    overrides: Partial<TrainConfig> = {},
    callbacks: TrainerCallbacks[] = [],
  ): Trainer {
    const { model, state } = loadCheckpoint(path);
    const settings: Partial<TrainConfig> = { ...state.trainConfig, ...overrides };
    // With a token total, the steps follow from it (and from a batch size the overrides may change).
    if (settings.totalBatchTokens != null && overrides.gradientAccumulationSteps === undefined) delete settings.gradientAccumulationSteps;
    const trainer = new Trainer(model, data, settings, callbacks);
    trainer.optimizer.setState(state.optimizer);
    trainer.rng.setState(state.rng);
    trainer.iter = state.iter;
    trainer.bestValLoss = state.bestValLoss;
    trainer.evals.push(...state.evals);
    if (state.dataPosition && isBatchStream(data.train)) data.train.seek(state.dataPosition);
    return trainer;
  }

  /**
   * Ask run() to stop at the next step boundary, or between the batches of an evaluation (which is
   * then not recorded); it saves the checkpoint of the last completed step. Safe to call from a signal handler.
   */
  stop(): void {
    this.stopRequested = true;
  }

  /** Train from this.iter to config.maxIters, evaluating and checkpointing along the way. */
  async run(): Promise<TrainResult> {
    const { maxIters, evalInterval, outDir, alwaysSaveCheckpoint } = this.config;
    const losses: StepInfo[] = [];
    let checkpoint: string | null = null;
    this.stopRequested = false;
    await this.emit("onStart", { trainer: this, startIter: this.iter, maxIters });
    // A resumed run was already evaluated (and saved) at its first iteration.
    const evaluatedNow = () => this.evals.length > 0 && this.evals[this.evals.length - 1].iter === this.iter;
    const evaluateAndSave = async () => {
      const result = await this.evaluate().catch((error: unknown) => {
        if (error instanceof EvaluationStopped) return undefined; // stop() was called: not an evaluation
        throw error;
      });
      if (!result) return;
      const improved = result.val < this.bestValLoss;
      this.bestValLoss = Math.min(this.bestValLoss, result.val); // evaluate() never returns NaN
      if (outDir && this.iter > 0 && (alwaysSaveCheckpoint || improved || this.iter === maxIters)) {
        checkpoint = await this.saveCheckpoint();
      }
    };
    while (this.iter < maxIters && !this.stopRequested) {
      if (this.iter % evalInterval === 0 && !evaluatedNow()) await evaluateAndSave();
      if (this.stopRequested) break;
      losses.push(await this.step());
      await new Promise((resolve) => setImmediate(resolve)); // let Ctrl-C handlers and displays run
    }
    if (!this.stopRequested && !evaluatedNow()) await evaluateAndSave();
    // Stopped before the end, or during (or just before) the final evaluation.
    const interrupted = this.stopRequested;
    if (interrupted && outDir) checkpoint = await this.saveCheckpoint();
    await this.emit("onEnd", { iter: this.iter, interrupted });
    return { iter: this.iter, interrupted, losses, evals: this.evals.slice(), checkpoint };
  }

  /** One optimizer step: accumulate gradients over micro-batches, clip, update. */
  async step(): Promise<StepInfo> {
    const { batchSize, gradientAccumulationSteps: microSteps, gradClip } = this.config;
    const started = performance.now();
    const iter = this.iter;
    const lr = learningRateAt(iter, this.config);
    let grads: Gradients = {};
    let loss: tf.Scalar = tf.scalar(0);
    for (let micro = 0; micro < microSteps; micro++) {
      const { x, y } = nextBatch(this.data.train, this.model.config.blockSize, batchSize, this.rng);
      const result = lossAndGrads(this.model, x, y, { training: true, rng: this.rng, lossScale: 1 / microSteps });
      tf.dispose([x, y]);
      grads = micro === 0 ? result.grads : addInto(grads, result.grads);
      const total = tf.add(loss, result.loss) as tf.Scalar;
      tf.dispose([loss, result.loss]);
      loss = total;
    }
    const norm = globalNorm(grads);
    const both = tf.stack([loss, norm]);
    const [lossValue, gradNorm] = await both.data();
    tf.dispose([both, norm, loss]);
    if (!Number.isFinite(lossValue) || !Number.isFinite(gradNorm)) {
      tf.dispose(Object.values(grads));
      const bad = Number.isFinite(lossValue) ? (["gradient norm", gradNorm] as const) : (["loss", lossValue] as const);
      throw new NonFiniteLossError(iter, bad[0], bad[1]);
    }
    const gradScale = gradClip > 0 ? clipScale(gradNorm, gradClip) : 1;
    this.optimizer.step(grads, { learningRate: lr, gradScale });
    tf.dispose(Object.values(grads));
    this.iter += 1;
    const ms = performance.now() - started;
    const tokens = microSteps * batchSize * this.model.config.blockSize;
    const info: StepInfo = { iter, loss: lossValue, lr, gradNorm, ms, tokens, tokensPerSecond: tokens / (ms / 1000) };
    await this.emit("onStep", info);
    return info;
  }

  /**
   * Train and val loss (means over evalIters batches) at the current iteration. A non-finite
   * estimate throws NonFiniteLossError; stop() during it throws EvaluationStopped; neither is recorded.
   */
  async evaluate(): Promise<EvalInfo> {
    const { batchSize, evalIters, seed } = this.config;
    const shouldStop = () => this.stopRequested;
    const losses = await estimateLosses(this.model, this.data, { batchSize, iters: evalIters, seed: seed + 1, shouldStop });
    if (!Number.isFinite(losses.train)) throw new NonFiniteLossError(this.iter, "train loss estimate", losses.train);
    if (!Number.isFinite(losses.val)) throw new NonFiniteLossError(this.iter, "val loss estimate", losses.val);
    const info: EvalInfo = { iter: this.iter, ...losses };
    this.evals.push(info);
    await this.emit("onEval", info);
    return info;
  }

  /** Write outDir/ckpt.safetensors (or `path`) atomically; returns its path. Non-finite weights: NonFiniteLossError, nothing written. */
  async saveCheckpoint(path?: string): Promise<string> {
    const target = path ?? join(this.config.outDir ?? ".", "ckpt.safetensors");
    await saveCheckpoint(target, this.model, {
      trainConfig: this.config,
      iter: this.iter,
      optimizer: await this.optimizer.getState(),
      rng: this.rng.getState(),
      bestValLoss: this.bestValLoss,
      evals: this.evals,
      dataPosition: isBatchStream(this.data.train) ? this.data.train.position : null,
    });
    await this.emit("onCheckpoint", { iter: this.iter, path: target });
    return target;
  }

  /** Free the optimizer's state (the model is the caller's). */
  dispose(): void {
    this.optimizer.dispose();
  }

  private async emit<K extends keyof TrainerCallbacks>(event: K, info: Parameters<NonNullable<TrainerCallbacks[K]>>[0]): Promise<void> {
    for (const callbacks of this.callbacks) {
      const result: unknown = (callbacks[event] as ((i: typeof info) => unknown) | undefined)?.(info);
      if (result instanceof Promise) await result;
    }
  }
}

function addInto(total: Gradients, more: Gradients): Gradients {
  const sum: Gradients = {};
  for (const [name, g] of Object.entries(more)) {
    sum[name] = tf.add(total[name], g);
    tf.dispose([total[name], g]);
  }
  return sum;
}
