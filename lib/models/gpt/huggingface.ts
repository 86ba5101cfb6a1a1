/**
 * GPT-2 in Hugging Face's layout (transformers' GPT2LMHeadModel), to and from ours.
 *
 * A model folder holds config.json (n_layer, n_head, n_embd, n_positions, vocab_size,
 * layer_norm_epsilon, activation_function) and model.safetensors, whose names are ours without
 * "transformer." (wte.weight, h.0.attn.c_attn.weight, ..., ln_f.bias; some repos keep the prefix).
 * Two differences matter:
 *   - GPT-2 was written with Conv1D layers, whose weights are stored (in, out): the four per block
 *     (attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj) are transposed to our (out, in) and back.
 *     attn.c_proj is square, so only the values (the PyTorch parity test) can tell a missed transpose.
 *   - h.{i}.attn.bias and h.{i}.attn.masked_bias are causal-mask buffers, not weights: ignored.
 *     lm_head.weight, when stored, is the tied token embedding: ignored too.
 * Everything else must match the config exactly: a missing, misshapen or unexpected tensor is a
 * FileFormatError naming it.
 */
import { z } from "zod";
import { join } from "node:path";
import { FileFormatError, asFloat32, saveSafetensors, writeFileAtomic, type SafetensorsContent, type StoredTensor } from "../../io/index.js";
import { gptConfig, type GPTConfig } from "./config.js";
import { describeIssue, gptWeights } from "./io.js";
import type { GPT } from "./model.js";
import { gptParamSpecs } from "./params.js";

/** The Conv1D weights of one block, stored (in, out) by Hugging Face. */
const CONV1D = ["attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"];
const isConv1D = (name: string) => /^transformer\.h\.\d+\./.test(name) && CONV1D.some((suffix) => name.endsWith(`.${suffix}`));

/** transformers' names for GPT-2's activation; gelu_new and gelu_pytorch_tanh are the same tanh formula. */
const HF_ACTIVATIONS: Record<string, GPTConfig["activation"]> = { gelu_new: "gelu_tanh", gelu_pytorch_tanh: "gelu_tanh", gelu: "gelu" };

const count = z.number().int().positive();
const hfConfigSchema = z.object({
  vocab_size: count,
  n_layer: count,
  n_head: count,
  n_embd: count,
  n_positions: count.optional(),
  n_ctx: count.optional(),
  n_inner: count.nullable().optional(),
  layer_norm_epsilon: z.number().optional(),
  activation_function: z.string().optional(),
  model_type: z.string().optional(),
});

/** Our GPTConfig from a GPT-2 config.json's parsed JSON; `file` names it in errors. */
export function configFromHuggingFace(file: string, json: unknown, dropout = 0): GPTConfig {
  const parsed = hfConfigSchema.safeParse(json);
  if (!parsed.success) throw new FileFormatError(file, describeIssue("config", parsed.error));
  const c = parsed.data;
  const fail = (detail: string) => new FileFormatError(file, detail);
  if (c.model_type !== undefined && c.model_type !== "gpt2") throw fail(`model_type is ${JSON.stringify(c.model_type)}; only GPT-2 ("gpt2") is supported`);
  const blockSize = c.n_positions ?? c.n_ctx;
  if (blockSize === undefined) throw fail("has neither n_positions nor n_ctx (the context length)");
  if (c.n_inner != null && c.n_inner !== 4 * c.n_embd) throw fail(`n_inner is ${c.n_inner}; this GPT's MLP is 4 × n_embd = ${4 * c.n_embd} wide`);
  if (c.layer_norm_epsilon !== undefined && c.layer_norm_epsilon !== 1e-5) throw fail(`layer_norm_epsilon is ${c.layer_norm_epsilon}; this GPT's LayerNorm uses 1e-5`);
  const activationName = c.activation_function ?? "gelu_new";
  const activation = Object.prototype.hasOwnProperty.call(HF_ACTIVATIONS, activationName) ? HF_ACTIVATIONS[activationName] : undefined;
  if (!activation) throw fail(`activation_function ${JSON.stringify(activationName)} is not one of ${Object.keys(HF_ACTIVATIONS).join(", ")}`);
  try {
    return gptConfig({ vocabSize: c.vocab_size, blockSize, nLayer: c.n_layer, nHead: c.n_head, nEmbd: c.n_embd, dropout, bias: true, activation });
  } catch (error) {
    throw fail((error as Error).message);
  }
}

/** A config.json that transformers' GPT2LMHeadModel.from_pretrained reads. */
export function configToHuggingFace(config: GPTConfig): Record<string, unknown> {
  if (config.attnOnly) throw new Error("configToHuggingFace: an attention-only GPT (attnOnly) has no GPT-2 layout in transformers");
  return {
    architectures: ["GPT2LMHeadModel"],
    model_type: "gpt2",
    vocab_size: config.vocabSize,
    n_positions: config.blockSize,
    n_ctx: config.blockSize,
    n_embd: config.nEmbd,
    n_layer: config.nLayer,
    n_head: config.nHead,
    n_inner: null,
    activation_function: config.activation === "gelu_tanh" ? "gelu_new" : "gelu",
    layer_norm_epsilon: 1e-5,
    resid_pdrop: config.dropout,
    embd_pdrop: config.dropout,
    attn_pdrop: config.dropout,
    initializer_range: 0.02,
    tie_word_embeddings: true,
    bos_token_id: 50256,
    eos_token_id: 50256,
  };
}

