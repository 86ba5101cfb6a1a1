// Sampling: the next-token distribution (temperature, top-k, top-p) by hand, greedy decoding
// against a manual argmax loop, seeding, streaming, early stop and context cropping.
import { beforeAll, describe, expect, it } from "vitest";
import { tf, useBackend } from "../lib/engine/index.js";
import { GPT } from "../lib/models/gpt/index.js";
import { generate, nextTokenProbabilities, sampleToken } from "../lib/sample/index.js";
import { Rng } from "../lib/util/random.js";

const tiny = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true };

function softmax(values: number[]): number[] {
  const max = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

function expectClose(actual: ArrayLike<number>, expected: number[], digits = 12): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(actual[i]).toBeCloseTo(e, digits));
}

beforeAll(async () => {
  await useBackend("cpu");
});

describe("next-token distribution", () => {
  const logits = [2, 1, 0.5, 0, -1];

  it("temperature divides the logits; 0 is greedy", () => {
    expectClose(nextTokenProbabilities(logits), softmax(logits));
    expectClose(nextTokenProbabilities(logits, { temperature: 0.5 }), softmax(logits.map((l) => l / 0.5)));
    expectClose(nextTokenProbabilities(logits, { temperature: 0 }), [1, 0, 0, 0, 0]);
  });

  it("top-k keeps the k largest (and ties with the k-th)", () => {
    expectClose(nextTokenProbabilities(logits, { topK: 2 }), [...softmax([2, 1]), 0, 0, 0]);
    expectClose(nextTokenProbabilities([3, 1, 1, 0], { topK: 2 }), [...softmax([3, 1, 1]), 0]);
  });

  it("top-p keeps the smallest most-likely set reaching p", () => {
    const p = softmax(logits); // ≈ [0.563, 0.207, 0.126, 0.076, 0.028]; cumulative 0.563, 0.770, 0.896, …
    expectClose(nextTokenProbabilities(logits, { topP: 0.5 }), [1, 0, 0, 0, 0]);
    const keep2 = p[0] + p[1];
    expectClose(nextTokenProbabilities(logits, { topP: 0.75 }), [p[0] / keep2, p[1] / keep2, 0, 0, 0]);
    const keep3 = keep2 + p[2];
    expectClose(nextTokenProbabilities(logits, { topP: 0.8 }), [p[0] / keep3, p[1] / keep3, p[2] / keep3, 0, 0]);
    expectClose(nextTokenProbabilities(logits, { topP: 1 }), p);
  });

  it("sampleToken draws with those probabilities", () => {
    const rng = new Rng(1);
    const counts = [0, 0, 0, 0, 0];
    const n = 20000;
    for (let i = 0; i < n; i++) counts[sampleToken(logits, { temperature: 0.8, topK: 4 }, rng)]++;
    const expected = nextTokenProbabilities(logits, { temperature: 0.8, topK: 4 });
    counts.forEach((c, i) => expect(Math.abs(c / n - expected[i])).toBeLessThan(0.01));
    expect(counts[4]).toBe(0);
  });
});

describe("generate", () => {
  it("with temperature 0 follows the argmax of the model's logits", async () => {
    const model = new GPT(tiny, { seed: 3 });
    const prompt = [1, 2, 3];
    const out = await generate(model, prompt, { maxNewTokens: 10, temperature: 0 });
    const manual = [...prompt];
    for (let i = 0; i < 10; i++) {
      const context = manual.slice(-tiny.blockSize);
      const logits = tf.tidy(() => model.forward(tf.tensor2d([context], [1, context.length], "int32")).logits.arraySync()[0]);
      const last = logits[logits.length - 1];
      manual.push(last.indexOf(Math.max(...last)));
    }
    expect(out).toEqual(manual);
    expect(out.length).toBe(13); // longer than blockSize: the context was cropped
    expect(await generate(model, prompt, { maxNewTokens: 10, topK: 1 })).toEqual(manual);
    model.dispose();
  });

  it("is reproducible by seed, streams every token, stops on request, and leaks no tensors", async () => {
    const model = new GPT(tiny, { seed: 4 });
    const before = tf.memory().numTensors;
    const a = await generate(model, [0], { maxNewTokens: 20, seed: 7 });
    const streamed: number[] = [];
    const b = await generate(model, [0], { maxNewTokens: 20, seed: 7, onToken: (t, i) => void streamed.push(t, i) });
    const c = await generate(model, [0], { maxNewTokens: 20, seed: 8 });
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(streamed).toEqual(a.slice(1).flatMap((t, i) => [t, i]));
    const stopped = await generate(model, [0], { maxNewTokens: 20, seed: 7, onToken: (_, i) => i < 4 });
    expect(stopped).toEqual(a.slice(0, 6));
    expect(tf.memory().numTensors).toBe(before);
    await expect(generate(model, [], { maxNewTokens: 1 })).rejects.toThrow(/at least one token/);
    model.dispose();
  });
});
