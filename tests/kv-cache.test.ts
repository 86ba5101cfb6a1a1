// The KV cache and batched generation. The reference is the uncached forward (itself checked
// against PyTorch in gpt.test.ts): cached logits must match it position by position, greedy
// sampling must pick the same tokens, and a batch must give what each prompt gives alone.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tf, useBackend } from "../lib/engine/index.js";
import { GPT, KVCache, type GPTConfig } from "../lib/models/gpt/index.js";
import { nativeStatus, setNativeKernelsEnabled } from "../lib/native/index.js";
import { generate, generateBatch } from "../lib/sample/index.js";

const long: GPTConfig = { vocabSize: 37, blockSize: 300, nLayer: 2, nHead: 4, nEmbd: 32, dropout: 0, bias: true };
const short: GPTConfig = { ...long, blockSize: 24 };

/**
 * A random model whose attention is far from uniform: GPT's 0.02 initialisation makes every score
 * nearly equal, so a cache that mixed up positions or heads could still give the same argmax.
 */
function sharpModel(config: GPTConfig, seed: number): GPT {
  const model = new GPT(config, { seed });
  for (const v of Object.values(model.params)) if (v.rank === 2) v.assign(tf.tidy(() => tf.mul(v, 6)));
  return model;
}

function randomTokens(n: number, vocabSize: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => (s = (s * 1103515245 + 12345) % 2 ** 31) % vocabSize);
}

/** Logits of every position of tokens, from the uncached forward. */
function fullLogits(model: GPT, tokens: number[][]): number[][][] {
  return tf.tidy(() => model.forward(tf.tensor2d(tokens, undefined, "int32")).logits.arraySync());
}

function maxAbsDiff(a: number[], b: number[]): number {
  return Math.max(...a.map((x, i) => Math.abs(x - b[i])));
}

beforeAll(async () => {
  await useBackend("cpu");
});

afterAll(() => setNativeKernelsEnabled(true));

// Native kernels (the fused attention runs for the prompt) and the composite ops everywhere.
describe.each([true, false])("the cache (native kernels %s)", (native) => {
  beforeAll(() => setNativeKernelsEnabled(native));

  it("gives each position the uncached forward's logits: a prompt, then one token at a time, then a chunk", () => {
    if (native && !nativeStatus().loaded) return; // the native build is checked in native-build.test.ts
    const model = sharpModel(long, 5);
    const tokens = [randomTokens(40, long.vocabSize, 1), randomTokens(40, long.vocabSize, 2)];
    const reference = fullLogits(model, tokens);
    const cache = new KVCache(model.config);
    const feed = (from: number, to: number) =>
      tf.tidy(() => model.forward(tf.tensor2d(tokens.map((t) => t.slice(from, to)), undefined, "int32"), undefined, { cache }).logits.arraySync());
    const pieces = [feed(0, 7)];
    for (let t = 7; t < 30; t++) pieces.push(feed(t, t + 1));
    pieces.push(feed(30, 40));
    expect(cache.length).toBe(40);
    expect(cache.batchSize).toBe(2);
    let worst = 0;
    for (let b = 0; b < 2; b++) {
      const cached = pieces.flatMap((piece) => piece[b]);
      expect(cached.length).toBe(40);
      cached.forEach((row, t) => (worst = Math.max(worst, maxAbsDiff(row, reference[b][t]))));
    }
    expect(worst).toBeLessThan(1e-4);
    // The prompt's logits, computed before anything was cached, are the uncached forward's exactly.
    expect(pieces[0]).toEqual(fullLogits(model, tokens.map((t) => t.slice(0, 7))));
    cache.dispose();
    model.dispose();
  });

  // 256 tokens where the native kernels run; the stock JS kernels take half a minute for that, so fewer.
  const n = native ? 256 : 64;
  it(`greedy sampling picks the same ${n} tokens with and without it`, async () => {
    if (native && !nativeStatus().loaded) return;
    const model = sharpModel(long, 7);
    const prompt = randomTokens(12, long.vocabSize, 3);
    const cached = await generate(model, prompt, { maxNewTokens: n, temperature: 0 });
    const uncached = await generate(model, prompt, { maxNewTokens: n, temperature: 0, useCache: false });
    expect(cached.length).toBe(12 + n);
    expect(cached).toEqual(uncached);
    expect(new Set(cached.slice(12)).size).toBeGreaterThan(5); // not one token repeated: the test has teeth
    model.dispose();
  });
});

