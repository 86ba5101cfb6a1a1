/**
 * HellaSwag (Zellers et al., 2019) scored as build-nanogpt's hellaswag.py does, "completion style":
 * each example has a context and 4 endings; the model reads context + " " + ending and the ending's
 * tokens are scored by their cross-entropy given everything before them.
 *   acc       the ending with the lowest summed loss (highest total log-likelihood) is the answer
 *   acc_norm  the ending with the lowest mean loss per token (length-normalised) is the answer
 * Reference: GPT-2 124M scores acc_norm 0.2945 on the 10,042 validation examples (build-nanogpt).
 *
 *   const examples = await loadHellaSwag();                          // data/hellaswag_val.jsonl, fetched once
 *   const result = await evaluateHellaSwag(model, examples, (t) => gpt2.encode(t), { limit: 100 });
 *   console.log(formatHellaSwag(result));                           // "HellaSwag 100 examples: acc 0.2900, acc_norm 0.3100 …"
 */
import * as tf from "@tensorflow/tfjs-core";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { ensureDataset } from "../data/index.js";
import { FileFormatError } from "../io/index.js";
import type { GPT } from "../models/gpt/index.js";

/** build-nanogpt's number for GPT-2 124M (its README), to compare a run against. */
export const HELLASWAG_GPT2_ACC_NORM = 0.2945;

/** One line of HellaSwag's jsonl; only ctx, endings and label are used (ctx = ctx_a + " " + ctx_b). */
export interface HellaSwagExample {
  ctx: string;
  endings: string[];
  /** Index of the right ending (0–3). */
  label: number;
  ind?: number;
  activity_label?: string;
  ctx_a?: string;
  ctx_b?: string;
  split?: string;
  split_type?: string;
  source_id?: string;
}

const exampleSchema = z.looseObject({
  ctx: z.string(),
  endings: z.array(z.string().min(1, "must not be empty")).length(4, "must be 4 endings"),
  label: z.number().int().min(0).max(3),
});

/** The examples of a HellaSwag jsonl text; a bad line is a FileFormatError naming the file and line. */
export function parseHellaSwag(text: string, file: string): HellaSwagExample[] {
  const examples: HellaSwagExample[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const fail = (detail: string) => new FileFormatError(file, `line ${i + 1}: ${detail}`);
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw fail(`not valid JSON (${(error as Error).message})`);
    }
    const parsed = exampleSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw fail(`${issue.path.join(".") || "example"}: ${issue.message}`);
    }
    examples.push(parsed.data as HellaSwagExample);
  });
  if (examples.length === 0) throw new FileFormatError(file, "holds no examples");
  return examples;
}

/** HellaSwag's validation set (registry "hellaswag-val", downloaded into data/ once), or a jsonl file of the same format. */
export async function loadHellaSwag(path?: string): Promise<HellaSwagExample[]> {
  const file = path ?? (await ensureDataset("hellaswag-val"));
  return parseHellaSwag(readFileSync(file, "utf8"), file);
}

/** An example as tokens: the context's, and each ending's encoded with a leading space (as GPT-2 saw words). */
export interface RenderedExample {
  contextTokens: number[];
  endingTokens: number[][];
  label: number;
}

export function renderExample(example: HellaSwagExample, encode: (text: string) => number[]): RenderedExample {
  return {
    contextTokens: encode(example.ctx),
    endingTokens: example.endings.map((ending) => encode(" " + ending)),
    label: example.label,
  };
}

export interface ExampleScore {
  /** Summed cross-entropy (nats) of each ending's tokens. */
  sumLoss: number[];
  /** The same per token. */
  meanLoss: number[];
  /** argmin of sumLoss (acc's answer) and of meanLoss (acc_norm's). */
  pred: number;
  predNorm: number;
}

/**
 * Score the 4 endings in one batch of 4 rows (context + ending, padded at the end; padding is never
 * scored and, the attention being causal, never read). A row longer than the model's blockSize
 * loses its earliest context tokens (the same number in every row).
 */
