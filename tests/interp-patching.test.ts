// lib/interp's activation patching and linear probes: patching clean into clean leaves the clean
// metric in every cell, patching the last residual gives it back, one cell equals a hand-hooked
// run; a probe finds a planted linear feature.
import { beforeAll, describe, expect, it } from "vitest";
import { tf, useBackend } from "../lib/engine/index.js";
import { GPT, type GPTConfig } from "../lib/models/gpt/index.js";
import { HookedGPT, logitDiff, patchAttnHeads, patchAttnHeadsByPos, patchMlp, patchMlpByPos, patchResidual, probeLayers, trainProbe } from "../lib/interp/index.js";
import { Rng } from "../lib/util/random.js";

const config: GPTConfig = { vocabSize: 13, blockSize: 6, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true, activation: "gelu_tanh" };

function randomModel(seed: number): GPT {
  const model = new GPT(config, { seed });
  for (const v of Object.values(model.params)) if (v.rank === 2) tf.tidy(() => v.assign(tf.mul(v, 15)));
  return model;
}

beforeAll(async () => {
  await useBackend("cpu");
});

describe("activation patching", () => {
  const clean = [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]];
  const corrupted = [[1, 2, 11, 4, 5], [6, 12, 8, 9, 10]];
  const metric = logitDiff([3, 4], [5, 6]);

  it("clean into clean gives the clean metric in every cell, for every kind of patch", async () => {
    const lens = new HookedGPT(randomModel(1));
    const { logits, cache } = lens.runWithCache(clean);
    const cleanMetric = await metric(logits);
    const base = tf.memory().numTensors;
    const options = { corrupted: clean, clean: cache, metric };
    const grids = [
      await patchResidual(lens, options),
      await patchResidual(lens, options, "resid_mid"),
      await patchMlp(lens, options),
      await patchMlpByPos(lens, options),
      await patchAttnHeads(lens, options),
      await patchAttnHeadsByPos(lens, options),
    ];
    expect(grids.map((g) => g.shape)).toEqual([[2, 5], [2, 5], [2], [2, 5], [2, 2], [2, 5, 2]]);
    for (const g of grids) for (const v of g.dataSync()) expect(v).toBeCloseTo(cleanMetric, 5);
    expect(tf.memory().numTensors).toBe(base + grids.length);
    tf.dispose([...grids, logits]);
    cache.dispose();
  });

  it("patching the last layer's residual restores the clean metric; a cell equals a hand-hooked run", async () => {
    const model = randomModel(2);
    const lens = new HookedGPT(model);
    const { logits, cache } = lens.runWithCache(clean);
    const cleanMetric = await metric(logits);
    const corruptedLogits = lens.runWithHooks(corrupted);
    const corruptedMetric = await metric(corruptedLogits);
    expect(Math.abs(cleanMetric - corruptedMetric)).toBeGreaterThan(0.1);
    // The whole residual at the last layer, every position: what follows sees only clean values.
    const whole = lens.runWithHooks(corrupted, { fwdHooks: [["blocks.1.hook_resid_post", () => cache.get("resid_post", 1)]] });
    expect(await metric(whole)).toBeCloseTo(cleanMetric, 5);
    const grid = (await patchResidual(lens, { corrupted, clean: cache, metric }, "resid_post")).arraySync() as number[][];
    // The last position at the last layer: only ln_final and the unembedding follow, position-wise.
    expect(grid[1][4]).toBeCloseTo(cleanMetric, 5);
    // Patching layer 0 at position 2, where the rows differ, by hand.
    const byHand = lens.runWithHooks(corrupted, {
      fwdHooks: [["blocks.0.hook_resid_post", (x) => tf.concat([tf.slice(x, [0, 0, 0], [2, 2, 16]), tf.slice(cache.get("resid_post", 0), [0, 2, 0], [2, 1, 16]), tf.slice(x, [0, 3, 0], [2, 2, 16])], 1)]],
    });
    expect(grid[0][2]).toBeCloseTo(await metric(byHand), 5);
    expect(Math.abs(grid[0][2] - corruptedMetric)).toBeGreaterThan(1e-3);
    // Position 0 is the same in both prompts, and causal attention keeps it so: patching it changes nothing.
    expect(grid[0][0]).toBeCloseTo(corruptedMetric, 5);
    tf.dispose([logits, corruptedLogits, whole, byHand]);
    cache.dispose();
    model.dispose();
  });

  it("refuses a cache made with a posSlice, in one line", async () => {
    const lens = new HookedGPT(randomModel(3));
    const { logits, cache } = lens.runWithCache(clean, { posSlice: -1 });
    await expect(patchResidual(lens, { corrupted, clean: cache, metric })).rejects.toThrow(/posSlice/);
    logits.dispose();
    cache.dispose();
  });
});

describe("linear probes", () => {
  it("find a planted linear feature (≥ 99 % held out) and its direction", async () => {
    const rng = new Rng(5);
    const [N, C] = [600, 16];
    const u = Array.from({ length: C }, () => rng.normal());
    const norm = Math.hypot(...u);
    const rows = Array.from({ length: N }, () => Array.from({ length: C }, () => rng.normal()));
    const labels = rows.map((r) => (r.reduce((s, x, i) => s + x * u[i], 0) > 0 ? 1 : 0));
    const features = tf.tensor2d(rows);
    const base = tf.memory().numTensors;
    const probe = await trainProbe(features, labels, { steps: 800, learningRate: 0.1, weightDecay: 1e-5 });
    console.log(`planted-feature probe: held-out accuracy ${probe.testAccuracy} on ${probe.testSize}, train ${probe.trainAccuracy}`);
    expect(probe.testAccuracy).toBeGreaterThanOrEqual(0.99);
    const cosine = probe.direction.reduce((s, x, i) => s + (x * u[i]) / norm, 0);
    expect(cosine).toBeGreaterThan(0.95);
    probe.dispose();
    expect(tf.memory().numTensors).toBe(base);
    // Labels with no linear relation to the features: held-out accuracy near chance (the check can fail).
    const noise = await trainProbe(features, labels.map(() => (rng.random() < 0.5 ? 1 : 0)), { steps: 100 });
    expect(noise.testAccuracy).toBeLessThan(0.7);
    noise.dispose();
    features.dispose();
  });

  it("probeLayers reads each layer of a cache: the last token is readable from resid_pre", async () => {
    const lens = new HookedGPT(randomModel(6));
    const rng = new Rng(7);
    const tokens = Array.from({ length: 120 }, () => Array.from({ length: 4 }, () => rng.randint(0, 3)));
    const { logits, cache } = lens.runWithCache(tokens, { namesFilter: (n) => n.endsWith("hook_resid_pre") });
    const probes = await probeLayers(cache, tokens.map((t) => t[3]), { name: "resid_pre", position: -1, steps: 200 });
    expect(probes).toHaveLength(2);
    expect(probes[0].classes).toBe(3);
    expect(probes[0].testAccuracy).toBe(1);
    for (const p of probes) p.dispose();
    logits.dispose();
    cache.dispose();
  });
});