describe("generate with the cache", () => {
  it("feeds the prompt once, then one token per step; past blockSize the cropped context whole", async () => {
    const model = sharpModel(short, 11);
    const fed: number[][] = [];
    const forward = model.forward.bind(model);
    model.forward = (idx, targets, options) => (fed.push(idx.shape), forward(idx, targets, options));
    const prompt = randomTokens(5, short.vocabSize, 4);
    const cached = await generate(model, prompt, { maxNewTokens: 40, temperature: 0 });
    // Steps 0–19 see contexts of 5 to 24 = blockSize tokens: fed from the cache. From step 20 on
    // the context (25 and more) is cropped to its last 24 and run whole.
    expect(fed).toEqual([[1, 5], ...Array(19).fill([1, 1]), ...Array(20).fill([1, 24])]);
    fed.length = 0;
    const uncached = await generate(model, prompt, { maxNewTokens: 40, temperature: 0, useCache: false });
    expect(fed).toEqual(Array.from({ length: 40 }, (_, i) => [1, Math.min(5 + i, 24)]));
    expect(cached).toEqual(uncached); // crossing blockSize changes nothing
    model.dispose();
  });

  it("a prompt longer than blockSize is cropped, as without the cache", async () => {
    const model = sharpModel(short, 12);
    const prompt = randomTokens(30, short.vocabSize, 5);
    const options = { maxNewTokens: 6, temperature: 0 };
    expect(await generate(model, prompt, options)).toEqual(await generate(model, prompt, { ...options, useCache: false }));
    model.dispose();
  });

  it("leaks no tensors: batches, stop tokens, crossing blockSize, an early stop", async () => {
    const model = sharpModel(short, 13);
    const before = tf.memory().numTensors;
    const prompts = [randomTokens(3, 37, 6), randomTokens(3, 37, 7), randomTokens(4, 37, 8)];
    await generateBatch(model, prompts, { maxNewTokens: 30, seed: 1, stopTokens: [3, 4] });
    await generateBatch(model, prompts, { maxNewTokens: 30, seed: 1, onToken: (_, i) => i < 10 });
    await generate(model, prompts[0], { maxNewTokens: 30, seed: 2 });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe("generateBatch", () => {
  it("gives each prompt what generate gives it alone (greedy), lengths mixed, cache on and off", async () => {
    const model = sharpModel(short, 17);
    const prompts = [randomTokens(4, 37, 9), randomTokens(4, 37, 10), randomTokens(7, 37, 11), randomTokens(4, 37, 12)];
    const alone = [];
    for (const p of prompts) alone.push(await generate(model, p, { maxNewTokens: 30, temperature: 0, useCache: false }));
    expect(await generateBatch(model, prompts, { maxNewTokens: 30, temperature: 0 })).toEqual(alone);
    expect(await generateBatch(model, prompts, { maxNewTokens: 30, temperature: 0, useCache: false })).toEqual(alone);
    model.dispose();
  });

  it("ends a sequence at its stop token while the others go on unchanged", async () => {
    const model = sharpModel(long, 19);
    const prompts = [randomTokens(6, 37, 13), randomTokens(6, 37, 14), randomTokens(6, 37, 15)];
    const options = { maxNewTokens: 40, temperature: 0 };
    const free = await generateBatch(model, prompts, options);
    // A stop token that the first sequence emits early and the others later or never.
    const stopToken = free[0][9];
    const expected = free.map((s) => {
      const at = s.indexOf(stopToken, 6);
      return at < 0 ? s : s.slice(0, at + 1);
    });
    expect(expected[0].length).toBeLessThanOrEqual(10);
    expect(expected.some((s) => s.length === 46)).toBe(true); // one sequence never stops
    const streamed: number[][] = [[], [], []];
    const stopped = await generateBatch(model, prompts, { ...options, stopTokens: [stopToken], onToken: (t, i, s) => void streamed[s].push(t, i) });
    expect(stopped).toEqual(expected);
    expect(streamed).toEqual(expected.map((s) => s.slice(6).flatMap((t, i) => [t, i])));
    model.dispose();
  });

  it("onToken returning false ends only that sequence", async () => {
    const model = sharpModel(short, 23);
    const prompts = [randomTokens(3, 37, 16), randomTokens(3, 37, 17)];
    const free = await generateBatch(model, prompts, { maxNewTokens: 12, seed: 5 });
    const cut = await generateBatch(model, prompts, { maxNewTokens: 12, seed: 5, onToken: (_, i, s) => s === 1 || i < 2 });
    expect(cut[0]).toEqual(free[0].slice(0, 6));
    expect(cut[1].length).toBe(15);
    model.dispose();
  });

  it("sampling is reproducible by seed, and the seed matters", async () => {
    const model = sharpModel(short, 29);
    const prompts = Array(4).fill(randomTokens(3, 37, 18));
    const a = await generateBatch(model, prompts, { maxNewTokens: 20, seed: 3, topK: 10 });
    expect(await generateBatch(model, prompts, { maxNewTokens: 20, seed: 3, topK: 10 })).toEqual(a);
    expect(await generateBatch(model, prompts, { maxNewTokens: 20, seed: 4, topK: 10 })).not.toEqual(a);
    expect(new Set(a.map((s) => s.join())).size).toBeGreaterThan(1); // one prompt, different samples
    model.dispose();
  });
});

describe("bad input", () => {
  it("one clear error each", async () => {
    const model = new GPT(short, { seed: 1 });
    const cache = new KVCache(model.config);
    const ids = (b: number, t: number) => tf.zeros([b, t], "int32") as tf.Tensor2D;
    tf.tidy(() => void model.forward(ids(2, 20), undefined, { cache }));
    expect(() => tf.tidy(() => void model.forward(ids(2, 5), undefined, { cache }))).toThrow("KVCache: 20 cached positions + 5 new exceed blockSize 24");
    expect(() => tf.tidy(() => void model.forward(ids(3, 1), undefined, { cache }))).toThrow("KVCache: holds 2 sequences, the input has 3");
    expect(() => tf.tidy(() => void model.forward(ids(2, 1), undefined, { cache, training: true }))).toThrow("a KVCache is for sampling, not training");
    const other = new GPT({ ...short, nLayer: 3 }, { seed: 1 });
    expect(() => tf.tidy(() => void other.forward(ids(2, 1), undefined, { cache }))).toThrow(/made for 2 layers/);
    cache.dispose();
    await expect(generate(model, [1, 37], { maxNewTokens: 1 })).rejects.toThrow("generate: the prompt has 37 at 1, not a token id (0 to 36)");
    await expect(generateBatch(model, [[1], []], { maxNewTokens: 1 })).rejects.toThrow("generateBatch: prompt 1 needs at least one token");
    model.dispose();
    other.dispose();
  });
});

describe("on the wasm backend (composite ops, XNNPACK matmuls)", () => {
  beforeAll(async () => {
    await useBackend("wasm");
  });
  afterAll(async () => {
    await useBackend("cpu");
  });

  it("cached logits match the uncached forward, greedy tokens agree, nothing leaks", async () => {
    const model = sharpModel(short, 31);
    const tokens = [randomTokens(20, 37, 19)];
    const reference = fullLogits(model, tokens);
    const cache = new KVCache(model.config);
    const rows: number[][] = tf.tidy(() => model.forward(tf.tensor2d([tokens[0].slice(0, 4)], undefined, "int32"), undefined, { cache }).logits.arraySync()[0]);
    for (let t = 4; t < 20; t++) {
      rows.push(tf.tidy(() => model.forward(tf.tensor2d([[tokens[0][t]]], undefined, "int32"), undefined, { cache }).logits.arraySync()[0][0]));
    }
    cache.dispose();
    expect(Math.max(...rows.map((row, t) => maxAbsDiff(row, reference[0][t])))).toBeLessThan(1e-4);
    const before = tf.memory().numTensors;
    const options = { maxNewTokens: 30, temperature: 0 };
    expect(await generate(model, tokens[0].slice(0, 3), options)).toEqual(await generate(model, tokens[0].slice(0, 3), { ...options, useCache: false }));
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
