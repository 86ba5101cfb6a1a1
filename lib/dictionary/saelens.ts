/**
 * SAEs on disk in SAELens's layout, a folder holding
 *   cfg.json                  {"architecture", "d_in", "d_sae", "dtype", "model_name", "hook_name", ...}
 *   sae_weights.safetensors   W_enc (d_in, d_sae), b_enc (d_sae), W_dec (d_sae, d_in), b_dec (d_in),
 *                             and threshold (d_sae) for a JumpReLU SAE
 * so that SAELens (and GemmaScope's releases in that layout) read what this writes and the reverse.
 * A BatchTopK SAE is saved as SAELens saves one for inference: a JumpReLU with its one threshold.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { getHFHubCachePath } from "@huggingface/hub";
import * as tf from "@tensorflow/tfjs-core";
import { z } from "zod";
import { FileFormatError, asFloat32, loadSafetensors, saveSafetensors, writeFileAtomic } from "../io/index.js";
import { cachedHubFile } from "../models/gpt/pretrained.js";
import { SparseAutoencoder, type SaeArchitecture } from "./sae.js";

/** Where the SAE reads from in the model (free-form; SAELens's names). */
export interface SaeOrigin {
  modelName?: string;
  hookName?: string;
  hookLayer?: number;
}

const cfgSchema = z
  .object({
    architecture: z.enum(["standard", "topk", "jumprelu", "batchtopk"]).optional(),
    d_in: z.number().int().positive(),
    d_sae: z.number().int().positive(),
    dtype: z.string().optional(),
    activation_fn_str: z.string().optional(),
    activation_fn_kwargs: z.object({ k: z.number().int().positive().optional() }).passthrough().optional(),
    k: z.number().int().positive().optional(),
    apply_b_dec_to_input: z.boolean().optional(),
    normalize_activations: z.string().nullable().optional(),
    model_name: z.string().optional(),
    hook_name: z.string().optional(),
    hook_layer: z.number().int().optional(),
  })
  .passthrough();

export function saveSaeLens(sae: SparseAutoencoder, dir: string, origin: SaeOrigin = {}): void {
  const { dIn, dSae, architecture, k, applyBDecToInput } = sae.config;
  const saved: SaeArchitecture = architecture === "batchtopk" ? "jumprelu" : architecture;
  const cfg: Record<string, unknown> = {
    architecture: saved,
    d_in: dIn,
    d_sae: dSae,
    dtype: "float32",
    device: "cpu",
    apply_b_dec_to_input: applyBDecToInput,
    normalize_activations: "none",
    activation_fn_str: saved === "topk" ? "topk" : "relu",
    activation_fn_kwargs: saved === "topk" ? { k } : {},
    model_name: origin.modelName ?? "",
    hook_name: origin.hookName ?? "",
    hook_layer: origin.hookLayer ?? 0,
  };
  if (saved === "topk") cfg.k = k;
  const f32 = (v: tf.Variable) => ({ dtype: "F32" as const, shape: v.shape, data: Float32Array.from(v.dataSync()) });
  const tensors = {
    W_enc: f32(sae.params.W_enc),
    b_enc: f32(sae.params.b_enc),
    W_dec: f32(sae.params.W_dec),
    b_dec: f32(sae.params.b_dec),
    ...(saved === "jumprelu" ? { threshold: { dtype: "F32" as const, shape: [dSae], data: sae.thresholds() } } : {}),
  };
  mkdirSync(dir, { recursive: true });
  saveSafetensors(join(dir, "sae_weights.safetensors"), tensors);
  writeFileAtomic(join(dir, "cfg.json"), JSON.stringify(cfg, null, 2) + "\n");
}