/** (rows, cols) row-major → (cols, rows), in 32 × 32 tiles so that reads and writes both stay in cache. */
function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  const TILE = 32;
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(r0 + TILE, rows);
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const c1 = Math.min(c0 + TILE, cols);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = values[r * cols + c];
    }
  }
  return out;
}

/** The index of the first NaN or ±Infinity, or −1 (a plain loop: findIndex's callback costs seconds on 124M values). */
function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) if (values[i] - values[i] !== 0) return i; // x − x is NaN exactly for NaN and ±Infinity
  return -1;
}

/** Tensors a GPT-2 file may hold that are not parameters: the causal-mask buffers and the tied head. */
function isIgnored(hfName: string): boolean {
  return /^h\.\d+\.attn\.(bias|masked_bias)$/.test(hfName) || hfName === "lm_head.weight";
}

/**
 * Our parameters (nanoGPT names, (out, in) shapes) from a GPT-2 safetensors file in Hugging Face's
 * layout, every tensor checked against the config: present, the right shape, a float dtype, finite.
 * Each Conv1D weight is removed from `content` once transposed, so a 1.5B model is not held twice.
 */
export function weightsFromHuggingFace(file: string, content: SafetensorsContent, config: GPTConfig): Map<string, Float32Array> {
  const { tensors } = content;
  const has = (name: string) => Object.prototype.hasOwnProperty.call(tensors, name);
  const prefix = has("transformer.wte.weight") ? "transformer." : "";
  const fail = (name: string, detail: string) => new FileFormatError(file, `tensor ${JSON.stringify(name)} ${detail}`);
  const shape = `${config.nLayer} layers, ${config.nHead} heads, width ${config.nEmbd}, vocab ${config.vocabSize}, context ${config.blockSize}`;

  const weights = new Map<string, Float32Array>();
  const used = new Set<string>();
  for (const spec of gptParamSpecs(config)) {
    const name = prefix + spec.name.slice("transformer.".length);
    const conv1d = isConv1D(spec.name);
    const stored = conv1d ? [spec.shape[1], spec.shape[0]] : spec.shape;
    if (!has(name)) throw fail(name, `is missing (config.json's GPT-2 of ${shape} has it)`);
    const t = tensors[name];
    if (t.shape.join(",") !== stored.join(",")) {
      throw fail(name, `has shape [${t.shape}], expected [${stored}]${conv1d ? " (a Conv1D weight, stored (in, out))" : ""} for ${shape}`);
    }
    const values = asFloat32(t);
    if (!values) throw fail(name, `is ${t.dtype}; weights must be F32, F16 or BF16`);
    const bad = firstNonFinite(values);
    if (bad >= 0) throw fail(name, `holds ${values[bad]} at index ${bad}; weights must be finite`);
    weights.set(spec.name, conv1d ? transpose(values, stored[0], stored[1]) : values);
    used.add(name);
    if (conv1d) delete tensors[name];
  }
  for (const name of Object.keys(tensors)) {
    if (!used.has(name) && !isIgnored(name.startsWith(prefix) ? name.slice(prefix.length) : name)) {
      throw fail(name, `is not a parameter of GPT-2 with ${shape} (unexpected tensor)`);
    }
  }
  return weights;
}

/**
 * Write a GPT as a Hugging Face model folder: model.safetensors (GPT-2's names and Conv1D layout,
 * metadata format "pt" as transformers expects) and config.json. GPT-2 always has biases, so a
 * model without them is written with zero biases, which compute the same function.
 */
export async function saveHuggingFace(model: GPT, dir: string): Promise<void> {
  const hfConfig = configToHuggingFace(model.config); // first: it refuses a model transformers cannot load
  const ours = await gptWeights(model);
  const full = gptConfig({ ...model.config, bias: true });
  const tensors: Record<string, StoredTensor> = {};
  for (const spec of gptParamSpecs(full)) {
    const name = spec.name.slice("transformer.".length);
    const t = Object.prototype.hasOwnProperty.call(ours, spec.name) ? ours[spec.name] : undefined;
    const values = t ? (t.data as Float32Array) : new Float32Array(spec.shape[0]); // a bias the model does not have
    tensors[name] = isConv1D(spec.name)
      ? { dtype: "F32", shape: [spec.shape[1], spec.shape[0]], data: transpose(values, spec.shape[0], spec.shape[1]) }
      : { dtype: "F32", shape: spec.shape, data: values };
  }
  saveSafetensors(join(dir, "model.safetensors"), tensors, { format: "pt" });
  writeFileAtomic(join(dir, "config.json"), `${JSON.stringify(hfConfig, null, 2)}\n`);
}
