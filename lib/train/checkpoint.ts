/**
 * A training checkpoint is one safetensors file, written atomically (temp file, then rename):
 *   tensors   the model's parameters (nanoGPT names, PyTorch shapes: PyTorch can load them directly),
 *             "optimizer.m.<name>" and "optimizer.v.<name>" (AdamW's moments)
 *   metadata  gpt_config, train_config (JSON), iter (the next iteration to run), optimizer_step,
 *             rng (the batch/dropout generator's state), best_val_loss, evals (history of estimates),
 *             data_position (only when training read a BatchStream: where its next batch starts)
 * Everything a resumed run needs to continue the same loss curve exactly.
 *
 * Nothing non-finite is written (a NonFiniteLossError instead), and loading checks the whole file
 * once, against a schema, before anything is built: every problem is a one-line FileFormatError
 * naming the file and the field or tensor.
 */
import { z } from "zod";
import { FileFormatError, loadSafetensors, saveSafetensors, type StoredTensor } from "../io/index.js";
import { GPT, buildGPT, describeIssue, gptWeights, parseMetadataJson, readGPTWeights } from "../models/gpt/index.js";
import type { RngState } from "../util/random.js";
import type { AdamWState } from "./adamw.js";
import { trainConfig, type TrainConfig } from "./config.js";
import { NonFiniteLossError } from "./errors.js";

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
  /** Where a streamed training split continues (null or absent: random batches). */
  dataPosition?: { shard: number; offset: number } | null;
}

/** Write a checkpoint; throws NonFiniteLossError (and writes nothing) if any value to save is not finite. */
export async function saveCheckpoint(path: string, model: GPT, state: CheckpointState): Promise<void> {
  const tensors = await gptWeights(model);
  for (const [name, v] of Object.entries(model.params)) {
    tensors[`optimizer.m.${name}`] = { dtype: "F32", shape: v.shape.slice(), data: state.optimizer.m[name] };
    tensors[`optimizer.v.${name}`] = { dtype: "F32", shape: v.shape.slice(), data: state.optimizer.v[name] };
  }
  for (const [name, t] of Object.entries(tensors)) {
    const bad = firstNonFinite(t.data as Float32Array);
    if (bad !== undefined) {
      const what = name.startsWith("optimizer.") ? `optimizer moment "${name}"` : `weight "${name}"`;
      throw new NonFiniteLossError(state.iter, what, bad);
    }
  }
  for (const e of state.evals) {
    if (!Number.isFinite(e.train) || !Number.isFinite(e.val)) throw new NonFiniteLossError(e.iter, "loss estimate", Number.isFinite(e.train) ? e.val : e.train);
  }
  if (Number.isNaN(state.bestValLoss)) throw new NonFiniteLossError(state.iter, "best val loss", state.bestValLoss);
  saveSafetensors(path, tensors, {
    format: CHECKPOINT_FORMAT,
    gpt_config: JSON.stringify(model.config),
    train_config: JSON.stringify(state.trainConfig),
    iter: String(state.iter),
    optimizer_step: String(state.optimizer.step),
    rng: JSON.stringify(state.rng),
    best_val_loss: String(state.bestValLoss), // "Infinity" before the first evaluation
    evals: JSON.stringify(state.evals),
    ...(state.dataPosition ? { data_position: JSON.stringify(state.dataPosition) } : {}),
  });
}

function firstNonFinite(values: Float32Array): number | undefined {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return values[i];
  return undefined;
}

/** A decimal count as the writer prints it ("0", "12"): no sign, exponent, spaces or leading zeros. */
const countString = z
  .string()
  .regex(/^(0|[1-9]\d{0,15})$/, "must be a non-negative integer")
  .transform(Number)
  .refine(Number.isSafeInteger, "is too large");
const finite = z.number().refine(Number.isFinite, "must be finite");
const uint32 = z.number().int().min(0).max(0xffffffff);

