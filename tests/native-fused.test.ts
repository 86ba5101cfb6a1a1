/**
 * The fused native ops (LayerNorm, GELU, AdamW) against their composite tfjs forms on the stock
 * kernels: values and gradients. Skips (printing why) when the addon is not built, unless
 * COURSE_REQUIRE_NATIVE=1.
 */
import { afterEach, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { seededDropout, useBackend } from "../lib/engine/index.js";
import {
  fusedAdamWStep, fusedCausalSelfAttention, fusedGelu, fusedLayerNorm, fusedCrossEntropy, fusedOpsAvailable, fusedSumOfSquares, nativeAddon, nativeStatus,
  setNativeKernelsEnabled,
} from "../lib/native/index.js";
import { Rng } from "../lib/util/random.js";

await useBackend("cpu");
const status = nativeStatus();
if (!status.loaded) console.warn(`fused native op tests skipped: ${status.reason}`);
const describeNative = status.loaded || process.env.COURSE_REQUIRE_NATIVE === "1" ? describe : describe.skip;

const rng = new Rng(11);
function random(shape: number[], scale = 2): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, () => scale * rng.normal()), shape);
}

function expectClose(actual: tf.Tensor, expected: tf.Tensor, rtol = 1e-5): void {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.dataSync();
  const b = expected.dataSync();
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale += Math.abs(b[i]) / b.length;
  for (let i = 0; i < b.length; i++) {
    const tol = rtol * (Math.abs(b[i]) + scale);
    if (!(Math.abs(a[i] - b[i]) <= tol)) expect.fail(`element ${i}: ${a[i]} vs ${b[i]} (tol ${tol})`);
  }
}

/** The composite forms, as lib/models/gpt writes them, run on the stock JS kernels. */
function stock<T>(f: () => T): T {
  setNativeKernelsEnabled(false);
  try {
    return f();
  } finally {
    setNativeKernelsEnabled(true);
  }
}

function layerNormComposite(x: tf.Tensor, gain: tf.Tensor, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gain);
}

function geluComposite(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.mul(0.5, tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))));
}

/** nanoGPT's attention from c_attn's output, as lib/models/gpt writes it. */
function attentionComposite(qkv: tf.Tensor2D, B: number, T: number, nHead: number, drop?: { rate: number; seed: number }): tf.Tensor {
  const C = qkv.shape[1] / 3;
  const hs = C / nHead;
  const heads = tf.reshape(tf.transpose(tf.reshape(qkv, [B, T, 3, nHead, hs]), [2, 0, 3, 1, 4]), [3, B * nHead, T, hs]);
  const [q, k, v] = tf.unstack(heads);
  const mask = tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9);
  const probs = tf.softmax(tf.add(tf.matMul(tf.mul(q, 1 / Math.sqrt(hs)), k, false, true), mask));
  const weights = drop ? seededDropout(probs, drop.rate, drop.seed) : probs;
  return tf.reshape(tf.transpose(tf.reshape(tf.matMul(weights, v), [B, nHead, T, hs]), [0, 2, 1, 3]), [B * T, C]);
}