/** Load a SAELens-layout folder; every problem is a one-line FileFormatError naming the file. */
export function loadSaeLens(dir: string): { sae: SparseAutoencoder; origin: SaeOrigin } {
  const cfgPath = join(dir, "cfg.json");
  const weightsPath = join(dir, "sae_weights.safetensors");
  if (!existsSync(cfgPath)) throw new FileFormatError(cfgPath, "missing: a SAELens SAE folder holds cfg.json and sae_weights.safetensors");
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(cfgPath, "utf8"));
  } catch (error) {
    throw new FileFormatError(cfgPath, `not JSON (${(error as Error).message})`);
  }
  const parsed = cfgSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FileFormatError(cfgPath, `${issue.path.join(".") || "cfg"}: ${issue.message}`);
  }
  const cfg = parsed.data;
  if (cfg.normalize_activations && cfg.normalize_activations !== "none") {
    throw new FileFormatError(cfgPath, `normalize_activations "${cfg.normalize_activations}" is not supported (only "none")`);
  }
  const architecture = cfg.architecture ?? (cfg.activation_fn_str === "topk" ? "topk" : "standard");
  const k = cfg.activation_fn_kwargs?.k ?? cfg.k;
  if (architecture === "topk" && k === undefined) throw new FileFormatError(cfgPath, "a topk SAE needs activation_fn_kwargs.k");
  if (!existsSync(weightsPath)) throw new FileFormatError(weightsPath, "missing: the SAE's weights");
  const { tensors } = loadSafetensors(weightsPath);
  const [dIn, dSae] = [cfg.d_in, cfg.d_sae];
  const expected: Record<string, number[]> = { W_enc: [dIn, dSae], b_enc: [dSae], W_dec: [dSae, dIn], b_dec: [dIn] };
  if (architecture === "jumprelu") expected.threshold = [dSae];
  const values: Record<string, Float32Array> = {};
  for (const [name, shape] of Object.entries(expected)) {
    const t = tensors[name];
    if (!t) throw new FileFormatError(weightsPath, `no tensor "${name}" (a ${architecture} SAE has ${Object.keys(expected).join(", ")})`);
    if (t.shape.join(",") !== shape.join(",")) {
      throw new FileFormatError(weightsPath, `"${name}" has shape [${t.shape}], cfg.json's d_in/d_sae say [${shape}]`);
    }
    const f = asFloat32(t);
    if (!f) throw new FileFormatError(weightsPath, `"${name}" is ${t.dtype}; expected F32, F16 or BF16`);
    values[name] = f;
  }
  if (values.threshold && values.threshold.some((v) => !(v > 0))) {
    throw new FileFormatError(weightsPath, `"threshold" must be positive (JumpReLU keeps log θ)`);
  }
  const sae = new SparseAutoencoder({
    dIn,
    dSae,
    architecture,
    k: k ?? 1,
    applyBDecToInput: cfg.apply_b_dec_to_input ?? true,
    initThreshold: 1,
    unitNormDecoder: false,
  });
  tf.tidy(() => {
    sae.params.W_enc.assign(tf.tensor2d(values.W_enc, [dIn, dSae]));
    sae.params.b_enc.assign(tf.tensor1d(values.b_enc));
    sae.params.W_dec.assign(tf.tensor2d(values.W_dec, [dSae, dIn]));
    sae.params.b_dec.assign(tf.tensor1d(values.b_dec));
    if (values.threshold) sae.params.log_threshold.assign(tf.log(tf.tensor1d(values.threshold)));
  });
  return { sae, origin: { modelName: cfg.model_name, hookName: cfg.hook_name, hookLayer: cfg.hook_layer } };
}

/** jbloom's residual-stream SAEs for GPT-2 small in SAELens's layout, one folder per hook. */
export const GPT2_SMALL_SAE_REPO = "jbloom/GPT2-Small-SAEs-Reformatted";

/**
 * A local SAELens folder for GPT-2 small, without downloading: COURSE_GPT2_SAE (a folder) if set,
 * else `hookName`'s folder of GPT2_SMALL_SAE_REPO in the Hugging Face cache; undefined if neither.
 */
export function findGpt2SmallSae(hookName = "blocks.8.hook_resid_pre", cacheDir = getHFHubCachePath()): string | undefined {
  const own = process.env.COURSE_GPT2_SAE;
  const candidates = own ? [own] : [];
  const cfg = cachedHubFile(cacheDir, GPT2_SMALL_SAE_REPO, "main", `${hookName}/cfg.json`);
  if (cfg) candidates.push(dirname(cfg));
  return candidates.find((dir) => existsSync(join(dir, "cfg.json")) && existsSync(join(dir, "sae_weights.safetensors")));
}
