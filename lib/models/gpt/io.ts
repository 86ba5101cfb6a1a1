/**
 * A GPT's weights as safetensors: the file holds nanoGPT's state_dict names and PyTorch's shapes
 * (Linear weights (out, in), no transposes), so PyTorch loads it with load_state_dict after tying
 * lm_head.weight to transformer.wte.weight (the tied head is stored once, as safetensors requires).
 * The model config is in the metadata under "gpt_config" (JSON); files saved before the config had
 * an `activation` load with the exact GELU they were trained with, and those before `attnOnly` as
 * blocks with MLPs.
 *
 * Loading checks the config and every weight (name, shape, dtype, finite values) against the file
 * before a GPT is built, so a header that lies (nLayer: 100000) fails at once with bounded memory.
 * Weights are F32; F16 and BF16 weights are widened to F32 exactly (see lib/io/safetensors.ts).
 */
import * as tf from "@tensorflow/tfjs-core";
import { z } from "zod";
import { FileFormatError, asFloat32, loadSafetensors, saveSafetensors, type SafetensorsContent, type StoredTensor } from "../../io/index.js";
import { ACTIVATIONS, gptConfig, type Activation, type GPTConfig } from "./config.js";
import { GPT } from "./model.js";
import { gptParamSpecs } from "./params.js";

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
    const stored = Object.prototype.hasOwnProperty.call(weights, name) ? weights[name] : undefined;
    if (!stored) throw new Error(`setGPTWeights: missing "${name}"`);
    if (stored.shape.join(",") !== v.shape.join(",")) {
      throw new Error(`setGPTWeights: "${name}" has shape [${stored.shape}], the model expects [${v.shape}]`);
    }
    const values = asFloat32(stored);
    if (!values) throw new TypeError(`setGPTWeights: "${name}" is ${stored.dtype}; weights must be F32 (or F16/BF16)`);
    tf.tidy(() => v.assign(tf.tensor(values, v.shape, "float32")));
  }
}

/** Save weights + config as one .safetensors file (atomically). */
export async function saveGPT(model: GPT, path: string, metadata: Record<string, string> = {}): Promise<void> {
  saveSafetensors(path, await gptWeights(model), { ...metadata, gpt_config: JSON.stringify(model.config) });
}

/** Load a GPT saved by saveGPT (or a training checkpoint, whose optimizer tensors are ignored). */
export function loadGPT(path: string): GPT {
  const content = loadSafetensors(path);
  const { config, weights } = readGPTWeights(path, content);
  return buildGPT(config, weights);
}

/** A GPT with the given (already checked) weights; no random initialisation is drawn. */
export function buildGPT(config: GPTConfig, weights: Record<string, Float32Array>): GPT {
  return new GPT(config, { weights });
}

/** Largest causal mask a loaded model may build (4 GiB: blockSize 32768). */
const MAX_MASK_BYTES = 2 ** 32;

const positiveInt = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const gptConfigSchema = z.strictObject({
  vocabSize: positiveInt,
  blockSize: positiveInt,
  nLayer: positiveInt,
  nHead: positiveInt,
  nEmbd: positiveInt,
  dropout: z.number().min(0).lt(1),
  bias: z.boolean(),
  activation: z.enum(ACTIVATIONS as [Activation, ...Activation[]]).optional(), // absent in files saved before it existed: "gelu"
  attnOnly: z.boolean().optional(), // absent in files saved before it existed: blocks with MLPs
});

/** One line for the first problem zod found: "<what>.<path>: <message>". */
export function describeIssue(what: string, error: z.ZodError): string {
  const issue = error.issues[0];
  const path = issue.path.map(String).join(".");
  return `${what}${path ? `.${path}` : ""}: ${issue.message}`;
}

/** JSON.parse a metadata string, or a FileFormatError naming the file and the key. */
export function parseMetadataJson(file: string, metadata: Record<string, string>, key: string): unknown {
  if (!Object.prototype.hasOwnProperty.call(metadata, key)) throw new FileFormatError(file, `metadata has no "${key}"`);
  try {
    return JSON.parse(metadata[key]);
  } catch (error) {
    throw new FileFormatError(file, `metadata "${key}" is not valid JSON (${(error as Error).message})`);
  }
}

/** The gpt_config of a file's metadata, checked field by field. */
export function readGPTConfig(file: string, metadata: Record<string, string>): GPTConfig {
  const parsed = gptConfigSchema.safeParse(parseMetadataJson(file, metadata, "gpt_config"));
  if (!parsed.success) throw new FileFormatError(file, describeIssue("gpt_config", parsed.error));
  try {
    return gptConfig(parsed.data);
  } catch (error) {
    throw new FileFormatError(file, `gpt_config: ${(error as Error).message}`);
  }
}

/**
 * The config and the F32 weights of a GPT file, checked against each other before anything is built:
 * the tensors the config implies must be there, with its shapes, a float dtype and finite values.
 */
export function readGPTWeights(file: string, content: SafetensorsContent): { config: GPTConfig; weights: Record<string, Float32Array> } {
  const config = readGPTConfig(file, content.metadata);
  const { tensors } = content;
  const stored = (name: string) => (Object.prototype.hasOwnProperty.call(tensors, name) ? tensors[name] : undefined);
  const fail = (name: string, detail: string) => new FileFormatError(file, `tensor ${JSON.stringify(name)} ${detail}`);
  const expectShape = (name: string, shape: number[]) => {
    const t = stored(name);
    if (!t) throw fail(name, `is missing (gpt_config ${JSON.stringify(config)} implies it)`);
    if (t.shape.join(",") !== shape.join(",")) throw fail(name, `has shape [${t.shape}], gpt_config implies [${shape}]`);
  };
  // Cheap checks first, so that listing every parameter the config implies is bounded by the file.
  expectShape("transformer.wte.weight", [config.vocabSize, config.nEmbd]);
  expectShape("transformer.wpe.weight", [config.blockSize, config.nEmbd]);
  // The model also builds a blockSize × blockSize attention mask, which no tensor in the file bounds.
  if (config.blockSize ** 2 * 4 > MAX_MASK_BYTES) {
    throw new FileFormatError(file, `gpt_config.blockSize ${config.blockSize} needs a ${config.blockSize}² attention mask (over ${MAX_MASK_BYTES / 2 ** 30} GiB)`);
  }
  expectShape(`transformer.h.${config.nLayer - 1}.ln_1.weight`, [config.nEmbd]);

  const weights: Record<string, Float32Array> = {};
  const expected = new Set<string>();
  for (const spec of gptParamSpecs(config)) {
    expected.add(spec.name);
    expectShape(spec.name, spec.shape);
    const t = stored(spec.name)!;
    const values = asFloat32(t);
    if (!values) throw fail(spec.name, `is ${t.dtype}; weights must be F32 (or F16/BF16, widened exactly)`);
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw fail(spec.name, `holds ${values[bad]} at index ${bad}; weights must be finite`);
    weights[spec.name] = values;
  }
  for (const name of Object.keys(tensors)) {
    if (name.startsWith("transformer.") && !expected.has(name)) throw fail(name, "is not a parameter of the gpt_config's model");
  }
  return { config, weights };
}
