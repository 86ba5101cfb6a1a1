// lib/interp's HookedGPT and ActivationCache: TransformerLens's names and shapes, every hook point
// against an independent PyTorch reference (tests/reference/interp_reference.py, float64), the
// cache's residual-stream views against the model's own logits, and hooks/tensors cleaned up.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tf, useBackend } from "../lib/engine/index.js";
import { loadSafetensors, saveSafetensors } from "../lib/io/index.js";
import { GPT, saveGPT, type GPTConfig } from "../lib/models/gpt/index.js";
import { HookedGPT, MASKED_SCORE, getActName, hookNames } from "../lib/interp/index.js";
import { Rng } from "../lib/util/random.js";

const PYTHON = "/usr/bin/python3";
const hasTorch = spawnSync(PYTHON, ["-c", "import torch"]).status === 0;
if (!hasTorch) console.warn(`SKIPPING PyTorch interp parity: ${PYTHON} cannot import torch (apt-get install python3-torch)`);

/** GPT-2's layout (biases, tanh GELU) at a toy size. */
const gpt2Layout: GPTConfig = { vocabSize: 23, blockSize: 8, nLayer: 2, nHead: 4, nEmbd: 32, dropout: 0, bias: true, activation: "gelu_tanh" };

/** The same, attention-only (TransformerLens's attn_only). */
const attnOnlyLayout: GPTConfig = { ...gpt2Layout, attnOnly: true };

/** Weights large enough that patterns are far from uniform and the GELU's curvature matters; non-trivial LayerNorm gains and biases. */
function randomModel(config: Partial<GPTConfig>, seed: number): GPT {
  const model = new GPT(config, { seed });
  const rng = new Rng(seed + 1);
  for (const v of Object.values(model.params)) {
    const noise = Float32Array.from({ length: v.size }, () => rng.normal());
    tf.tidy(() => v.assign(v.rank === 1 ? tf.add(v, tf.mul(tf.tensor(noise, v.shape), 0.2)) : tf.mul(v, 12)));
  }
  return model;
}

function randomTokens(B: number, T: number, vocab: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: B }, () => Array.from({ length: T }, () => rng.randint(0, vocab)));
}

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

beforeAll(async () => {
  await useBackend("cpu");
});

describe("getActName", () => {
  it("matches TransformerLens's docstring examples and the issue's", () => {
    expect(getActName("k", 6, "a")).toBe("blocks.6.attn.hook_k");
    expect(getActName("pre", 2)).toBe("blocks.2.mlp.hook_pre");
    expect(getActName("embed")).toBe("hook_embed");
    expect(getActName("normalized", 27, "ln2")).toBe("blocks.27.ln2.hook_normalized");
    expect(getActName("k6")).toBe("blocks.6.attn.hook_k");
    expect(getActName("scale4ln1")).toBe("blocks.4.ln1.hook_scale");
    expect(getActName("pre5")).toBe("blocks.5.mlp.hook_pre");
    expect(getActName("pattern", 0)).toBe("blocks.0.attn.hook_pattern");
    expect(getActName("resid_pre", 3)).toBe("blocks.3.hook_resid_pre");
    expect(getActName("q", 6, "a")).toBe("blocks.6.attn.hook_q");
  });

  it("expands aliases, the final LayerNorm, and leaves full names alone", () => {
    expect(getActName("attn", 1)).toBe("blocks.1.attn.hook_pattern");
    expect(getActName("attn_logits", 1)).toBe("blocks.1.attn.hook_attn_scores");
    expect(getActName("scale")).toBe("ln_final.hook_scale");
    expect(getActName("attn_out", 0)).toBe("blocks.0.hook_attn_out");
    expect(getActName("blocks.3.hook_resid_post")).toBe("blocks.3.hook_resid_post");
  });
});