export async function scoreExample(model: GPT, rendered: RenderedExample): Promise<ExampleScore> {
  const { blockSize } = model.config;
  const { endingTokens } = rendered;
  const longest = Math.max(...endingTokens.map((e) => e.length));
  if (longest + 1 > blockSize) throw new RangeError(`HellaSwag: an ending of ${longest} tokens does not fit the model's block_size ${blockSize} with any context`);
  const context = rendered.contextTokens.slice(Math.max(0, rendered.contextTokens.length + longest - blockSize));
  if (context.length === 0) throw new RangeError("HellaSwag: the example has an empty context (nothing to predict the first ending token from)");
  const rows = endingTokens.map((ending) => [...context, ...ending]);
  const width = Math.max(...rows.map((r) => r.length));
  const idx = new Int32Array(rows.length * width);
  rows.forEach((row, r) => idx.set(row, r * width));
  // Row r's ending token j sits at position context.length + j and is predicted from the position before it.
  const positions: number[] = [];
  const targets: number[] = [];
  const owner: number[] = [];
  endingTokens.forEach((ending, r) => {
    ending.forEach((token, j) => {
      positions.push(r * width + context.length + j - 1);
      targets.push(token);
      owner.push(r);
    });
  });
  const losses = tf.tidy(() => {
    const { logits } = model.forward(tf.tensor2d(idx, [rows.length, width], "int32"));
    const flat = tf.reshape(logits, [rows.length * width, model.config.vocabSize]) as tf.Tensor2D;
    const scored = tf.gather(flat, tf.tensor1d(positions, "int32")); // (K, V): only the positions that predict ending tokens
    const picked = tf.gatherND(scored, tf.tensor2d(targets.map((t, k) => [k, t]), [targets.length, 2], "int32"));
    return tf.sub(tf.logSumExp(scored, 1), picked); // cross-entropy of each ending token
  });
  const values = await losses.data();
  losses.dispose();
  const sumLoss = endingTokens.map(() => 0);
  values.forEach((loss, k) => (sumLoss[owner[k]] += loss));
  const meanLoss = sumLoss.map((sum, r) => sum / endingTokens[r].length);
  return { sumLoss, meanLoss, pred: argmin(sumLoss), predNorm: argmin(meanLoss) };
}

function argmin(values: number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] < values[best]) best = i;
  return best;
}

export interface HellaSwagResult {
  total: number;
  correct: number;
  correctNorm: number;
  acc: number;
  accNorm: number;
  scores: ExampleScore[];
}

/** acc and acc_norm of `model` over the examples (or the first `limit`), one forward pass of 4 rows each. */
export async function evaluateHellaSwag(
  model: GPT,
  examples: HellaSwagExample[],
  encode: (text: string) => number[],
  options: { limit?: number; onExample?: (done: number, result: HellaSwagResult) => void; shouldStop?: () => boolean } = {},
): Promise<HellaSwagResult> {
  const chosen = examples.slice(0, options.limit ?? examples.length);
  const result: HellaSwagResult = { total: 0, correct: 0, correctNorm: 0, acc: 0, accNorm: 0, scores: [] };
  for (const example of chosen) {
    if (options.shouldStop?.()) break;
    const score = await scoreExample(model, renderExample(example, encode));
    result.scores.push(score);
    result.total += 1;
    result.correct += Number(score.pred === example.label);
    result.correctNorm += Number(score.predNorm === example.label);
    result.acc = result.correct / result.total;
    result.accNorm = result.correctNorm / result.total;
    options.onExample?.(result.total, result);
    await new Promise((resolve) => setImmediate(resolve)); // let Ctrl-C handlers and displays run
  }
  return result;
}

/** One line: the counts, acc, acc_norm and GPT-2 124M's reference. */
export function formatHellaSwag(result: HellaSwagResult): string {
  return (
    `HellaSwag ${result.total} examples: acc ${result.acc.toFixed(4)}, acc_norm ${result.accNorm.toFixed(4)}` +
    ` (${result.correctNorm}/${result.total}; GPT-2 124M on all 10,042: acc_norm ${HELLASWAG_GPT2_ACC_NORM})`
  );
}
