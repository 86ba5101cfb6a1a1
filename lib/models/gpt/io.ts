/**
 * A GPT's weights as safetensors: the file holds nanoGPT's state_dict names and PyTorch's shapes
 * (Linear weights (out, in), no transposes), so PyTorch loads it with load_state_dict after tying
 * lm_head.weight to transformer.wte.weight (the tied head is stored once, as safetensors requires).
 * The model config is in the metadata under "gpt_config" (JSON).
 */
import * as tf from "@tensorflow/tfjs-core";
import { loadSafetensors, saveSafetensors, type StoredTensor } from "../../io/index.js";
import { GPT } from "./model.js";

/** The parameters' current values (read asynchronously: WebGPU under Node has no synchronous reads). */
export async function gptWeights(model: GPT): Promise<Record<string, StoredTensor>> {
  const out: Record<string, StoredTensor> = {};
  for (const [name, v] of Object.entries(model.params)) {
    out[name] = { dtype: "F32", shape: v.shape.slice(), data: Float32Array.from((await v.data()) as Float32Array) }; // a copy: training may update the live buffer in place
  }
  return out;
}

/** Overwrite the parameters with stored values (names and shapes must match; extra entries are ignored). */
export function setGPTWeights(model: GPT, weights: Record<string, StoredTensor>): void {
  for (const [name, v] of Object.entries(model.params)) {
    const stored = weights[name];
    if (!stored) throw new Error(`setGPTWeights: missing "${name}"`);
    if (stored.shape.join(",") !== v.shape.join(",")) {
      throw new Error(`setGPTWeights: "${name}" has shape [${stored.shape}], the model expects [${v.shape}]`);
    }
    tf.tidy(() => v.assign(tf.tensor(stored.data as Float32Array, v.shape, "float32")));
  }
}

/** Save weights + config as one .safetensors file (atomically). */
export async function saveGPT(model: GPT, path: string, metadata: Record<string, string> = {}): Promise<void> {
  saveSafetensors(path, await gptWeights(model), { ...metadata, gpt_config: JSON.stringify(model.config) });
}

/** Load a GPT saved by saveGPT (or a training checkpoint, whose extra tensors are ignored). */
export function loadGPT(path: string): GPT {
  const { tensors, metadata } = loadSafetensors(path);
  if (!metadata.gpt_config) throw new Error(`loadGPT: ${path} has no "gpt_config" metadata`);
  const model = new GPT(JSON.parse(metadata.gpt_config)); // validated by GPT's constructor
  setGPTWeights(model, tensors);
  return model;
}
