/**
 * Train a small GPT on a toy task's rows with the library's Trainer, saving the checkpoint in
 * out/toy-models/<task>/<run>/ckpt.safetensors, <run> a hash of the model, the training settings
 * and the rows; a later call (or notebook run) that asks for the same run loads it instead of
 * training again. Runs that differ (the ci and full profiles, a changed setting) get folders of
 * their own, so neither overwrites nor reuses the other's model.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { GPT, gptConfig, type GPTConfig } from "../../models/gpt/index.js";
import { Trainer, loadCheckpoint, type TrainConfig, type TrainerCallbacks } from "../../train/index.js";
import { RowStream } from "./stream.js";

export interface ToyTrainOptions {
  /** The task's folder name under out/toy-models (letters, digits, "-" and "_"); each run gets a subfolder named by its hash. */
  task: string;
  train: readonly (readonly number[])[];
  test: readonly (readonly number[])[];
  /** The model's shape; blockSize comes from the rows (their length − 1). */
  model: Omit<Partial<GPTConfig>, "blockSize"> & { vocabSize: number };
  training?: Partial<TrainConfig>;
  callbacks?: TrainerCallbacks[];
  /** Parent folder (default "out/toy-models"). */
  root?: string;
  /** Train again even when a matching checkpoint exists. */
  retrain?: boolean;
}

export interface ToyModel {
  model: GPT;
  /** The checkpoint's path. */
  checkpoint: string;
  /** True when the checkpoint was reused rather than trained now. */
  reused: boolean;
  /** Train/val losses of the run that made the checkpoint. */
  evals: { iter: number; train: number; val: number }[];
}

export async function trainToyModel(options: ToyTrainOptions): Promise<ToyModel> {
  if (!/^[A-Za-z0-9_-]+$/.test(options.task)) throw new Error(`trainToyModel: task must be a folder name (letters, digits, - and _), got ${JSON.stringify(options.task)}`);
  const trainRows = new RowStream(options.train, 1);
  const testRows = new RowStream(options.test, 2);
  const config = gptConfig({ dropout: 0, bias: true, ...options.model, blockSize: trainRows.blockSize });
  const settings: Partial<TrainConfig> = { batchSize: 64, learningRate: 1e-3, weightDecay: 0.01, evalInterval: 100, evalIters: 4, ...options.training, alwaysSaveCheckpoint: false };
  delete settings.outDir; // chosen here, from the run
  const key = runKey(config, settings, options.train, options.test);
  const outDir = join(options.root ?? "out/toy-models", options.task, createHash("sha256").update(key).digest("hex").slice(0, 12));
  const training: Partial<TrainConfig> = { ...settings, outDir: outDir };
  const checkpoint = join(outDir, "ckpt.safetensors");
  const keyFile = join(outDir, "run.json");

  if (!options.retrain && existsSync(checkpoint) && existsSync(keyFile) && readFileSync(keyFile, "utf8") === key) {
    const { model, state } = loadCheckpoint(checkpoint);
    return { model, checkpoint, reused: true, evals: state.evals };
  }
  mkdirSync(outDir, { recursive: true });
  const model = new GPT(config, { seed: training.seed ?? 1337 });
  const trainer = new Trainer(model, { train: trainRows, val: testRows }, training, options.callbacks ?? []);
  try {
    const result = await trainer.run();
    // The best-val checkpoint may be older than the end: save the final weights, which are what is returned.
    await trainer.saveCheckpoint(checkpoint);
    if (!result.interrupted) writeFileSync(keyFile, key);
    return { model, checkpoint, reused: false, evals: result.evals };
  } finally {
    trainer.dispose();
  }
}

/** What makes two runs the same: model shape, training settings and the exact rows. */
function runKey(config: GPTConfig, training: Partial<TrainConfig>, train: readonly (readonly number[])[], test: readonly (readonly number[])[]): string {
  const data = createHash("sha256").update(JSON.stringify([train, test])).digest("hex");
  return JSON.stringify({ config, training, data }, null, 1);
}
