// Attention-only GPTs (GPTConfig.attnOnly) in the code that counts or re-runs a GPT's blocks:
// nanoGPT's FLOPs per token and the MFU the trainer prints, Chinchilla's FLOP count (no MLP term),
// and the reward model's body, which must follow GPT.forward's residual stream (no ln_2, no MLP).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tf, useBackend } from "../lib/engine/index.js";
import { ShardLoader, writeShards } from "../lib/data/index.js";
import { GPT, layerNorm, type GPTConfig } from "../lib/models/gpt/index.js";
import { HookedGPT } from "../lib/interp/index.js";
import { RewardModel, gptHidden } from "../lib/finetune/index.js";
import { chinchillaFlops, chinchillaFlopsPerSequence, countGPTParams, gptShape } from "../lib/scaling/flops.js";
import { Trainer, flopsPerToken, terminalProgress } from "../lib/train/index.js";
import { Rng } from "../lib/util/random.js";

beforeAll(async () => {
  await useBackend("cpu");
});

/** vocab 11, context 8, 2 layers, 2 heads of width 8, no biases, attention only. */
const small: GPTConfig = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: false, attnOnly: true };

describe("nanoGPT's FLOPs per token and the trainer's MFU for an attention-only GPT", () => {
  // N (no wpe) = wte 11·16 = 176, per block ln_1 16 + c_attn 3·16·16 = 768 + c_proj 16·16 = 256 → 1040,
  // two blocks 2080, ln_f 16: N = 176 + 2080 + 16 = 2272.
  // 6·N = 13,632; attention 12·L·H·Q·T = 12·2·2·8·8 = 3,072; per token 16,704.
  // With MLPs each block adds ln_2 16 + c_fc 16·64 = 1024 + c_proj 64·16 = 1024 → 2064: N = 6400, 6·N + 3,072 = 41,472.
  it("counts 6·N + 12·L·H·Q·T = 16,704 for the small attention-only config (41,472 with MLPs)", () => {
    const model = new GPT(small, { seed: 1 });
    const withMlp = new GPT({ ...small, attnOnly: false }, { seed: 1 });
    expect(model.numParams()).toBe(2272);
    expect(withMlp.numParams()).toBe(6400);
    expect(flopsPerToken(model.config, model.numParams())).toBe(16_704);
    expect(flopsPerToken(withMlp.config, withMlp.numParams())).toBe(41_472);
    model.dispose();
    withMlp.dispose();
  });

  it("the trainer's log prints the MFU of 16,704 FLOPs per token, not an MLP model's", async () => {
    const dir = mkdtempSync(join(tmpdir(), "attn-only-shards-"));
    const rng = new Rng(4);
    const tokens = Uint16Array.from({ length: 600 }, () => rng.randint(0, 11));
    await writeShards(dir, tokens, { dataset: "synthetic", tokenizer: "gpt2", vocabSize: 11, eot: 0, shardTokens: 100 });
    const model = new GPT(small, { seed: 2 });
    let text = "";
    const peakFlops = 1e6; // small, so the printed percentage keeps about seven significant digits
    const progress = terminalProgress({ stream: { write: (s: string) => (text += s), isTTY: false }, throughput: { peakFlops } });
    const data = { train: ShardLoader.open(dir, "train"), val: ShardLoader.open(dir, "val") };
    const trainer = new Trainer(model, data, { batchSize: 2, maxIters: 2, evalInterval: 100, evalIters: 1, learningRate: 1e-3, outDir: null }, [progress]);
    const result = await trainer.run();
    const line = text.split("\n").find((l) => l.startsWith("iter 0:"))!;
    const pct = Number(/MFU ([\d.]+)%$/.exec(line)![1]);
    const perToken = (pct / 100) * peakFlops / result.losses[0].tokensPerSecond;
    expect(Math.abs(perToken / 16_704 - 1)).toBeLessThan(1e-4);
    trainer.dispose();
    model.dispose();
  });
});

describe("Chinchilla's FLOP count of an attention-only GPT", () => {
  // vocab 3, context 2, 2 layers, 2 heads, width 4 (head width 2, inner 4); attention only → ffwSize 0.
  // Per sequence of T = 2, forward: embeddings 2·T·V·d = 2·2·3·4 = 48; per layer qkv 2·3·T·d·inner = 192,
  // logits 2·T²·inner = 32, softmax 3·h·T² = 24, weighted values 32, out projection 2·T·inner·d = 64,
  // MLP 0 → 344; unembedding 48. Forward 48 + 2·344 + 48 = 784; training 3 × 784 = 2,352.
  // With MLPs (ffwSize 16) each layer adds 2·T·2·d·f = 2·2·2·4·16 = 512: 3 × (784 + 1024) = 5,424.
  const tiny: GPTConfig = { vocabSize: 3, blockSize: 2, nLayer: 2, nHead: 2, nEmbd: 4, dropout: 0, bias: false, attnOnly: true };

  it("builds a shape with no MLP (ffwSize 0) and counts 2,352 FLOPs per sequence (5,424 with MLPs)", () => {
    expect(gptShape(tiny).ffwSize).toBe(0);
    expect(chinchillaFlopsPerSequence(gptShape(tiny))).toBe(2352);
    expect(chinchillaFlops(gptShape(tiny), 10)).toBe(2352 / 2 * 10); // 1,176 per token
    expect(gptShape({ ...tiny, attnOnly: false }).ffwSize).toBe(16);
    expect(chinchillaFlopsPerSequence(gptShape({ ...tiny, attnOnly: false }))).toBe(5424);
    expect(chinchillaFlopsPerSequence(gptShape({ ...tiny, attnOnly: undefined }))).toBe(5424); // configs saved before the key
  });

  it("counts parameters without ln_2 and the MLP: 2·(4 + 48 + 16) + 4 + 12 + 8", () => {
    // per block ln_1 4 + c_attn 3·4·4 = 48 + c_proj 16; ln_f 4; wte 3·4 = 12; wpe 2·4 = 8.
    expect(countGPTParams(tiny)).toEqual({ total: 160, nanogpt: 152, nonEmbedding: 140 });
  });
});