describeNative("fused native ops", () => {
  afterEach(() => setNativeKernelsEnabled(true));

  it("are available on cpu with native kernels, and decline when switched off or given int32", () => {
    expect(fusedOpsAvailable()).toBe(true);
    const x = random([3, 4]);
    stock(() => {
      expect(fusedOpsAvailable()).toBe(false);
      expect(fusedLayerNorm(x, tf.ones([4]))).toBeNull();
      expect(fusedGelu(x)).toBeNull();
    });
    expect(fusedGelu(tf.tensor([1, 2], undefined, "int32"))).toBeNull();
    expect(fusedLayerNorm(x, tf.ones([3]))).toBeNull(); // gain does not match the last axis
  });

  it.each([[[7, 16]], [[2, 5, 33]], [[1, 128]]])("layerNorm of %j: values and gradients", (shape) => {
    const x = tf.add(random(shape), 3); // an offset mean, as activations have
    const gain = random([shape[shape.length - 1]], 1);
    const dy = random(shape);
    const loss = (ln: (x: tf.Tensor, g: tf.Tensor) => tf.Tensor) => (x: tf.Tensor, g: tf.Tensor) => tf.sum(tf.mul(ln(x, g), dy));
    const fused = (x: tf.Tensor, g: tf.Tensor) => fusedLayerNorm(x, g, 1e-5)!;
    expectClose(fused(x, gain), stock(() => layerNormComposite(x, gain, 1e-5)));
    const [dx, dgain] = tf.grads(loss(fused))([x, gain]);
    const [dxRef, dgainRef] = stock(() => tf.grads(loss((x, g) => layerNormComposite(x, g, 1e-5)))([x, gain]));
    expectClose(dx, dxRef, 1e-4); // the composite's gradient cancels terms in float32; ours in double
    expectClose(dgain, dgainRef);
  });

  it("gelu: values and gradient, including large and tiny inputs", () => {
    const x = tf.concat([random([500], 3), tf.tensor([0, 1e-6, -1e-6, 10, -10, 40, -40])]);
    const dy = random([507]);
    const fused = (x: tf.Tensor) => fusedGelu(x)!;
    expectClose(fused(x), stock(() => geluComposite(x)));
    const dx = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(fused(x), dy)))(x);
    const dxRef = stock(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(geluComposite(x), dy)))(x));
    expectClose(dx, dxRef);
  });

  for (const blas of ["openblas", "builtin"] as const) {
    // T = 150: three blocks of 64 query rows (the kernel skips the key blocks past the diagonal), the last one partial.
    it.each([[2, 5, 2, 8], [3, 16, 4, 32], [1, 1, 1, 3], [2, 150, 2, 16]])(`${blas}: causal self-attention B=%i T=%i heads=%i C=%i: values and gradient`, (B, T, nHead, C) => {
      const addon = nativeAddon()!;
      if (blas === "openblas" && !addon.useOpenBlas(true)) return;
      addon.useOpenBlas(blas === "openblas");
      try {
        const qkv = random([B * T, 3 * C], 1) as tf.Tensor2D;
        const dy = random([B * T, C]);
        const fused = (x: tf.Tensor) => fusedCausalSelfAttention(x as tf.Tensor2D, B, T, nHead)!;
        expectClose(fused(qkv), stock(() => attentionComposite(qkv, B, T, nHead)));
        const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(fused(x), dy)))(qkv);
        const gradRef = stock(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(attentionComposite(x as tf.Tensor2D, B, T, nHead), dy)))(qkv));
        expectClose(grad, gradRef);
      } finally {
        addon.useOpenBlas(true);
      }
    });
  }

  // T = 70: a partial second block of query rows; seeds 7 and 2^32 − 1 (the hash's keys differ).
  it.each([[2, 70, 2, 16, 0.2, 7], [3, 9, 3, 12, 0.5, 4294967295]])("causal self-attention with dropout B=%i T=%i heads=%i C=%i rate %f seed %i: the weights seededDropout drops, values and gradient", (B, T, nHead, C, rate, seed) => {
    const qkv = random([B * T, 3 * C], 1) as tf.Tensor2D;
    const dy = random([B * T, C]);
    const drop = { rate, seed };
    const fused = (x: tf.Tensor) => fusedCausalSelfAttention(x as tf.Tensor2D, B, T, nHead, undefined, drop)!;
    const composite = (x: tf.Tensor) => attentionComposite(x as tf.Tensor2D, B, T, nHead, drop);
    const y = fused(qkv);
    expectClose(y, stock(() => composite(qkv)));
    // Not the undropped attention: the mask is applied (a check that cannot pass by accident).
    const plain = fusedCausalSelfAttention(qkv, B, T, nHead)!;
    expect(tf.max(tf.abs(tf.sub(y, plain))).dataSync()[0]).toBeGreaterThan(0.01);
    const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(fused(x), dy)))(qkv);
    const gradRef = stock(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(composite(x), dy)))(qkv));
    expectClose(grad, gradRef);
    tf.dispose([qkv, dy, y, plain, grad, gradRef]);
  });

  it.each([[12, 65], [7, 1000], [3, 2]])("cross-entropy of (%i, %i) logits: loss and gradient as the composite form, targets at both ends", (n, v) => {
    const logits = random([n, v], 3) as tf.Tensor2D;
    const targets = tf.tensor1d(Array.from({ length: n }, (_, i) => (i === 0 ? 0 : i === 1 ? v - 1 : (i * 37) % v)), "int32");
    const composite = (x: tf.Tensor) => {
      const logProbs = tf.logSoftmax(x);
      return tf.neg(tf.mean(tf.sum(tf.mul(logProbs, tf.cast(tf.oneHot(targets, v), "float32")), 1)));
    };
    const loss = fusedCrossEntropy(logits, targets)!;
    expectClose(loss, stock(() => composite(logits)));
    // A scaled upstream gradient (as gradient accumulation gives), through the fused gradient.
    const grad = tf.grad((x: tf.Tensor) => tf.mul(fusedCrossEntropy(x as tf.Tensor2D, targets)!, 0.25))(logits);
    const gradRef = stock(() => tf.grad((x: tf.Tensor) => tf.mul(composite(x), 0.25))(logits));
    expectClose(grad, gradRef);
    expect(fusedCrossEntropy(logits, tf.tensor1d(Array(n).fill(0), "float32") as tf.Tensor1D)).toBeNull(); // float targets: composite
    tf.dispose([logits, targets, loss, grad, gradRef]);
  });

  it("cross-entropy with a target out of range fails in one line", () => {
    const logits = random([2, 5]) as tf.Tensor2D;
    expect(() => fusedCrossEntropy(logits, tf.tensor1d([1, 5], "int32"))).toThrow(/crossEntropy: a target is out of range/);
    expect(() => fusedCrossEntropy(logits, tf.tensor1d([-1, 0], "int32"))).toThrow(/out of range/);
  });

  it("sum of squares over many tensors (the gradient norm) matches a float64 sum, across block edges", () => {
    const tensors = [1, 4095, 4096, 4097, 100_003].map((n, i) => random([n], i + 1));
    let expected = 0;
    for (const t of tensors) for (const v of t.dataSync()) expected += v * v;
    const got = fusedSumOfSquares(tensors)!;
    expect(Math.abs(got - expected) / expected).toBeLessThan(1e-12);
    expect(fusedSumOfSquares([tf.tensor1d([3, 4]), tf.tensor2d([[12]])])).toBe(169);
    expect(stock(() => fusedSumOfSquares(tensors))).toBeNull(); // not native: the caller's tf ops run
    tf.dispose(tensors);
  });

  it("seeded dropout runs in C++ with the JavaScript kernel's mask, bit for bit (NaN and ±Infinity dropped to 0 alike)", () => {
    const values = Float32Array.from({ length: 100_003 }, (_, i) => (i % 1000 === 0 ? [NaN, Infinity, -Infinity][i % 3] : rng.normal()));
    const x = tf.tensor(values);
    for (const [rate, seed] of [[0.1, 1], [0.5, 123456789], [0.9, 4294967295]]) {
      const native = seededDropout(x, rate, seed).dataSync();
      const js = stock(() => seededDropout(x, rate, seed).dataSync());
      expect(Buffer.from(native.buffer).equals(Buffer.from(js.buffer)), `rate ${rate} seed ${seed}`).toBe(true);
      const kept = native.filter((v) => v !== 0).length / native.length;
      expect(Math.abs(kept - (1 - rate))).toBeLessThan(0.01);
    }
    x.dispose();
  });

  it("attention keeps B·nHead·T·2 floats for its backward pass, not the B·nHead·T·T weights", () => {
    const [B, T, nHead, C] = [2, 24, 3, 12];
    const qkv = random([B * T, 3 * C], 1) as tf.Tensor2D;
    const dy = random([B * T, C]);
    // What the tape holds between forward and backward: the bytes that came alive in the forward
    // pass, less its output and the saved input (a clone: tf.memory counts its bytes again, but it
    // shares the input's buffer).
    let kept = 0;
    tf.grad((x: tf.Tensor) => {
      const before = tf.memory().numBytes;
      const y = fusedCausalSelfAttention(x as tf.Tensor2D, B, T, nHead)!;
      kept = tf.memory().numBytes - before - y.size * 4 - x.size * 4;
      return tf.sum(tf.mul(y, dy));
    })(qkv);
    expect(kept).toBe(B * nHead * T * 2 * 4);
    const { numTensors } = tf.memory();
    // The heads run in parallel on the pool with their own scratch, and recompute the weights.
    const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(fusedCausalSelfAttention(x as tf.Tensor2D, B, T, nHead)!, dy)))(qkv);
    const gradRef = stock(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(attentionComposite(x as tf.Tensor2D, B, T, nHead), dy)))(qkv));
    expectClose(grad, gradRef);
    tf.dispose([grad, gradRef]);
    expect(tf.memory().numTensors).toBe(numTensors);
  });

  it("leak no tensors across forward and backward passes", () => {
    const qkv = random([2 * 8, 3 * 16]) as tf.Tensor2D;
    const variable = tf.variable(random([48], 1));
    const step = () => {
      const { value, grads } = tf.variableGrads(() => {
        const h = fusedLayerNorm(qkv, variable)!;
        return tf.sum(fusedCausalSelfAttention(fusedGelu(h)! as tf.Tensor2D, 2, 8, 2)!) as tf.Scalar;
      }, [variable]);
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    variable.dispose();
  });

  it("adamW updates parameter and moments in place as the tf ops do", () => {
    const [beta1, beta2, eps, lr, weightDecay] = [0.9, 0.99, 1e-8, 1e-2, 0.1];
    const init = random([6, 5], 0.5);
    const grads = [random([6, 5]), random([6, 5]), random([6, 5])];
    const p = tf.variable(tf.clone(init));
    const m = tf.variable(tf.zeros([6, 5]));
    const v = tf.variable(tf.zeros([6, 5]));
    const pRef = tf.variable(tf.clone(init));
    const mRef = tf.variable(tf.zeros([6, 5]));
    const vRef = tf.variable(tf.zeros([6, 5]));
    grads.forEach((g, i) => {
      const t = i + 1;
      const options = { beta1, beta2, eps, decay: 1 - lr * weightDecay, stepSize: lr / (1 - beta1 ** t),
        invSqrtCorrection2: 1 / Math.sqrt(1 - beta2 ** t), gradScale: 0.5 };
      const dataId = p.dataId;
      expect(fusedAdamWStep(p, m, v, g, options)).toBe(true);
      if (i > 0) expect(p.dataId).toBe(dataId); // in place (the first step copies the buffer tf.variable shared)
      stock(() => tf.tidy(() => {
        const sg = tf.mul(g, options.gradScale);
        const mNew = tf.add(tf.mul(mRef, beta1), tf.mul(sg, 1 - beta1));
        const vNew = tf.add(tf.mul(vRef, beta2), tf.mul(tf.square(sg), 1 - beta2));
        const denom = tf.add(tf.mul(tf.sqrt(vNew), options.invSqrtCorrection2), eps);
        pRef.assign(tf.sub(tf.mul(pRef, options.decay), tf.mul(tf.div(mNew, denom), options.stepSize)));
        mRef.assign(mNew);
        vRef.assign(vNew);
      }));
    });
    expectClose(p, pRef);
    expectClose(m, mRef);
    expectClose(v, vRef);
    expect(Math.abs(p.dataSync()[0] - init.dataSync()[0])).toBeGreaterThan(1e-3); // it moved
  });

  it("adamW never writes into a buffer that another tensor shares", () => {
    const shared = tf.ones([4]);
    const p = tf.variable(tf.zeros([4]));
    p.assign(shared); // p now shares shared's buffer
    const zeros = tf.zeros([4]);
    const m = tf.variable(zeros); // and m shares zeros'
    const v = tf.variable(tf.zeros([4]));
    const options = { beta1: 0.9, beta2: 0.99, eps: 1e-8, decay: 1, stepSize: 0.1, invSqrtCorrection2: 1 };
    expect(fusedAdamWStep(p, m, v, tf.ones([4]), options)).toBe(true);
    expect(Array.from(shared.dataSync())).toEqual([1, 1, 1, 1]);
    expect(Array.from(zeros.dataSync())).toEqual([0, 0, 0, 0]);
    expect(p.dataSync()[0]).toBeCloseTo(0.9, 5);
    expect(fusedAdamWStep(p, p, v, tf.ones([4]), options)).toBe(false); // aliased moments
  });
});
