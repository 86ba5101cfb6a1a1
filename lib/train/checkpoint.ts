/**
 * A training checkpoint is one safetensors file, written atomically (temp file, then rename):
 *   tensors   the model's parameters (nanoGPT names, PyTorch shapes: PyTorch can load them directly),
 *             "optimizer.m.<name>" and "optimizer.v.<name>" (AdamW's moments)
 *   metadata  gpt_config, train_config (JSON), iter (the next iteration to run), optimizer_step,
 *             rng (the batch/dropout generator's state), best_val_loss, evals (history of estimates)
 * Everything a resumed run needs to continue the same loss curve exactly.
 */
import { loadSafetensors, saveSafetensors } from "../io/index.js";
import { GPT, gptWeights, setGPTWeights } from "../models/gpt/index.js";
import type { RngState } from "../util/random.js";
import type { AdamWState } from "./adamw.js";
import { trainConfig, type TrainConfig } from "./config.js";

export const CHECKPOINT_FORMAT = "gpt-from-scratch/checkpoint/1";

export interface EvalRecord {
  iter: number;
  train: number;
  val: number;
}

export interface CheckpointState {
  trainConfig: TrainConfig;
  /** The next iteration to run. */
  iter: number;
  optimizer: AdamWState;
  rng: RngState;
  bestValLoss: number;
  evals: EvalRecord[];
}

export async function saveCheckpoint(path: string, model: GPT, state: CheckpointState): Promise<void> {
  const tensors = await gptWeights(model);
  for (const [name, v] of Object.entries(model.params)) {
    tensors[`optimizer.m.${name}`] = { dtype: "F32", shape: v.shape.slice(), data: state.optimizer.m[name] };
    tensors[`optimizer.v.${name}`] = { dtype: "F32", shape: v.shape.slice(), data: state.optimizer.v[name] };
  }
  saveSafetensors(path, tensors, {
    format: CHECKPOINT_FORMAT,
    gpt_config: JSON.stringify(model.config),
    train_config: JSON.stringify(state.trainConfig),
    iter: String(state.iter),
    optimizer_step: String(state.optimizer.step),
    rng: JSON.stringify(state.rng),
    best_val_loss: String(state.bestValLoss), // "Infinity" before the first evaluation
    evals: JSON.stringify(state.evals),
  });
}

/** The model (with its weights) and the training state of a checkpoint. */
export function loadCheckpoint(path: string): { model: GPT; state: CheckpointState } {
  const { tensors, metadata } = loadSafetensors(path);
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new Error(`loadCheckpoint: ${path} is not a training checkpoint (format "${metadata.format ?? "none"}")`);
  }
  const model = new GPT(JSON.parse(metadata.gpt_config));
  setGPTWeights(model, tensors);
  const optimizer: AdamWState = { step: Number(metadata.optimizer_step), m: {}, v: {} };
  for (const name of Object.keys(model.params)) {
    optimizer.m[name] = tensors[`optimizer.m.${name}`].data as Float32Array;
    optimizer.v[name] = tensors[`optimizer.v.${name}`].data as Float32Array;
  }
  return {
    model,
    state: {
      trainConfig: trainConfig(JSON.parse(metadata.train_config)),
      iter: Number(metadata.iter),
      optimizer,
      rng: JSON.parse(metadata.rng),
      bestValLoss: Number(metadata.best_val_loss),
      evals: JSON.parse(metadata.evals),
    },
  };
}