describe("HookedGPT", () => {
  it("caches TransformerLens's 208 names for GPT-2 small's 12 layers, in firing order", () => {
    expect(hookNames(12)).toHaveLength(208);
    expect(new Set(hookNames(12)).size).toBe(208);
    const model = new GPT({ vocabSize: 7, blockSize: 4, nLayer: 12, nHead: 12, nEmbd: 24, dropout: 0, bias: true });
    const lens = new HookedGPT(model);
    const { logits, cache } = lens.runWithCache([[1, 2, 3]]);
    expect(cache.names).toEqual(hookNames(12));
    expect(cache.names.slice(0, 5)).toEqual(["hook_embed", "hook_pos_embed", "blocks.0.hook_resid_pre", "blocks.0.ln1.hook_scale", "blocks.0.ln1.hook_normalized"]);
    expect(cache.names.at(-1)).toBe("ln_final.hook_normalized");
    expect(cache.names.filter((n) => n.includes("hook_result"))).toEqual([]);
    cache.dispose();
    logits.dispose();
    model.dispose();
  });

  it("gives the plain model's logits; an identity hook on every point changes no bit", () => {
    const model = randomModel(gpt2Layout, 3);
    const lens = new HookedGPT(model);
    const tokens = randomTokens(3, 8, gpt2Layout.vocabSize, 4);
    const idx = tf.tensor2d(tokens, undefined, "int32");
    const plain = model.forward(idx).logits;
    const viaLens = lens.runWithHooks(idx);
    const composite = lens.runWithHooks(tokens, { composite: true });
    const seen: string[] = [];
    const identity = lens.runWithHooks(tokens, { fwdHooks: [[() => true, (x, hook) => {
      seen.push(hook.name);
      return x;
    }]] });
    expect(seen).toEqual(hookNames(2));
    expect(maxDiff(viaLens, plain)).toBe(0); // no hooks: the model's own forward
    const measured = maxDiff(composite, plain);
    console.log(`hooked composite vs model.forward: max |Δlogit| ${measured.toExponential(2)}`);
    expect(measured).toBeLessThan(1e-5);
    expect(Array.from(identity.dataSync())).toEqual(Array.from(composite.dataSync()));
    tf.dispose([idx, plain, viaLens, composite, identity]);
    model.dispose();
  });

  it("on wasm too: the composite path matches model.forward and the decomposition sums", async () => {
    await useBackend("wasm");
    try {
      const model = randomModel(gpt2Layout, 17);
      const lens = new HookedGPT(model);
      const tokens = randomTokens(2, 8, gpt2Layout.vocabSize, 18);
      const idx = tf.tensor2d(tokens, undefined, "int32");
      const plain = model.forward(idx).logits;
      const { logits, cache } = lens.runWithCache(tokens);
      expect(maxDiff(logits, plain)).toBeLessThan(1e-5);
      const { stack } = cache.decomposeResid();
      const summed = tf.sum(stack, 0);
      expect(maxDiff(summed, cache.get("resid_post", 1))).toBeLessThan(1e-4);
      tf.dispose([idx, plain, logits, stack, summed]);
      cache.dispose();
      model.dispose();
    } finally {
      await useBackend("cpu");
    }
  });

  for (const [label, layout] of [["GPT-2's layout", gpt2Layout], ["attention-only", attnOnlyLayout]] as const) it.skipIf(!hasTorch)(`every hook point equals the PyTorch reference within 1e-5 (${label})`, () => {
    const dir = mkdtempSync(join(tmpdir(), "interp-ref-"));
    const model = randomModel(layout, 11);
    const tokens = randomTokens(2, 7, gpt2Layout.vocabSize, 12);
    return saveGPT(model, join(dir, "weights.safetensors")).then(() => {
      saveSafetensors(join(dir, "tokens.safetensors"), { tokens: { dtype: "I32", shape: [2, 7], data: Int32Array.from(tokens.flat()) } });
      const run = spawnSync(PYTHON, ["tests/reference/interp_reference.py", ...["weights", "tokens", "out"].map((f) => join(dir, `${f}.safetensors`))], { encoding: "utf8" });
      if (run.status !== 0) throw new Error(`interp_reference.py failed:\n${run.stderr}`);
      const ref = loadSafetensors(join(dir, "out.safetensors")).tensors;
      const lens = new HookedGPT(model);
      const { logits, cache } = lens.runWithCache(tokens, { useAttnResult: true });
      expect(cache.names.sort()).toEqual(Object.keys(ref).filter((k) => k !== "logits").sort());
      let worst = 0;
      let worstName = "";
      let worstAbs = 0;
      for (const name of cache.names) {
        const ours = cache.get(name);
        expect(ours.shape, name).toEqual(ref[name].shape);
        const mine = ours.dataSync();
        const theirs = ref[name].data as Float64Array;
        for (let i = 0; i < theirs.length; i++) {
          if (theirs[i] === -Infinity) {
            expect(mine[i], `${name} masked`).toBe(MASKED_SCORE);
            continue;
          }
          // 1e-5 relative to the size of the value (attention scores reach ~10 here)
          const err = Math.abs(mine[i] - theirs[i]) / Math.max(1, Math.abs(theirs[i]));
          worstAbs = Math.max(worstAbs, Math.abs(mine[i] - theirs[i]));
          if (err > worst) [worst, worstName] = [err, name];
        }
      }
      const logitErr = maxDiff(logits, tf.tensor(Float32Array.from(ref.logits.data as Float64Array), ref.logits.shape));
      console.log(`interp parity (${label}): ${cache.size} hook points, worst error ${worst.toExponential(2)} at ${worstName} (absolute ${worstAbs.toExponential(2)}); logits ${logitErr.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-5);
      expect(worstAbs).toBeLessThan(1e-5);
      expect(logitErr).toBeLessThan(1e-4);
      // The model is not trivial: patterns are far from uniform.
      const pattern = cache.get("pattern", 1).dataSync();
      expect(Math.max(...Array.from(pattern).filter((p) => p < 0.999))).toBeGreaterThan(0.5);
      cache.dispose();
      logits.dispose();
      model.dispose();
    });
  });

  it("the decomposed residual sums to the final residual; accumulatedResid through ln_final times W_U is the logits", () => {
    const model = randomModel(gpt2Layout, 5);
    const lens = new HookedGPT(model);
    const { logits, cache } = lens.runWithCache(randomTokens(2, 6, gpt2Layout.vocabSize, 6));
    const { stack, labels } = cache.decomposeResid();
    expect(labels).toEqual(["embed", "pos_embed", "0_attn_out", "0_mlp_out", "1_attn_out", "1_mlp_out"]);
    const summed = tf.sum(stack, 0);
    const final = cache.get("resid_post", 1);
    expect(maxDiff(summed, final)).toBeLessThan(1e-5 * Math.max(1, tf.max(tf.abs(final)).dataSync()[0]));
    const acc = cache.accumulatedResid(undefined, { applyLn: true });
    expect(acc.labels).toEqual(["0_pre", "1_pre", "final_post"]);
    const lens_ = cache.logitLens();
    const last = tf.squeeze(tf.slice(lens_.stack, [2, 0, 0, 0], [1, -1, -1, -1]), [0]);
    const err = maxDiff(last, logits);
    console.log(`accumulatedResid(applyLn)·W_U vs logits: ${err.toExponential(2)}`);
    expect(err).toBeLessThan(1e-4);
    // An earlier layer's logit lens is not the final logits (the check can fail).
    const first = tf.squeeze(tf.slice(lens_.stack, [0, 0, 0, 0], [1, -1, -1, -1]), [0]);
    expect(maxDiff(first, logits)).toBeGreaterThan(0.1);
    const mid = cache.accumulatedResid(1, { inclMid: true });
    expect(mid.labels).toEqual(["0_pre", "0_mid", "1_pre"]);
    tf.dispose([stack, summed, acc.stack, lens_.stack, last, first, mid.stack, logits]);
    cache.dispose();
    model.dispose();
  });

  it("per-head results sum to hook_attn_out minus b_O, from hook_z and from hook_result", () => {
    const model = randomModel(gpt2Layout, 7);
    const lens = new HookedGPT(model);
    const tokens = randomTokens(2, 5, gpt2Layout.vocabSize, 8);
    const { logits, cache } = lens.runWithCache(tokens);
    const withResult = lens.runWithCache(tokens, { useAttnResult: true });
    for (const c of [cache, withResult.cache]) {
      const { stack, labels } = c.stackHeadResults();
      expect(labels.slice(0, 5)).toEqual(["L0H0", "L0H1", "L0H2", "L0H3", "L1H0"]);
      for (let layer = 0; layer < 2; layer++) {
        const heads = tf.sum(tf.slice(stack, [4 * layer], [4]), 0);
        const expected = tf.sub(c.get("attn_out", layer), model.params[`transformer.h.${layer}.attn.c_proj.bias`]);
        expect(maxDiff(heads, expected)).toBeLessThan(1e-5);
        tf.dispose([heads, expected]);
      }
      stack.dispose();
    }
    // With hook_result the composite path sums the heads itself: the same logits within float rounding.
    expect(maxDiff(withResult.logits, logits)).toBeLessThan(1e-5);
    tf.dispose([logits, withResult.logits]);
    cache.dispose();
    withResult.cache.dispose();
    model.dispose();
  });

  it("logit attributions of the decomposed residual sum to the logit difference (less the ln_final bias's share)", () => {
    const model = randomModel(gpt2Layout, 9);
    const lens = new HookedGPT(model);
    const tokens = randomTokens(3, 6, gpt2Layout.vocabSize, 10);
    const { logits, cache } = lens.runWithCache(tokens, { posSlice: -1 });
    expect(cache.get("resid_post", 1).shape).toEqual([3, 32]);
    expect(cache.get("pattern", 0).shape).toEqual([3, 4, 6]);
    const { stack } = cache.decomposeResid();
    const correct = [1, 2, 3];
    const wrong = [4, 5, 6];
    const attrs = cache.logitAttrs(stack, correct, wrong); // (component, batch)
    const total = tf.sum(attrs, 0).arraySync() as number[];
    const l = logits.arraySync() as number[][][];
    const wte = model.params["transformer.wte.weight"].arraySync() as number[][];
    const bias = model.params["transformer.ln_f.bias"].arraySync() as number[];
    for (let b = 0; b < 3; b++) {
      const biasShare = bias.reduce((s, x, i) => s + x * (wte[correct[b]][i] - wte[wrong[b]][i]), 0);
      expect(total[b]).toBeCloseTo(l[b][5][correct[b]] - l[b][5][wrong[b]] - biasShare, 4);
    }
    tf.dispose([stack, attrs, logits]);
    cache.dispose();
    model.dispose();
  });

  it("a hook reads or replaces an activation; hooks() attaches for its scope only, also when it throws", async () => {
    const model = randomModel({ ...gpt2Layout, nLayer: 1 }, 13);
    const lens = new HookedGPT(model);
    const tokens = randomTokens(1, 4, gpt2Layout.vocabSize, 14);
    const clean = lens.runWithHooks(tokens, { composite: true });
    const zeroed = lens.runWithHooks(tokens, { fwdHooks: [["blocks.0.hook_mlp_out", (x) => tf.zerosLike(x)]] });
    const { logits, cache } = lens.runWithCache(tokens, { fwdHooks: [["blocks.0.hook_mlp_out", (x) => tf.zerosLike(x)]], namesFilter: ["blocks.0.hook_mlp_out"] });
    expect(cache.names).toEqual(["blocks.0.hook_mlp_out"]);
    expect(() => cache.get("pattern", 0)).toThrow(/^ActivationCache has no "blocks\.0\.attn\.hook_pattern" \(1 cached; include it in namesFilter\)$/);
    expect(() => lens.runWithCache(tokens, { posSlice: 9 })).toThrow(/posSlice 9 is outside the 4 positions/);
    expect(tf.max(tf.abs(cache.get("mlp_out", 0))).dataSync()[0]).toBe(0); // cached after the hook
    expect(maxDiff(zeroed, clean)).toBeGreaterThan(1e-3);
    expect(maxDiff(zeroed, logits)).toBe(0);
    const inScope = lens.hooks([["blocks.0.hook_mlp_out", (x) => tf.zerosLike(x)]], (m) => {
      expect(m.attachedHooks).toBe(1);
      return m.runWithHooks(tokens);
    });
    expect(maxDiff(inScope, zeroed)).toBe(0);
    expect(lens.attachedHooks).toBe(0);
    await lens.hooks([["hook_embed", (x) => x]], async () => expect(lens.attachedHooks).toBe(1));
    expect(lens.attachedHooks).toBe(0);
    expect(() => lens.runWithHooks(tokens, { fwdHooks: [["hook_embed", () => tf.zeros([1])]] })).toThrow(/hook on hook_embed returned shape \[1\], expected \[1,4,32\]/);
    tf.dispose([clean, zeroed, logits, inScope]);
    cache.dispose();
    model.dispose();
  });

  it("frees every tensor: 1,000 runWithCache calls, and runs whose hook throws", () => {
    const model = randomModel({ vocabSize: 5, blockSize: 4, nLayer: 1, nHead: 2, nEmbd: 8, dropout: 0, bias: true }, 15);
    const lens = new HookedGPT(model);
    const tokens = tf.tensor2d([[1, 2, 3, 4]], undefined, "int32");
    const baseline = tf.memory().numTensors;
    for (let i = 0; i < 1000; i++) {
      const { logits, cache } = lens.runWithCache(tokens, { posSlice: i % 2 ? -1 : undefined });
      logits.dispose();
      cache.dispose();
    }
    expect(tf.memory().numTensors).toBe(baseline);
    const boom = () => {
      throw new Error("boom");
    };
    expect(() => lens.runWithCache(tokens, { fwdHooks: [["blocks.0.hook_mlp_out", boom]] })).toThrow("boom");
    expect(() => lens.hooks([["blocks.0.attn.hook_pattern", boom]], () => lens.runWithHooks(tokens))).toThrow("boom");
    expect(lens.attachedHooks).toBe(0);
    expect(tf.memory().numTensors).toBe(baseline);
    // Nothing stayed attached: the next run is the plain one.
    const after = lens.runWithHooks(tokens, { composite: true });
    const plain = model.forward(tokens).logits;
    expect(maxDiff(after, plain)).toBeLessThan(1e-5);
    tf.dispose([after, plain, tokens]);
    model.dispose();
  });
});

describe("HookedGPT on an attention-only model (TransformerLens's attn_only)", () => {
  it("has TransformerLens's hook points for attn_only: no resid_mid, ln2 or MLP points (26 for 2 layers, by hand)", () => {
    const block = (l: number) => [
      `blocks.${l}.hook_resid_pre`,
      `blocks.${l}.ln1.hook_scale`,
      `blocks.${l}.ln1.hook_normalized`,
      `blocks.${l}.attn.hook_q`,
      `blocks.${l}.attn.hook_k`,
      `blocks.${l}.attn.hook_v`,
      `blocks.${l}.attn.hook_attn_scores`,
      `blocks.${l}.attn.hook_pattern`,
      `blocks.${l}.attn.hook_z`,
      `blocks.${l}.hook_attn_out`,
      `blocks.${l}.hook_resid_post`,
    ];
    const expected = ["hook_embed", "hook_pos_embed", ...block(0), ...block(1), "ln_final.hook_scale", "ln_final.hook_normalized"];
    expect(hookNames(2, false, true)).toEqual(expected);
    expect(expected).toHaveLength(26);
    const model = randomModel(attnOnlyLayout, 21);
    const lens = new HookedGPT(model);
    expect(lens.hookNames()).toEqual(expected);
    const { logits, cache } = lens.runWithCache(randomTokens(2, 5, attnOnlyLayout.vocabSize, 22));
    expect(cache.names).toEqual(expected);
    expect(() => cache.get("mlp_out", 0)).toThrow(/has no "blocks\.0\.hook_mlp_out"/);
    tf.dispose(logits);
    cache.dispose();
    model.dispose();
  });

  it("gives model.forward's logits (fused kernels), and an identity hook on every point changes no bit", () => {
    const model = randomModel(attnOnlyLayout, 23);
    const lens = new HookedGPT(model);
    const tokens = randomTokens(3, 8, attnOnlyLayout.vocabSize, 24);
    const idx = tf.tensor2d(tokens, undefined, "int32");
    const plain = model.forward(idx).logits;
    const composite = lens.runWithHooks(tokens, { composite: true });
    const seen: string[] = [];
    const identity = lens.runWithHooks(tokens, { fwdHooks: [[() => true, (x, hook) => {
      seen.push(hook.name);
      return x;
    }]] });
    expect(seen).toEqual(hookNames(2, false, true));
    expect(maxDiff(composite, plain)).toBeLessThan(1e-5);
    expect(Array.from(identity.dataSync())).toEqual(Array.from(composite.dataSync()));
    tf.dispose([idx, plain, composite, identity]);
    model.dispose();
  });

  it("decomposeResid has no MLP rows and sums to the final stream; the logit lens ends at the logits; head results sum to attn_out − b_O", () => {
    const model = randomModel(attnOnlyLayout, 25);
    const lens = new HookedGPT(model);
    const { logits, cache } = lens.runWithCache(randomTokens(2, 6, attnOnlyLayout.vocabSize, 26));
    const { stack, labels } = cache.decomposeResid();
    expect(labels).toEqual(["embed", "pos_embed", "0_attn_out", "1_attn_out"]);
    const summed = tf.sum(stack, 0);
    const final = cache.get("resid_post", 1);
    expect(maxDiff(summed, final)).toBeLessThan(1e-5 * Math.max(1, tf.max(tf.abs(final)).dataSync()[0]));
    const mid = cache.decomposeResid(1);
    expect(mid.labels).toEqual(["embed", "pos_embed", "0_attn_out"]);
    const midSum = tf.sum(mid.stack, 0);
    expect(maxDiff(midSum, cache.get("resid_pre", 1))).toBeLessThan(1e-4);
    const lensStack = cache.logitLens();
    expect(lensStack.labels).toEqual(["0_pre", "1_pre", "final_post"]);
    const last = tf.squeeze(tf.slice(lensStack.stack, [2, 0, 0, 0], [1, -1, -1, -1]), [0]);
    expect(maxDiff(last, logits)).toBeLessThan(1e-4);
    const heads = cache.stackHeadResults();
    for (let layer = 0; layer < 2; layer++) {
      const sum = tf.sum(tf.slice(heads.stack, [4 * layer], [4]), 0);
      const expected = tf.sub(cache.get("attn_out", layer), model.params[`transformer.h.${layer}.attn.c_proj.bias`]);
      expect(maxDiff(sum, expected)).toBeLessThan(1e-5);
      tf.dispose([sum, expected]);
    }
    expect(() => cache.accumulatedResid(undefined, { inclMid: true })).toThrow(/^accumulatedResid: an attention-only model has no resid_mid \(inclMid\)$/);
    expect(() => cache.decomposeResid(1, { mlpInput: true })).toThrow(/^decomposeResid: an attention-only model has no MLP input \(mlpInput\)$/);
    tf.dispose([stack, summed, mid.stack, midSum, lensStack.stack, last, heads.stack, logits]);
    cache.dispose();
    model.dispose();
  });
});