const rngSchema = z.strictObject({
  s: z.tuple([uint32, uint32, uint32, uint32]).refine((s) => s.some((v) => v !== 0), "must not be all zeros"),
  spareNormal: finite.nullable(),
});
const positionSchema = z.strictObject({ shard: z.number().int().min(0), offset: z.number().int().min(0) });
const evalsSchema = z.array(z.strictObject({ iter: z.number().int().min(0), train: finite, val: finite }));
/** A finite number, or "Infinity" (no evaluation yet); never NaN. */
const bestValLossString = z
  .string()
  .refine((s) => s === "Infinity" || (/^-?\d/.test(s) && Number.isFinite(Number(s))), "must be a finite number or Infinity")
  .transform(Number);

/** The checkpoint's own metadata (gpt_config and the tensors are checked by readGPTWeights). */
const metadataSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  iter: countString,
  optimizer_step: countString,
  best_val_loss: bestValLossString,
  train_config: z.string(),
  rng: z.string(),
  evals: z.string(),
});

function parseWith<T>(file: string, what: string, schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new FileFormatError(file, describeIssue(what, parsed.error));
  return parsed.data;
}

/** The model (with its weights) and the training state of a checkpoint, all checked before use. */
export function loadCheckpoint(path: string): { model: GPT; state: CheckpointState } {
  const content = loadSafetensors(path);
  const { tensors, metadata } = content;
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new FileFormatError(path, `not a training checkpoint (format ${JSON.stringify(metadata.format ?? "none")}, expected "${CHECKPOINT_FORMAT}")`);
  }
  const meta = parseWith(path, "metadata", metadataSchema, metadata);
  const { config, weights } = readGPTWeights(path, content);
  let train: TrainConfig;
  try {
    train = trainConfig(parseWith(path, "train_config", z.record(z.string(), z.unknown()), parseMetadataJson(path, metadata, "train_config")));
  } catch (error) {
    if (error instanceof FileFormatError) throw error;
    throw new FileFormatError(path, `train_config: ${(error as Error).message}`);
  }
  const rng = parseWith(path, "rng", rngSchema, parseMetadataJson(path, metadata, "rng")) as RngState; // (tslab's non-strict TypeScript infers the tuple loosely)
  const evals = parseWith(path, "evals", evalsSchema, parseMetadataJson(path, metadata, "evals"));
  const dataPosition = metadata.data_position === undefined ? null : parseWith(path, "data_position", positionSchema, parseMetadataJson(path, metadata, "data_position"));

  const optimizer: AdamWState = { step: meta.optimizer_step, m: {}, v: {} };
  for (const [name, w] of Object.entries(weights)) {
    optimizer.m[name] = moment(path, tensors, `optimizer.m.${name}`, w.length, tensors[name].shape);
    optimizer.v[name] = moment(path, tensors, `optimizer.v.${name}`, w.length, tensors[name].shape);
    if (optimizer.v[name].some((x) => x < 0)) throw new FileFormatError(path, `tensor "optimizer.v.${name}" has negative values (a second moment is ≥ 0)`);
  }
  return {
    model: buildGPT(config, weights),
    state: { trainConfig: train, iter: meta.iter, optimizer, rng, bestValLoss: meta.best_val_loss, evals, dataPosition },
  };
}

/** One AdamW moment: present, F32, the parameter's shape, finite. */
function moment(file: string, tensors: Record<string, StoredTensor>, name: string, length: number, shape: number[]): Float32Array {
  const t = Object.prototype.hasOwnProperty.call(tensors, name) ? tensors[name] : undefined;
  const fail = (detail: string) => new FileFormatError(file, `tensor ${JSON.stringify(name)} ${detail}`);
  if (!t) throw fail("is missing (every parameter has two AdamW moments)");
  if (t.dtype !== "F32") throw fail(`is ${t.dtype}, not F32`);
  if (t.shape.join(",") !== shape.join(",") || t.data.length !== length) throw fail(`has shape [${t.shape}], its parameter [${shape}]`);
  const bad = firstNonFinite(t.data as Float32Array);
  if (bad !== undefined) throw fail(`holds ${bad}; moments must be finite`);
  return t.data as Float32Array;
}
