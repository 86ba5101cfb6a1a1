// The built-in sweep tasks: teacher–student toys and the char-level GPT, through their RunTask API.
import { beforeAll, describe, expect, it } from "vitest";
import { charGPT, countGPTParams, teacherClassification, teacherRegression } from "../lib/scaling/index.js";
import { tf, useBackend } from "../lib/engine/index.js";

const context = (seed: number) => ({ seed, id: "test", progress: () => {} });

beforeAll(async () => {
  await useBackend("cpu");
});

describe("teacher–student tasks", () => {
  it("regression: wider students reach lower test MSE; same seed, same numbers; no tensors left", async () => {
    const before = tf.memory().numTensors;
    const narrow = await teacherRegression({ width: 4, steps: 200 }, context(0));
    const wide = await teacherRegression({ width: 64, steps: 200 }, context(0));
    expect(tf.memory().numTensors).toBe(before);
    expect(wide.finalLoss).toBeLessThan(narrow.finalLoss);
    expect(narrow.finalLoss).toBeLessThan(narrow.curve[0].loss);
    expect(narrow.params).toBe(4 * (8 + 1) + (4 + 1)); // 8 inputs → 4 tanh units → 1 output
    expect(narrow.tokens).toBe(200 * 64);
    expect(narrow.flops).toBe(6 * narrow.params * narrow.tokens);
    const again = await teacherRegression({ width: 4, steps: 200 }, context(0));
    expect(again.finalLoss).toBe(narrow.finalLoss);
    const other = await teacherRegression({ width: 4, steps: 200 }, context(1));
    expect(other.finalLoss).not.toBe(narrow.finalLoss);
  }, 60_000);

  it("classification: cross-entropy falls below chance (ln 8) and the curve is recorded", async () => {
    const result = await teacherClassification({ width: 32, steps: 200 }, context(0));
    expect(result.curve[0].loss).toBeGreaterThan(1.5);
    expect(result.finalLoss).toBeLessThan(Math.log(8) * 0.6);
    expect(result.bestLoss).toBeLessThanOrEqual(result.finalLoss);
    expect(result.curve.length).toBe(11);
  }, 60_000);

  it("names a bad config value", async () => {
    await expect(teacherRegression({ width: -1 }, context(0))).rejects.toThrow(/config\.width must be a positive number, got -1/);
  });
});

describe("char-level GPT task", () => {
  it("trains a tiny GPT through the Trainer: nanoGPT's parameter count, tokens, both FLOP counts, no tensors left", async () => {
    const before = tf.memory().numTensors;
    const config = { nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 32, batchSize: 4, maxIters: 8, evalIters: 2, evals: 2 };
    const result = await charGPT(config, context(0));
    expect(tf.memory().numTensors).toBe(before);
    const counts = countGPTParams({ vocabSize: 65, blockSize: 32, nLayer: 1, nHead: 2, nEmbd: 32, dropout: 0, bias: false });
    expect(result.params).toBe(counts.nanogpt);
    expect(result.nonEmbeddingParams).toBe(counts.nonEmbedding);
    expect(result.tokens).toBe(8 * 4 * 32);
    expect(result.flops).toBe(6 * counts.nanogpt * 8 * 4 * 32);
    expect(result.flopsExact).toBeGreaterThan(result.flops); // attention and the 65-way logits on top of 6·N·D at this size
    expect(result.curve.map((p) => p.step)).toEqual([0, 4, 8]);
    expect(result.finalLoss).toBeGreaterThan(2);
    expect(result.finalLoss).toBeLessThan(Math.log(65) + 0.3);
  }, 60_000);
});
