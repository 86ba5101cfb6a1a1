/**
 * SFT and DPO as "loss and gradients of a GPT on a batch", the shape lib/train's lossAndGrads
 * has, so that AdamW steps on them unchanged.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { GPT } from "../models/gpt/index.js";
import { variableGradsFreeing } from "../train/backprop.js";
import type { ChatBatch } from "./chat.js";
import { dpoLoss, maskedCrossEntropy, tokenLogProbs } from "./losses.js";

export type Grads = Record<string, tf.Tensor>;

/** Gradients of f() with respect to every parameter of `params`, keyed by their names. */
export function gradsByName(params: Record<string, tf.Variable>, f: () => tf.Scalar): { value: tf.Scalar; grads: Grads } {
  const names = Object.keys(params);
  const { value, grads } = variableGradsFreeing(f, names.map((n) => params[n]));
  const byName: Grads = {};
  names.forEach((n) => {
    const g = grads[params[n].name];
    if (g) byName[n] = g;
  });
  return { value: value, grads: byName };
}

/** Masked next-token cross-entropy of `model` on a chat batch (only the assistant's tokens count). */
export function sftLoss(model: GPT, batch: ChatBatch): tf.Scalar {
  return tf.tidy(() => {
    const { logits } = model.forward(batch.x);
    const V = model.config.vocabSize;
    return maskedCrossEntropy(tf.reshape(logits, [-1, V]) as tf.Tensor2D, tf.reshape(batch.y, [-1]) as tf.Tensor1D, tf.reshape(batch.mask, [-1]) as tf.Tensor1D);
  });
}

/** sftLoss and its gradients by parameter name; the caller disposes both. */
export function sftLossAndGrads(model: GPT, batch: ChatBatch): { loss: tf.Scalar; grads: Grads } {
  const { value, grads } = gradsByName(model.params, () => sftLoss(model, batch));
  return { loss: value, grads: grads };
}

/** Σ over masked positions of log π(y_t | x_≤t) for each row (B): the log-probability of each response. */
export function sequenceLogProbs(model: GPT, batch: ChatBatch): tf.Tensor1D {
  return tf.tidy(() => {
    const { logits } = model.forward(batch.x);
    return tf.sum(tf.mul(tokenLogProbs(logits, batch.y), batch.mask), 1) as tf.Tensor1D;
  });
}

/** A batch of preference pairs: prompt + chosen and prompt + rejected, masks on the responses only. */
export interface PreferenceBatch {
  chosen: ChatBatch;
  rejected: ChatBatch;
}

/** The frozen reference's log-probabilities of a batch's responses, computed once (no gradient). */
export function referenceLogProbs(reference: GPT, batch: PreferenceBatch): { chosen: tf.Tensor1D; rejected: tf.Tensor1D } {
  return { chosen: sequenceLogProbs(reference, batch.chosen), rejected: sequenceLogProbs(reference, batch.rejected) };
}

/**
 * DPO loss of `policy` on a batch, its gradients, and the fraction of pairs whose margin is positive.
 * sftWeight > 0 adds that much of the chosen answers' masked cross-entropy (RPO, Pang et al. 2024):
 * plain DPO can widen the margin by lowering both answers' likelihood, which wrecks generation
 * when the pairs differ in a word or two; the extra term keeps the chosen answer likely.
 */
export function dpoLossAndGrads(
  policy: GPT,
  batch: PreferenceBatch,
  reference: { chosen: tf.Tensor1D; rejected: tf.Tensor1D },
  beta: number,
  sftWeight = 0,
): { loss: tf.Scalar; grads: Grads; accuracy: number } {
  let accuracy = 0;
  const { value, grads } = gradsByName(policy.params, () => {
    const { loss, margins } = dpoLoss(
      {
        policyChosen: sequenceLogProbs(policy, batch.chosen),
        policyRejected: sequenceLogProbs(policy, batch.rejected),
        referenceChosen: reference.chosen,
        referenceRejected: reference.rejected,
      },
      beta,
    );
    const m = Array.from(margins.dataSync());
    accuracy = m.filter((v) => v > 0).length / m.length;
    return sftWeight > 0 ? tf.add(loss, tf.mul(sftLoss(policy, batch.chosen), sftWeight)) : loss;
  });
  return { loss: value, grads: grads, accuracy: accuracy };
}
