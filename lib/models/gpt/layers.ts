/**
 * The building blocks of a GPT as plain functions of tensors. Where tfjs-core has no op (GELU,
 * cross-entropy from integer targets) or differentiating through its pieces would take many more
 * ops than the written-out derivative (LayerNorm), the op comes with an explicit gradient.
 */
import * as tf from "@tensorflow/tfjs-core";
import { seededDropout } from "../../engine/random-kernels.js";
import { fusedCrossEntropy, fusedGelu, fusedLayerNorm } from "../../native/index.js";
import type { Activation } from "./config.js";

type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
type OneInputOp = (x: tf.Tensor, save: tf.GradSaveFunc) => { value: tf.Tensor; gradFunc: GradFunc };

/** tf.customGrad for a function of one tensor, typed. */
function withGradient(op: OneInputOp): (x: tf.Tensor) => tf.Tensor {
  return tf.customGrad(op as unknown as Parameters<typeof tf.customGrad>[0]);
}

/** PyTorch's nn.Linear: x @ weightᵀ + bias, with weight stored (out, in) as PyTorch does. */
export function linear(x: tf.Tensor2D, weight: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  // Without a bias, the plain matMul: tf.fused.matMul wraps its kernel in reshapes to 3-D and a
  // custom gradient, about ten more engine ops per linear layer in a training step.
  if (!bias) return tf.matMul(x, weight, false, true) as tf.Tensor2D;
  return tf.fused.matMul({ a: x, b: weight, transposeB: true, bias }) as tf.Tensor2D;
}

/**
 * LayerNorm over the last axis (eps 1e-5 as PyTorch), with optional bias. The backward pass is
 * written out (as in Karpathy's "Becoming a backprop ninja"): with x̂ = (x − mean)·rstd,
 *   dx = rstd · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)),  dx̂ = dy · weight,
 * a handful of ops where differentiating through mean and variance takes about thirty.
 */
export function layerNorm(x: tf.Tensor2D, weight: tf.Tensor1D, bias?: tf.Tensor1D, eps = 1e-5): tf.Tensor2D {
  const normalise = tf.customGrad(((input: tf.Tensor, gain: tf.Tensor, save: tf.GradSaveFunc) => {
    const centred = tf.sub(input, tf.mean(input, -1, true));
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), eps));
    const xHat = tf.mul(centred, rstd);
    save([xHat, rstd, gain]);
    return {
      value: tf.mul(xHat, gain),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xHatS, rstdS, gainS] = saved;
        const dxHat = tf.mul(dy, gainS);
        const dx = tf.mul(
          tf.sub(tf.sub(dxHat, tf.mean(dxHat, -1, true)), tf.mul(xHatS, tf.mean(tf.mul(dxHat, xHatS), -1, true))),
          rstdS,
        );
        return [dx, tf.sum(tf.mul(dy, xHatS), 0)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  // One native kernel on the cpu backend when the native addon is loaded; the composite form elsewhere.
  const scaled = (fusedLayerNorm(x, weight, eps) ?? normalise(x, weight)) as tf.Tensor2D;
  return bias ? tf.add(scaled, bias) : scaled;
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * GELU, the exact form (PyTorch's nn.GELU()): x·Φ(x) with Φ the standard normal CDF.
 * Its gradient Φ(x) + x·φ(x) is written out, which takes fewer ops than differentiating through erf.
 */
export const geluComposite = withGradient((x, save) => {
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

/** GELU: one native kernel on the cpu backend when the native addon is loaded, else the composite form. */
export function gelu(x: tf.Tensor): tf.Tensor {
  return fusedGelu(x) ?? geluComposite(x);
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_TANH_CUBIC = 0.044715;

/**
 * GELU as GPT-2 computes it (Hugging Face's "gelu_new", PyTorch's gelu(approximate="tanh")):
 *   0.5·x·(1 + tanh(u)),  u = √(2/π)·(x + 0.044715·x³).
 * It differs from the exact form by up to about 1e-3, which pretrained GPT-2 logits notice.
 * Gradient: 0.5·(1 + t) + 0.5·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²), t = tanh(u).
 * (The native fused kernel computes the exact form, so this one is always the composite.)
 */
export const geluTanh = withGradient((x, save) => {
  const t = tf.tanh(tf.mul(SQRT_2_OVER_PI, tf.add(x, tf.mul(GELU_TANH_CUBIC, tf.mul(tf.square(x), x)))));
  save([x, t]);
  return {
    value: tf.mul(tf.mul(0.5, x), tf.add(1, t)),
    gradFunc: (dy, saved) => {
      const [input, th] = saved;
      const du = tf.mul(SQRT_2_OVER_PI, tf.add(1, tf.mul(3 * GELU_TANH_CUBIC, tf.square(input))));
      const slope = tf.add(tf.mul(0.5, tf.add(1, th)), tf.mul(tf.mul(tf.mul(0.5, input), tf.sub(1, tf.square(th))), du));
      return [tf.mul(dy, slope)];
    },
  };
});

/** The MLP nonlinearity a config names. */
export function activationFunction(name: Activation): (x: tf.Tensor) => tf.Tensor {
  return name === "gelu_tanh" ? geluTanh : gelu;
}

/**
 * Mean cross-entropy of logits (N, V) against integer targets (N): the mean of −log softmax(logits)[target].
 * Gradient: (softmax(logits) − onehot(target)) / N.
 */
export function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
  // One native kernel each way on the cpu backend with the addon; the composite form elsewhere.
  const fused = fusedCrossEntropy(logits, targets);
  if (fused) return fused;
  const [n, vocabSize] = logits.shape;
  const flatIndex = tf.tidy(() => tf.add(tf.range(0, n * vocabSize, vocabSize, "int32"), targets));
  const loss = withGradient((x, save) => {
    const logProbs = tf.logSoftmax(x);
    save([logProbs, targets]);
    return {
      value: tf.neg(tf.mean(tf.gather(tf.reshape(logProbs, [-1]), flatIndex))),
      gradFunc: (dy, saved) => {
        // oneHot int32 then cast: tfjs-wasm's OneHot writes int bits into a float32 output.
        const oneHot = tf.cast(tf.oneHot(saved[1] as tf.Tensor1D, vocabSize), "float32");
        return [tf.mul(tf.sub(tf.exp(saved[0]), oneHot), tf.div(dy, n))];
      },
    };
  });
  const value = loss(logits) as tf.Scalar;
  flatIndex.dispose();
  return value;
}

/**
 * Inverted dropout with a seed; identity when rate is 0. The mask is a hash of (seed, element
 * index) made where the tensor lives (lib/engine/random-kernels.ts), not tf.dropout's random
 * numbers drawn one by one in JavaScript, which cost more than the rest of a GPU training step.
 */
export function dropout<T extends tf.Tensor>(x: T, rate: number, seed: number): T {
  return rate > 0 ? seededDropout(x, rate, seed) : x;
}
