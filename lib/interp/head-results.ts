// Its own file so that cache.ts and hooked.ts, which both use it, do not import each other (tslab's loader overflows on import cycles).
import * as tf from "@tensorflow/tfjs-core";

/**
 * Each head's output z_h · W_O,h (no bias): z (…, H, D) and the c_proj weight (C, H·D) → (…, H, C).
 * TransformerLens's hook_result; summed over heads plus b_O it is hook_attn_out.
 */
export function headResults(z: tf.Tensor, projWeight: tf.Tensor, nHead: number): tf.Tensor {
  return tf.tidy(() => {
    const lead = z.shape.slice(0, -2);
    const D = z.shape[z.shape.length - 1];
    const C = projWeight.shape[0];
    const perHead = tf.transpose(tf.reshape(projWeight, [C, nHead, D]), [1, 2, 0]); // (H, D, C)
    const zHeads = tf.transpose(tf.reshape(z, [-1, nHead, D]), [1, 0, 2]); // (H, N, D)
    const out = tf.matMul(zHeads as tf.Tensor3D, perHead as tf.Tensor3D); // (H, N, C)
    return tf.reshape(tf.transpose(out, [1, 0, 2]), [...lead, nHead, C]);
  });
}
