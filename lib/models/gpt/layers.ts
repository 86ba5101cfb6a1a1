/**
 * The building blocks of a GPT as plain functions of tensors. Where tfjs-core has no op (GELU,
 * cross-entropy from integer targets) or its gradient would need a kernel that some backends lack
 * (the embedding's), the op is written here with an explicit gradient.
 */
import * as tf from "@tensorflow/tfjs-core";

type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
type OneInputOp = (x: tf.Tensor, save: tf.GradSaveFunc) => { value: tf.Tensor; gradFunc: GradFunc };

/** tf.customGrad for a function of one tensor, typed. */
function withGradient(op: OneInputOp): (x: tf.Tensor) => tf.Tensor {
  return tf.customGrad(op as unknown as Parameters<typeof tf.customGrad>[0]);
}

/** PyTorch's nn.Linear: x @ weightᵀ + bias, with weight stored (out, in) as PyTorch does. */
export function linear(x: tf.Tensor2D, weight: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: weight, transposeB: true, bias }) as tf.Tensor2D;
}

/** LayerNorm over the last axis (eps 1e-5 as PyTorch), with optional bias. */
export function layerNorm(x: tf.Tensor2D, weight: tf.Tensor1D, bias?: tf.Tensor1D, eps = 1e-5): tf.Tensor2D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    const normalised = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
    const scaled = tf.mul(normalised, weight);
    return (bias ? tf.add(scaled, bias) : scaled) as tf.Tensor2D;
  });
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * GELU, the exact form (PyTorch's nn.GELU()): x·Φ(x) with Φ the standard normal CDF.
 * Its gradient Φ(x) + x·φ(x) is written out, which takes fewer ops than differentiating through erf.
 */
export const gelu = withGradient((x, save) => {
  const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(x, SQRT1_2))));
  save([x, cdf]);
  return {
    value: tf.mul(x, cdf),
    gradFunc: (dy, saved) => {
      const [input, phi] = saved;
      const pdf = tf.mul(tf.exp(tf.mul(tf.square(input), -0.5)), INV_SQRT_2PI);
      return [tf.mul(dy, tf.add(phi, tf.mul(input, pdf)))];
    },
  };
});

/**
 * Rows of an embedding table: weight[ids]. The gradient adds each row of dy into the row it was
 * read from (scatterND sums duplicate indices), which every backend implements.
 * (Tensors a gradient needs are passed through `save`: the forward pass's other tensors are
 * disposed before the backward pass runs.)
 */
export function embedding(weight: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const lookup = withGradient((table, save) => {
    save([ids]);
    return {
      value: tf.gather(table, ids),
      gradFunc: (dy, saved) => [tf.scatterND(tf.expandDims(saved[0], 1), dy, table.shape)],
    };
  });
  return lookup(weight) as tf.Tensor2D;
}

/**
 * Mean cross-entropy of logits (N, V) against integer targets (N): the mean of −log softmax(logits)[target].
 * Gradient: (softmax(logits) − onehot(target)) / N.
 */
export function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
  const [n, vocabSize] = logits.shape;
  const flatIndex = tf.tidy(() => tf.add(tf.range(0, n * vocabSize, vocabSize, "int32"), targets));
  const loss = withGradient((x, save) => {
    const logProbs = tf.logSoftmax(x);
    save([logProbs, targets]);
    return {
      value: tf.neg(tf.mean(tf.gather(tf.reshape(logProbs, [-1]), flatIndex))),
      gradFunc: (dy, saved) => {
        const oneHot = tf.oneHot(saved[1] as tf.Tensor1D, vocabSize, 1, 0, "float32");
        return [tf.mul(tf.sub(tf.exp(saved[0]), oneHot), tf.div(dy, n))];
      },
    };
  });
  const value = loss(logits) as tf.Scalar;
  flatIndex.dispose();
  return value;
}

/** Inverted dropout with a seed; identity when rate is 0. */
export function dropout<T extends tf.Tensor>(x: T, rate: number, seed: number): T {
  return rate > 0 ? (tf.dropout(x, rate, undefined, seed) as T) : x;
}
