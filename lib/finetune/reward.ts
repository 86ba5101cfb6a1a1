/**
 * A reward model: a GPT's body (everything up to the final LayerNorm) read at each sequence's last
 * non-pad token, then a scalar head. Trained on preference pairs with the Bradley–Terry loss.
 */
import * as tf from "@tensorflow/tfjs-core";
import { GPT, activationFunction, layerNorm, linear } from "../models/gpt/index.js";
import { bradleyTerryLoss } from "./losses.js";
import { gradsByName } from "./objectives.js";

/**
 * The final-LayerNorm residual stream (B·T, C) of `model` on idx (B, T): GPT.forward without the
 * LM head, written out on model.params (GPT.forward returns only logits). Evaluation mode, no
 * dropout. tests/finetune-train.test.ts checks hidden · wteᵀ against GPT.forward's logits, and
 * tests/attn-only-counts.test.ts the attention-only blocks against HookedGPT's residual stream.
 */
export function gptHidden(model: GPT, idx: tf.Tensor2D): tf.Tensor2D {
  const [B, T] = idx.shape;
  const { nEmbd: C, nHead, nLayer, blockSize } = model.config;
  if (T > blockSize) throw new RangeError(`gptHidden: sequence length ${T} exceeds blockSize ${blockSize}`);
  const p = model.params;
  const norm = (x: tf.Tensor2D, name: string) => layerNorm(x, p[`${name}.weight`] as tf.Tensor1D, p[`${name}.bias`] as tf.Tensor1D | undefined);
  const lin = (x: tf.Tensor2D, name: string) => linear(x, p[`${name}.weight`] as tf.Tensor2D, p[`${name}.bias`] as tf.Tensor1D | undefined);
  const act = activationFunction(model.config.activation ?? "gelu");
  const headSize = C / nHead;
  return tf.tidy(() => {
    const causal = tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9);
    const tokens = tf.reshape(tf.gather(p["transformer.wte.weight"], tf.reshape(idx, [-1])), [B, T, C]);
    let x = tf.reshape(tf.add(tokens, tf.slice(p["transformer.wpe.weight"], [0, 0], [T, C])), [B * T, C]) as tf.Tensor2D;
    for (let layer = 0; layer < nLayer; layer++) {
      const h = `transformer.h.${layer}`;
      const qkv = lin(norm(x, `${h}.ln_1`), `${h}.attn.c_attn`);
      const heads = tf.reshape(tf.transpose(tf.reshape(qkv, [B, T, 3, nHead, headSize]), [2, 0, 3, 1, 4]), [3, B * nHead, T, headSize]);
      const [q, k, v] = tf.unstack(heads) as tf.Tensor3D[];
      const weights = tf.softmax(tf.add(tf.matMul(tf.mul(q, 1 / Math.sqrt(headSize)), k, false, true), causal));
      const y = tf.reshape(tf.transpose(tf.reshape(tf.matMul(weights, v), [B, nHead, T, headSize]), [0, 2, 1, 3]), [B * T, C]) as tf.Tensor2D;
      x = tf.add(x, lin(y, `${h}.attn.c_proj`));
      if (model.config.attnOnly) continue; // attention-only blocks have no ln_2 and no MLP
      x = tf.add(x, lin(act(lin(norm(x, `${h}.ln_2`), `${h}.mlp.c_fc`)) as tf.Tensor2D, `${h}.mlp.c_proj`));
    }
    return norm(x, "transformer.ln_f");
  });
}

export class RewardModel {
  /** Scalar head: (C) weights and a bias, trained with the body. */
  readonly head: { weight: tf.Variable; bias: tf.Variable };

  /** `body` is owned from here on (usually a copy of the SFT model); the head starts at zero, so every reward starts at 0. */
  constructor(readonly body: GPT) {
    const C = body.config.nEmbd;
    this.head = tf.tidy(() => ({ weight: tf.variable(tf.zeros([C]), true, undefined), bias: tf.variable(tf.zeros([1])) }));
  }

  /** Every trainable variable by name: the body's nanoGPT names plus "score.weight" and "score.bias". */
  get params(): Record<string, tf.Variable> {
    return { ...this.body.params, "score.weight": this.head.weight, "score.bias": this.head.bias };
  }

  /**
   * Rewards (B) of right-padded sequences idx (B, T) whose real lengths are `lengths`: the head
   * read at position lengths[b] − 1, the last real token (what a causal model has seen all of).
   */
  rewards(idx: tf.Tensor2D, lengths: readonly number[]): tf.Tensor1D {
    const [B, T] = idx.shape;
    const bad = lengths.findIndex((n) => !(Number.isInteger(n) && n >= 1 && n <= T));
    if (lengths.length !== B || bad >= 0) throw new RangeError(`RewardModel.rewards: lengths must be ${B} integers in 1..${T}, got ${JSON.stringify(lengths)}`);
    return tf.tidy(() => {
      const hidden = gptHidden(this.body, idx);
      const last = tf.gather(hidden, tf.tensor1d(lengths.map((n, b) => b * T + n - 1), "int32")); // (B, C)
      return tf.add(tf.reshape(tf.matMul(last, tf.reshape(this.head.weight, [-1, 1])), [B]), this.head.bias) as tf.Tensor1D;
    });
  }

  /** Bradley–Terry loss and its gradients (by the names of params) on padded chosen/rejected batches. */
  lossAndGrads(chosen: PaddedSequences, rejected: PaddedSequences): { loss: tf.Scalar; accuracy: number; grads: Record<string, tf.Tensor> } {
    let accuracy = 0;
    const { value, grads } = gradsByName(this.params, () => {
      const rc = this.rewards(chosen.ids, chosen.lengths);
      const rr = this.rewards(rejected.ids, rejected.lengths);
      const c = Array.from(rc.dataSync());
      const r = Array.from(rr.dataSync());
      accuracy = c.filter((v, i) => v > r[i]).length / c.length;
      return bradleyTerryLoss(rc, rr);
    });
    return { loss: value, accuracy: accuracy, grads: grads };
  }

  dispose(): void {
    this.body.dispose();
    this.head.weight.dispose();
    this.head.bias.dispose();
  }
}

/** Right-padded token ids (B, T) int32 and each row's real length. */
export interface PaddedSequences {
  ids: tf.Tensor2D;
  lengths: number[];
}

/** Pads rows of ids on the right with padId (cut to maxLength) into a PaddedSequences; the caller disposes ids. */
export function padSequences(rows: readonly number[][], padId: number, maxLength: number): PaddedSequences {
  const T = Math.min(maxLength, Math.max(1, ...rows.map((r) => r.length)));
  const lengths = rows.map((r) => Math.max(1, Math.min(T, r.length)));
  const ids = rows.map((r) => [...r.slice(0, T), ...Array(T - Math.min(T, r.length)).fill(padId)]);
  return { ids: tf.tensor2d(ids, [rows.length, T], "int32"), lengths: lengths };
}