describe("the reward model's body for an attention-only GPT", () => {
  const config: GPTConfig = { vocabSize: 8, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true };
  const rows = [[1, 2, 3, 4, 5], [7, 6, 5, 4, 3]];

  /** A GPT whose LayerNorm gains and biases are moved off 1 and 0, so skipping or adding a norm shows. */
  function perturbedGPT(attnOnly: boolean, seed: number): GPT {
    const model = new GPT({ ...config, attnOnly: attnOnly }, { seed: seed });
    const rng = new Rng(seed + 100);
    for (const v of Object.values(model.params)) {
      if (v.rank !== 1) continue;
      const noise = Float32Array.from({ length: v.size }, () => 0.3 * rng.normal());
      tf.tidy(() => v.assign(tf.add(v, tf.tensor(noise, v.shape))));
    }
    return model;
  }

  /** ln_f of HookedGPT's last blocks.{L}.hook_resid_post: GPT.forward's residual stream, composite ops. */
  function hookedHidden(model: GPT, idx: tf.Tensor2D): Float32Array {
    const last = `blocks.${model.config.nLayer - 1}.hook_resid_post`;
    const { logits, cache } = new HookedGPT(model).runWithCache(idx, { namesFilter: last });
    const C = model.config.nEmbd;
    const hidden = tf.tidy(() => layerNorm(tf.reshape(cache.get(last), [-1, C]) as tf.Tensor2D, model.params["transformer.ln_f.weight"] as tf.Tensor1D, model.params["transformer.ln_f.bias"] as tf.Tensor1D).dataSync() as Float32Array);
    tf.dispose(logits);
    cache.dispose();
    return hidden;
  }

  const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    expect(a.length).toBe(b.length);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    return worst;
  };

  for (const attnOnly of [true, false]) {
    it(`gptHidden equals ln_f(hook_resid_post) and hidden · wteᵀ GPT.forward's logits (attnOnly ${attnOnly})`, () => {
      const model = perturbedGPT(attnOnly, 3);
      const idx = tf.tensor2d(rows, undefined, "int32");
      const before = tf.memory().numTensors;
      const hidden = gptHidden(model, idx);
      const mine = hidden.dataSync();
      expect(maxDiff(mine, hookedHidden(model, idx))).toBeLessThan(1e-6);
      const [viaHead, forward] = tf.tidy(() => [
        tf.matMul(hidden, model.params["transformer.wte.weight"], false, true).dataSync(),
        model.forward(idx).logits.dataSync(),
      ]);
      expect(maxDiff(viaHead, forward)).toBeLessThan(1e-5); // GPT.forward may run the native fused attention
      hidden.dispose();
      expect(tf.memory().numTensors).toBe(before);
      idx.dispose();
      model.dispose();
    });
  }

  it("the attention-only hidden states differ from those of the same weights with MLPs", () => {
    // Guards the comparison above: the MLP model sharing the attention weights gives other hidden states.
    const model = perturbedGPT(true, 3);
    const withMlp = perturbedGPT(false, 3);
    for (const [name, v] of Object.entries(model.params)) withMlp.params[name].assign(v);
    const idx = tf.tensor2d(rows, undefined, "int32");
    const a = tf.tidy(() => gptHidden(model, idx).dataSync());
    const b = tf.tidy(() => gptHidden(withMlp, idx).dataSync());
    expect(maxDiff(a, b)).toBeGreaterThan(1e-2);
    idx.dispose();
    model.dispose();
    withMlp.dispose();
  });

  it("rewards of an attention-only body are the head read at each last real token of the hooked stream", () => {
    const model = perturbedGPT(true, 5);
    const idx = tf.tensor2d(rows, undefined, "int32");
    const expectedHidden = hookedHidden(model, idx);
    const rm = new RewardModel(model);
    const w = Float32Array.from({ length: 16 }, (_, i) => Math.sin(i + 1));
    tf.tidy(() => {
      rm.head.weight.assign(tf.tensor1d(w));
      rm.head.bias.assign(tf.tensor1d([0.25]));
    });
    const lengths = [5, 3];
    const rewards = tf.tidy(() => Array.from(rm.rewards(idx, lengths).dataSync()));
    const T = rows[0].length;
    const expected = lengths.map((n, b) => {
      let r = 0.25;
      for (let c = 0; c < 16; c++) r += w[c] * expectedHidden[(b * T + n - 1) * 16 + c];
      return r;
    });
    expect(maxDiff(rewards, expected)).toBeLessThan(1e-6);
    idx.dispose();
    rm.dispose();
  });
});
