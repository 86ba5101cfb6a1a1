/**
 * The losses of fine-tuning, as functions of tensors: masked cross-entropy (SFT), per-token log
 * probabilities (what DPO and RL score sequences with), Bradley–Terry (reward model) and DPO.
 */
import * as tf from "@tensorflow/tfjs-core";

type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];

/**
 * Mean cross-entropy of logits (N, V) against targets (N) over the positions where mask (N) is 1:
 * Σ mask·nll / Σ mask (PyTorch's cross_entropy with ignore_index: ignored targets are left out of
 * the denominator too). Gradient: mask·(softmax − onehot)/Σ mask, so masked rows get exactly 0.
 * An all-zero mask gives 0.
 */
export function maskedCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, mask: tf.Tensor1D): tf.Scalar {
  const [n, vocabSize] = logits.shape;
  return tf.tidy(() => {
    const ids = tf.cast(targets, "int32") as tf.Tensor1D;
    const flatIndex = tf.add(tf.range(0, n * vocabSize, vocabSize, "int32"), ids);
    const weights = tf.div(mask, tf.maximum(tf.sum(mask), 1)); // (N): mask / count
    const op = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
      const logProbs = tf.logSoftmax(x);
      // The backward pass runs after this tidy: what it needs must be saved, not captured.
      save([logProbs, ids, weights]);
      const nll = tf.neg(tf.gather(tf.reshape(logProbs, [-1]), flatIndex));
      return {
        value: tf.sum(tf.mul(nll, weights)),
        gradFunc: ((dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [logProbsS, idsS, weightsS] = saved;
          const oneHot = tf.cast(tf.oneHot(idsS as tf.Tensor1D, vocabSize), "float32");
          return [tf.mul(tf.sub(tf.exp(logProbsS), oneHot), tf.mul(tf.reshape(weightsS, [n, 1]), dy))];
        }) as GradFunc,
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    return op(logits) as tf.Scalar;
  });
}

/** log softmax(logits)[target] at every position: logits (B, T, V), targets (B, T) → (B, T). */
export function tokenLogProbs(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Tensor2D {
  const [B, T, V] = logits.shape;
  return tf.tidy(() => {
    const flat = tf.reshape(tf.logSoftmax(logits), [B * T * V]);
    const index = tf.add(tf.range(0, B * T * V, V, "int32"), tf.reshape(tf.cast(targets, "int32"), [-1]));
    return tf.reshape(tf.gather(flat, index), [B, T]) as tf.Tensor2D;
  });
}

/** Mean entropy (nats) of the next-token distributions at the masked positions: logits (B, T, V), mask (B, T). */
export function maskedEntropy(logits: tf.Tensor3D, mask: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const logP = tf.logSoftmax(logits);
    const entropy = tf.neg(tf.sum(tf.mul(tf.exp(logP), logP), -1)); // (B, T)
    return tf.div(tf.sum(tf.mul(entropy, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  });
}

/** Bradley–Terry: mean over pairs of −log σ(r_chosen − r_rejected) = softplus(r_rejected − r_chosen). */
export function bradleyTerryLoss(chosen: tf.Tensor1D, rejected: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.softplus(tf.sub(rejected, chosen))) as tf.Scalar);
}

/** Inputs of the DPO loss: summed log-probabilities of each pair's responses (B), under the policy and the frozen reference. */
export interface DPOLogProbs {
  policyChosen: tf.Tensor1D;
  policyRejected: tf.Tensor1D;
  referenceChosen: tf.Tensor1D;
  referenceRejected: tf.Tensor1D;
}

/**
 * DPO (Rafailov et al. 2023): mean of −log σ(β·[(log π − log π_ref)(chosen) − (log π − log π_ref)(rejected)]).
 * Also returns the margins β·[…] (B), whose sign says which response the policy now prefers.
 */
export function dpoLoss(lp: DPOLogProbs, beta: number): { loss: tf.Scalar; margins: tf.Tensor1D } {
  if (!(beta > 0)) throw new RangeError(`dpoLoss: beta must be positive, got ${beta}`);
  return tf.tidy(() => {
    const chosen = tf.sub(lp.policyChosen, lp.referenceChosen);
    const rejected = tf.sub(lp.policyRejected, lp.referenceRejected);
    const margins = tf.mul(tf.sub(chosen, rejected), beta) as tf.Tensor1D;
    return { loss: tf.mean(tf.softplus(tf.neg(margins))) as tf.Scalar, margins: margins };
  });
}
