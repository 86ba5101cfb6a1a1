/**
 * How well a toy model does, read from one teacher-forced forward pass per batch: the model's
 * probabilities for each next token, and whether its argmax is right on the answer positions.
 * (Teacher forcing gives the same verdict as greedy decoding for "every answer token right": if
 * each argmax is right given a right prefix, greedy decoding writes exactly that prefix.)
 */
import * as tf from "@tensorflow/tfjs-core";
import type { GPT } from "../../models/gpt/index.js";

export interface TokenPrediction {
  /** Probability the model gave to the token actually at this position (null at position 0: nothing predicts it). */
  prob: number | null;
  /** The model's most likely token id here, and its probability. */
  top: number | null;
  topProb: number | null;
}

/** Per row, per position: the probability of the actual token and the argmax, from one forward pass per `batchSize` rows. */
export async function predictions(model: GPT, rows: readonly (readonly number[])[], batchSize = 256): Promise<TokenPrediction[][]> {
  const result: TokenPrediction[][] = [];
  for (let start = 0; start < rows.length; start += batchSize) {
    const batch = rows.slice(start, start + batchSize);
    const L = batch[0].length;
    if (L - 1 > model.config.blockSize) throw new RangeError(`predictions: rows of ${L} tokens need blockSize ≥ ${L - 1}, the model has ${model.config.blockSize}`);
    const idx = tf.tensor2d(batch.map((r) => r.slice(0, L - 1)) as number[][], [batch.length, L - 1], "int32");
    const probs = tf.tidy(() => tf.softmax(model.forward(idx).logits));
    const values = (await probs.data()) as Float32Array;
    tf.dispose([idx, probs]);
    const V = model.config.vocabSize;
    batch.forEach((row, b) => {
      const out: TokenPrediction[] = [{ prob: null, top: null, topProb: null }];
      for (let t = 1; t < L; t++) {
        const base = (b * (L - 1) + t - 1) * V;
        let top = 0;
        for (let v = 1; v < V; v++) if (values[base + v] > values[base + top]) top = v;
        out.push({ prob: values[base + row[t]], top, topProb: values[base + top] });
      }
      result.push(out);
    });
  }
  return result;
}

export interface AnswerAccuracy {
  /** Fraction of answer tokens whose argmax is right. */
  token: number;
  /** Fraction of rows with every answer token right. */
  sequence: number;
  /** Per row: all answer tokens right? */
  correct: boolean[];
}

/**
 * AnswerAccuracy on the positions [from, to) of every row (to defaults to the row's length): for
 * "<abc|cba>" the answer letters are positions 5..7, i.e. from = index of "|" + 1, to = length − 1.
 */
export async function answerAccuracy(model: GPT, rows: readonly (readonly number[])[], from: number, to?: number): Promise<AnswerAccuracy> {
  if (rows.length === 0) throw new RangeError("answerAccuracy: no rows");
  const preds = await predictions(model, rows);
  let right = 0;
  let total = 0;
  const correct = preds.map((row, i) => {
    const end = to ?? rows[i].length;
    if (!(from >= 1 && end > from && end <= rows[i].length)) throw new RangeError(`answerAccuracy: positions [${from}, ${end}) are not inside a row of ${rows[i].length} tokens (position 0 is never predicted)`);
    let all = true;
    for (let t = from; t < end; t++) {
      const ok = row[t].top === rows[i][t];
      right += ok ? 1 : 0;
      total += 1;
      all = all && ok;
    }
    return all;
  });
  return { token: right / total, sequence: correct.filter(Boolean).length / correct.length, correct };
}

/** Mean cross-entropy (nats) of predicting each position, over the rows: index t is the loss on token t (index 0: NaN). */
export async function lossByPosition(model: GPT, rows: readonly (readonly number[])[]): Promise<number[]> {
  const preds = await predictions(model, rows);
  const L = rows[0].length;
  const sums = new Array<number>(L).fill(0);
  for (const row of preds) for (let t = 1; t < L; t++) sums[t] -= Math.log(Math.max(row[t].prob as number, 1e-30));
  return sums.map((s, t) => (t === 0 ? NaN : s / rows.length));
}
