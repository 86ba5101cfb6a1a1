/**
 * A GPT train step (lib/models/gpt + lib/train's AdamW) gives the same losses and parameters
 * with the native cpu kernels as with tfjs's stock JS kernels, and leaks no tensors.
 * Skips (printing why) when the addon is not built, unless COURSE_REQUIRE_NATIVE=1.
 */
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../lib/engine/index.js";
import { GPT } from "../lib/models/gpt/index.js";
import { nativeAddon, nativeKernelStats, nativeStatus, resetNativeKernelStats, setNativeKernelsEnabled } from "../lib/native/index.js";
import { AdamW, lossAndGrads } from "../lib/train/index.js";
import { Rng } from "../lib/util/random.js";

await useBackend("cpu");
const status = nativeStatus();
if (!status.loaded) console.warn(`native GPT step test skipped: ${status.reason}`);
const describeNative = status.loaded || process.env.COURSE_REQUIRE_NATIVE === "1" ? describe : describe.skip;

const config = { vocabSize: 65, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32, dropout: 0, bias: true };
const batchSize = 4;

function batch(seed: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const rng = new Rng(seed);
  const ids = Int32Array.from({ length: batchSize * (config.blockSize + 1) }, () => rng.randint(0, config.vocabSize));
  const n = batchSize * config.blockSize;
  return {
    x: tf.tensor2d(ids.subarray(0, n), [batchSize, config.blockSize], "int32"),
    y: tf.tensor2d(ids.subarray(1, n + 1), [batchSize, config.blockSize], "int32"),
  };
}

/** Losses of `steps` AdamW steps from the same initial weights, the final weights, and the tensor counts after each step. */
function train(native: boolean, steps: number, dropout = 0, bias = config.bias) {
  setNativeKernelsEnabled(native);
  try {
    const model = new GPT({ ...config, dropout, bias }, { seed: 1337 });
    const rng = new Rng(5); // dropout's seeds: the same sequence on both paths
    const optimizer = new AdamW(model.params, { learningRate: 3e-3, weightDecay: 0.1 });
    const { x, y } = batch(1);
    const losses: number[] = [];
    const tensorCounts: number[] = [];
    for (let s = 0; s < steps; s++) {
      const { loss, grads } = lossAndGrads(model, x, y, { training: dropout > 0 || !bias, rng });
      optimizer.step(grads);
      losses.push(loss.dataSync()[0]);
      tf.dispose([loss, ...Object.values(grads)]);
      tensorCounts.push(tf.memory().numTensors);
    }
    const weights = Object.fromEntries(Object.entries(model.params).map(([k, v]) => [k, Float32Array.from(v.dataSync())]));
    model.dispose();
    optimizer.dispose();
    tf.dispose([x, y]);
    return { losses, weights, tensorCounts };
  } finally {
    setNativeKernelsEnabled(true);
  }
}

/** The native run's losses and weights are the stock run's within 1e-4. */
function expectSameTraining(native: ReturnType<typeof train>, stock: ReturnType<typeof train>): void {
  native.losses.forEach((loss, i) => expect(Math.abs(loss - stock.losses[i]), `step ${i}: ${loss} vs ${stock.losses[i]}`).toBeLessThan(1e-4));
  for (const [name, values] of Object.entries(stock.weights)) {
    const mine = native.weights[name];
    let worst = 0;
    for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(mine[i] - values[i]));
    expect(worst, name).toBeLessThan(1e-4);
  }
}

describeNative("GPT train step with native kernels", () => {
  it("matches the stock kernels' losses and weights, and keeps the tensor count flat", () => {
    resetNativeKernelStats();
    const native = train(true, 4);
    const stats = nativeKernelStats();
    // Softmax no longer runs on its own: the model's attention is the fused native kernel.
    for (const kernel of ["BatchMatMul", "_FusedMatMul", "Add", "Multiply", "Transpose"]) {
      expect(stats[kernel]?.native ?? 0, `${kernel} ran natively`).toBeGreaterThan(0);
    }
    const stock = train(false, 4);
    // Sanity: training moves the loss, so equal losses are not equal by accident.
    expect(stock.losses[0] - stock.losses[3]).toBeGreaterThan(0.05);
    expectSameTraining(native, stock);
    expect(new Set(native.tensorCounts.slice(1)).size, `tensor counts ${native.tensorCounts}`).toBe(1);
  });

  it("with dropout (the fused attention drops the weights the composite form drops) matches the stock kernels", () => {
    resetNativeKernelStats();
    const native = train(true, 3, 0.2);
    expect(nativeKernelStats().Softmax?.native ?? 0, "the composite attention's softmax ran").toBe(0);
    const stock = train(false, 3, 0.2);
    const undropped = train(false, 3);
    const moved = Math.max(...Object.entries(undropped.weights).map(([name, w]) => Math.max(...w.map((v, i) => Math.abs(v - stock.weights[name][i])))));
    expect(moved, "dropout changes the weights").toBeGreaterThan(1e-3);
    expectSameTraining(native, stock);
  });

  it.each([0, 0.2])("bias-free blocks in training run as one native op each, and match the stock kernels (dropout %f)", (dropout) => {
    const addon = nativeAddon()!;
    const original = addon.block;
    let calls = 0;
    addon.block = (...args) => {
      calls++;
      return original(...args);
    };
    let native: ReturnType<typeof train> | undefined;
    try {
      native = train(true, 3, dropout, false);
    } finally {
      addon.block = original;
    }
    expect(calls, "native block ops").toBe(3 * config.nLayer);
    const stock = train(false, 3, dropout, false);
    expectSameTraining(native!, stock);
    expect(new Set(native!.tensorCounts.slice(1)).size, `tensor counts ${native!.tensorCounts}`).toBe(1);
  });
});
