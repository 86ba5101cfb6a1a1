import * as tf from "@tensorflow/tfjs-core";
import { fusedSumOfSquares } from "../native/fused.js";

export type Gradients = Record<string, tf.Tensor>;

/** The global L2 norm of all gradients together: sqrt(Σ g²) over every element of every tensor. */
export function globalNorm(grads: Gradients): tf.Scalar {
  const native = fusedSumOfSquares(Object.values(grads));
  if (native !== null) return tf.scalar(Math.sqrt(native));
  return tf.tidy(() => {
    // Summed two at a time: one addN over every parameter exceeds WebGPU's storage-buffer limit.
    const squares = Object.values(grads).map((g) => tf.sum(tf.square(g)));
    return tf.sqrt(squares.reduce((total, s) => tf.add(total, s)));
  }) as tf.Scalar;
}

/** The factor torch.nn.utils.clip_grad_norm_ scales gradients by: min(1, maxNorm / (norm + 1e-6)). */
export function clipScale(norm: number, maxNorm: number): number {
  return Math.min(1, maxNorm / (norm + 1e-6));
}

/**
 * Gradients scaled so that their global norm is at most maxNorm, as torch.nn.utils.clip_grad_norm_,
 * and the norm before clipping; all on the device. (The Trainer reads the norm anyway, for logging,
 * and folds the scale into AdamW's update instead.)
 */
export function clipGradNorm(grads: Gradients, maxNorm: number): { grads: Gradients; norm: tf.Scalar } {
  const norm = globalNorm(grads);
  const clipped = tf.tidy(() => {
    const scale = tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6)));
    const out: Gradients = {};
    for (const [name, g] of Object.entries(grads)) out[name] = tf.mul(g, scale);
    return out;
  });
  return { grads: clipped, norm };
}
