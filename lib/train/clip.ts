import * as tf from "@tensorflow/tfjs-core";

export type Gradients = Record<string, tf.Tensor>;

/** The global L2 norm of all gradients together: sqrt(Σ g²) over every element of every tensor. */
export function globalNorm(grads: Gradients): tf.Scalar {
  return tf.tidy(() => tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))))) as tf.Scalar;
}

/** The factor torch.nn.utils.clip_grad_norm_ scales gradients by: min(1, maxNorm / (norm + 1e-6)). */
export function clipScale(norm: number, maxNorm: number): number {
  return Math.min(1, maxNorm / (norm + 1e-6));
}

/**
 * Gradients scaled so that their global norm is at most maxNorm, as torch.nn.utils.clip_grad_norm_,
 * and the norm before clipping. (The Trainer instead folds the scale into AdamW's update.)
 */
export function clipGradNorm(grads: Gradients, maxNorm: number): { grads: Gradients; norm: number } {
  const normTensor = globalNorm(grads);
  const norm = normTensor.dataSync()[0];
  normTensor.dispose();
  const scale = clipScale(norm, maxNorm);
  const clipped: Gradients = {};
  for (const [name, g] of Object.entries(grads)) clipped[name] = tf.mul(g, scale);
  return { grads: clipped, norm };
}
