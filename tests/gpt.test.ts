// The GPT model: forward logits, loss and every parameter gradient against an independent PyTorch
// implementation (tests/reference/gpt_reference.py, float64), plus init, dropout, I/O and memory.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tf, useBackend, type BackendChoice } from "../lib/engine/index.js";
import { loadSafetensors, saveSafetensors } from "../lib/io/index.js";
import { maxAbsDifference } from "../lib/models/bigram/index.js";
import { GPT, KVCache, crossEntropy, gelu, gptParamSpecs, loadGPT, saveGPT, type GPTConfig } from "../lib/models/gpt/index.js";
import { nativeAddon, setNativeKernelsEnabled } from "../lib/native/index.js";
import { Rng } from "../lib/util/random.js";

const PYTHON = "/usr/bin/python3";
const hasTorch = spawnSync(PYTHON, ["-c", "import torch"]).status === 0;
if (!hasTorch) console.warn(`SKIPPING PyTorch parity tests: ${PYTHON} cannot import torch (apt-get install python3-torch)`);

function runReference(script: string, args: string[]): void {
  const result = spawnSync(PYTHON, [join("tests/reference", script), ...args], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${script} failed:\n${result.stderr}`);
}

const tiny: GPTConfig = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true };

function batch(B: number, T: number, vocab: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const rng = new Rng(seed);
  const ids = (n: number) => Int32Array.from({ length: n }, () => rng.randint(0, vocab));
  return { x: tf.tensor2d(ids(B * T), [B, T], "int32"), y: tf.tensor2d(ids(B * T), [B, T], "int32") };
}

/** Non-trivial LayerNorm gains and biases (they start at exactly 1 and 0). */
function perturbVectors(model: GPT, seed: number): void {
  const rng = new Rng(seed);
  for (const v of Object.values(model.params)) {
    if (v.rank !== 1) continue;
    const noise = Float32Array.from({ length: v.size }, () => 0.2 * rng.normal());
    tf.tidy(() => v.assign(tf.add(v, tf.tensor(noise, v.shape))));
  }
}

beforeAll(async () => {
  await useBackend("cpu");
});

/** Counts the native block op's forward calls from now on (0 without the addon). */
function countBlockCalls(): () => number {
  const addon = nativeAddon();
  if (!addon) return () => 0;
  const original = addon.block;
  let calls = 0;
  addon.block = (...args) => {
    calls++;
    return original(...args);
  };
  return () => {
    addon.block = original;
    return calls;
  };
}

describe("GPT vs PyTorch", () => {
  // wasm too: its kernels differ from cpu's (its float32 OneHot once broke the loss gradient).
  // training: the training-mode forward (dropout 0 here), which on cpu with native kernels runs
  // each bias-free block as one native op (lib/native/block.ts).
  const cases: [BackendChoice, string, Partial<GPTConfig>, number, boolean?][] = [
    ["cpu", "with biases, full block", { bias: true }, 8],
    ["cpu", "without biases, shorter sequence than the block", { bias: false }, 5],
    ["cpu", "without biases, training mode: the native block op", { bias: false }, 8, true],
    ["wasm", "with biases, full block", { bias: true }, 8],
    ["cpu", "attention-only blocks (attnOnly), with biases", { bias: true, attnOnly: true }, 8],
    ["wasm", "attention-only blocks (attnOnly), without biases", { bias: false, attnOnly: true }, 6],
  ];
  for (const [backend, label, overrides, T, training] of cases) {
    it.skipIf(!hasTorch)(`logits, loss and all gradients agree within 1e-4 on ${backend} (${label})`, async () => {
      await useBackend(backend);
      const dir = mkdtempSync(join(tmpdir(), "gpt-parity-"));
      const model = new GPT({ ...tiny, ...overrides }, { seed: 7 });
      perturbVectors(model, 8);
      const { x, y } = batch(3, T, tiny.vocabSize, 9);
      await saveGPT(model, join(dir, "weights.safetensors"));
      saveSafetensors(join(dir, "batch.safetensors"), {
        x: { dtype: "I32", shape: x.shape, data: x.dataSync() as Int32Array },
        y: { dtype: "I32", shape: y.shape, data: y.dataSync() as Int32Array },
      });
      runReference("gpt_reference.py", [join(dir, "weights.safetensors"), join(dir, "batch.safetensors"), join(dir, "out.safetensors")]);
      const ref = loadSafetensors(join(dir, "out.safetensors")).tensors;

      const names = Object.keys(model.params);
      const variables = names.map((n) => model.params[n]);
      const { logits, loss } = model.forward(x, y);
      const blockCalls = countBlockCalls();
      const { grads } = tf.variableGrads(() => model.forward(x, y, training ? { training, rng: new Rng(1) } : {}).loss!, variables);
      if (training && backend === "cpu" && nativeAddon()) expect(blockCalls(), "native block ops").toBe(tiny.nLayer);
      expect(logits.shape).toEqual([3, T, tiny.vocabSize]);
      expect(maxAbsDifference(logits.dataSync(), ref.logits.data as Float64Array)).toBeLessThan(1e-4);
      expect(Math.abs(loss!.dataSync()[0] - Number(ref.loss.data[0]))).toBeLessThan(1e-4);
      // The loss is not trivially near log(vocab): the weights and batch matter.
      expect(Number(ref.loss.data[0])).toBeGreaterThan(0.5);
      const refGradNames = Object.keys(ref).filter((k) => k.startsWith("grad.")).map((k) => k.slice(5));
      expect(refGradNames.sort()).toEqual([...names].sort());
      let worst = 0;
      names.forEach((name, i) => {
        const ours = grads[variables[i].name].dataSync();
        const theirs = ref[`grad.${name}`].data as Float64Array;
        expect(Math.max(...Array.from(theirs, Math.abs)), `${name} has a non-zero gradient`).toBeGreaterThan(1e-6);
        worst = Math.max(worst, maxAbsDifference(ours, theirs));
      });
      console.log(`GPT parity on ${backend} (${label}): max |grad error| ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-4);
      tf.dispose([x, y, logits, loss!, ...Object.values(grads)]);
      model.dispose();
      await useBackend("cpu");
    });
  }
});

describe("GPT", () => {
  it("has nanoGPT's parameter names, shapes and count", () => {
    const names = gptParamSpecs({ ...tiny, nLayer: 1 }).map((s) => `${s.name} ${s.shape.join("x")}`);
    expect(names).toEqual([
      "transformer.wte.weight 11x16",
      "transformer.wpe.weight 8x16",
      "transformer.h.0.ln_1.weight 16",
      "transformer.h.0.ln_1.bias 16",
      "transformer.h.0.attn.c_attn.weight 48x16",
      "transformer.h.0.attn.c_attn.bias 48",
      "transformer.h.0.attn.c_proj.weight 16x16",
      "transformer.h.0.attn.c_proj.bias 16",
      "transformer.h.0.ln_2.weight 16",
      "transformer.h.0.ln_2.bias 16",
      "transformer.h.0.mlp.c_fc.weight 64x16",
      "transformer.h.0.mlp.c_fc.bias 64",
      "transformer.h.0.mlp.c_proj.weight 16x64",
      "transformer.h.0.mlp.c_proj.bias 16",
      "transformer.ln_f.weight 16",
      "transformer.ln_f.bias 16",
    ]);
    // nanoGPT's CPU config (vocab 65, no biases): 12·L·C² + 2·L·C + C (blocks, LayerNorms) + V·C, wpe excluded.
    const model = new GPT({ vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0, bias: false });
    expect(model.numParams()).toBe(12 * 4 * 128 * 128 + 2 * 4 * 128 + 128 + 65 * 128);
    expect(model.numParams(false)).toBe(model.numParams() + 64 * 128);
    model.dispose();
  });

  it("initialises as GPT-2: N(0, 0.02), residual projections N(0, 0.02/sqrt(2·nLayer)), LayerNorm 1, biases 0", () => {
    const model = new GPT({ vocabSize: 64, blockSize: 32, nLayer: 3, nHead: 2, nEmbd: 64, dropout: 0, bias: true }, { seed: 1 });
    const std = (name: string) => {
      const v = model.params[name].dataSync();
      let sum = 0;
      let sq = 0;
      for (const x of v) (sum += x), (sq += x * x);
      return Math.sqrt(sq / v.length - (sum / v.length) ** 2);
    };
    expect(std("transformer.wte.weight")).toBeCloseTo(0.02, 3);
    expect(std("transformer.h.1.mlp.c_fc.weight")).toBeCloseTo(0.02, 3);
    expect(std("transformer.h.1.mlp.c_proj.weight")).toBeCloseTo(0.02 / Math.sqrt(6), 3);
    expect(std("transformer.h.2.attn.c_proj.weight")).toBeCloseTo(0.02 / Math.sqrt(6), 3);
    expect(Array.from(model.params["transformer.h.0.ln_1.weight"].dataSync()).every((v) => v === 1)).toBe(true);
    expect(Array.from(model.params["transformer.h.0.attn.c_attn.bias"].dataSync()).every((v) => v === 0)).toBe(true);
    // The seed fixes the weights.
    const again = new GPT(model.config, { seed: 1 });
    const other = new GPT(model.config, { seed: 2 });
    const first = model.params["transformer.wte.weight"].dataSync();
    expect(again.params["transformer.wte.weight"].dataSync()).toEqual(first);
    expect(other.params["transformer.wte.weight"].dataSync()).not.toEqual(first);
    [model, again, other].forEach((m) => m.dispose());
  });

  it("lastPositionOnly gives the last row of the full logits", () => {
    const model = new GPT(tiny, { seed: 3 });
    const { x } = batch(2, 6, tiny.vocabSize, 4);
    const full = model.forward(x).logits;
    const last = model.forward(x, undefined, { lastPositionOnly: true }).logits;
    expect(last.shape).toEqual([2, 1, tiny.vocabSize]);
    const expected = tf.slice(full, [0, 5, 0], [2, 1, tiny.vocabSize]);
    expect(maxAbsDifference(last.dataSync(), expected.dataSync())).toBeLessThan(1e-6);
    tf.dispose([x, full, last, expected]);
    model.dispose();
  });

  it("is causal: changing a later token leaves earlier logits unchanged", () => {
    const model = new GPT(tiny, { seed: 3 });
    const a = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8]], [1, 8], "int32");
    const b = tf.tensor2d([[1, 2, 3, 4, 9, 9, 9, 9]], [1, 8], "int32");
    const la = model.forward(a).logits.arraySync()[0];
    const lb = model.forward(b).logits.arraySync()[0];
    expect(maxAbsDifference(la.slice(0, 4).flat(), lb.slice(0, 4).flat())).toBe(0);
    expect(maxAbsDifference(la[4], lb[4])).toBeGreaterThan(1e-4);
    tf.dispose([a, b]);
    model.dispose();
  });

  it("applies seeded dropout only in training mode", () => {
    const model = new GPT({ ...tiny, dropout: 0.3 }, { seed: 5 });
    const noDropout = new GPT({ ...tiny, dropout: 0 }, { seed: 5 });
    const { x, y } = batch(2, 8, tiny.vocabSize, 6);
    const loss = (m: GPT, options = {}) => {
      const out = m.forward(x, y, options);
      const value = out.loss!.dataSync()[0];
      tf.dispose([out.logits, out.loss!]);
      return value;
    };
    const evalLoss = loss(model);
    expect(evalLoss).toBe(loss(noDropout));
    const trainA = loss(model, { training: true, rng: new Rng(1) });
    const trainB = loss(model, { training: true, rng: new Rng(1) });
    const trainC = loss(model, { training: true, rng: new Rng(2) });
    expect(trainA).toBe(trainB);
    expect(trainA).not.toBe(trainC);
    expect(trainA).not.toBe(evalLoss);
    expect(() => model.forward(x, y, { training: true })).toThrow(/rng/);
    tf.dispose([x, y]);
    model.dispose();
    noDropout.dispose();
  });

  it("saves and loads weights bit-exactly", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gpt-io-"));
    const model = new GPT(tiny, { seed: 11 });
    perturbVectors(model, 12);
    await saveGPT(model, join(dir, "m.safetensors"));
    const loaded = loadGPT(join(dir, "m.safetensors"));
    expect(loaded.config).toEqual(model.config);
    for (const [name, v] of Object.entries(model.params)) {
      expect(loaded.params[name].dataSync(), name).toEqual(v.dataSync());
    }
    model.dispose();
    loaded.dispose();
  });

  it("new GPT, loadGPT and dispose leave no tensors behind (the initial values were once kept per parameter)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gpt-io-"));
    const before = tf.memory().numTensors;
    const model = new GPT(tiny, { seed: 13 });
    expect(tf.memory().numTensors - before).toBe(Object.keys(model.params).length + 1); // parameters and the causal mask
    await saveGPT(model, join(dir, "m.safetensors"));
    model.dispose();
    loadGPT(join(dir, "m.safetensors")).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("leaves no tensors behind in forward and backward", () => {
    const model = new GPT({ ...tiny, dropout: 0.1 }, { seed: 1 });
    const { x, y } = batch(2, 8, tiny.vocabSize, 2);
    const rng = new Rng(3);
    const run = () => {
      const { value, grads } = tf.variableGrads(() => model.forward(x, y, { training: true, rng }).loss!);
      tf.dispose([value, ...Object.values(grads)]);
      const out = model.forward(x, undefined, { lastPositionOnly: true });
      out.logits.dispose();
    };
    run();
    const before = tf.memory().numTensors;
    run();
    run();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe("layers", () => {
  it("GELU is exact (erf form) with the matching gradient", () => {
    // Φ(1) = 0.841344746…, φ(1) = 0.241970725…; gelu'(x) = Φ(x) + x·φ(x).
    const x = tf.tensor1d([-2, -0.5, 0, 1, 3]);
    const cdf = [0.0227501319, 0.3085375387, 0.5, 0.8413447461, 0.9986501020];
    const pdf = [0.0539909665, 0.3520653268, 0.3989422804, 0.2419707245, 0.0044318484];
    const xs = [-2, -0.5, 0, 1, 3];
    expect(maxAbsDifference(gelu(x).dataSync(), xs.map((v, i) => v * cdf[i]))).toBeLessThan(1e-6);
    const grad = tf.grad((t: tf.Tensor) => tf.sum(gelu(t)))(x);
    expect(maxAbsDifference(grad.dataSync(), xs.map((v, i) => cdf[i] + v * pdf[i]))).toBeLessThan(1e-6);
    tf.dispose([x, grad]);
  });

  it("cross-entropy is the mean of -log softmax at the targets, with gradient (softmax - onehot)/N", () => {
    const logits = tf.tensor2d([[1, 2, 3], [0, 0, 0]]);
    const targets = tf.tensor1d([2, 0], "int32");
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    const expected = ((lse - 3) + Math.log(3)) / 2;
    expect(crossEntropy(logits, targets).dataSync()[0]).toBeCloseTo(expected, 6);
    const grad = tf.grad((l: tf.Tensor) => crossEntropy(l as tf.Tensor2D, targets))(logits);
    const p = [1, 2, 3].map((v) => Math.exp(v - lse));
    expect(maxAbsDifference(grad.dataSync(), [p[0] / 2, p[1] / 2, (p[2] - 1) / 2, (1 / 3 - 1) / 2, 1 / 6, 1 / 6])).toBeLessThan(1e-6);
    tf.dispose([logits, targets, grad]);
  });
});

describe("attention-only GPT (attnOnly, TransformerLens's attn_only)", () => {
  const attnOnly: GPTConfig = { ...tiny, attnOnly: true };

  it("has no ln_2 or MLP parameters; the count is 4·L·C² + L·C + C + V·C without biases", () => {
    const names = gptParamSpecs({ ...attnOnly, nLayer: 1 }).map((s) => `${s.name} ${s.shape.join("x")}`);
    expect(names).toEqual([
      "transformer.wte.weight 11x16",
      "transformer.wpe.weight 8x16",
      "transformer.h.0.ln_1.weight 16",
      "transformer.h.0.ln_1.bias 16",
      "transformer.h.0.attn.c_attn.weight 48x16",
      "transformer.h.0.attn.c_attn.bias 48",
      "transformer.h.0.attn.c_proj.weight 16x16",
      "transformer.h.0.attn.c_proj.bias 16",
      "transformer.ln_f.weight 16",
      "transformer.ln_f.bias 16",
    ]);
    // Per block: ln_1 (C) + c_attn (3C²) + c_proj (C²); then ln_f (C) and the tied embedding (V·C).
    const model = new GPT({ vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0, bias: false, attnOnly: true });
    expect(model.numParams()).toBe(4 * 4 * 128 * 128 + 4 * 128 + 128 + 65 * 128);
    expect(model.numParams()).toBe(271_104);
    model.dispose();
    expect(() => new GPT({ ...tiny, attnOnly: "yes" as unknown as boolean })).toThrow(/^GPTConfig\.attnOnly must be true or false, got "yes"$/);
  });

  it("draws residual projections with std 0.02/sqrt(nLayer): one per block writes to the stream", () => {
    const model = new GPT({ vocabSize: 64, blockSize: 32, nLayer: 4, nHead: 2, nEmbd: 128, dropout: 0, bias: true, attnOnly: true }, { seed: 2 });
    const v = model.params["transformer.h.0.attn.c_proj.weight"].dataSync() as Float32Array;
    const std = Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    expect(std).toBeCloseTo(0.02 / Math.sqrt(4), 3); // 0.01 (0.0071 with MLPs)
    model.dispose();
  });

  it("the fused native forward (when the addon is loaded) equals the stock kernels', and skips the MLP", () => {
    const model = new GPT(attnOnly, { seed: 3 });
    perturbVectors(model, 4);
    const { x, y } = batch(2, 8, tiny.vocabSize, 5);
    const run = (native: boolean) => {
      setNativeKernelsEnabled(native);
      try {
        return model.forward(x, y);
      } finally {
        setNativeKernelsEnabled(true);
      }
    };
    const fused = run(true);
    const stock = run(false);
    expect(maxAbsDifference(fused.logits.dataSync(), stock.logits.dataSync())).toBeLessThan(1e-5);
    // Not the MLP model's function: the same attention weights with MLPs give other logits.
    const withMlp = new GPT(tiny, { seed: 3 });
    for (const [name, v] of Object.entries(model.params)) withMlp.params[name].assign(v);
    const other = withMlp.forward(x);
    expect(maxAbsDifference(other.logits.dataSync(), fused.logits.dataSync())).toBeGreaterThan(1e-3);
    tf.dispose([x, y, fused.logits, fused.loss!, stock.logits, stock.loss!, other.logits]);
    model.dispose();
    withMlp.dispose();
  });

  it("the KV-cache path gives the full forward's logits", () => {
    const model = new GPT(attnOnly, { seed: 6 });
    perturbVectors(model, 7);
    const ids = [[1, 5, 2, 9, 3, 3, 7, 0]];
    const full = model.forward(tf.tensor2d(ids, undefined, "int32")).logits;
    const fullRows = full.arraySync()[0];
    const cache = new KVCache(model.config);
    const rows: number[][] = [];
    const prompt = tf.tensor2d([ids[0].slice(0, 3)], undefined, "int32");
    const first = model.forward(prompt, undefined, { cache, lastPositionOnly: true });
    rows.push(first.logits.arraySync()[0][0]);
    tf.dispose([prompt, first.logits]);
    for (let t = 3; t < ids[0].length; t++) {
      const next = tf.tensor2d([[ids[0][t]]], undefined, "int32");
      const out = model.forward(next, undefined, { cache, lastPositionOnly: true });
      rows.push(out.logits.arraySync()[0][0]);
      tf.dispose([next, out.logits]);
    }
    expect(cache.length).toBe(8);
    rows.forEach((row, i) => expect(maxAbsDifference(Float32Array.from(row), Float32Array.from(fullRows[i + 2])), `position ${i + 2}`).toBeLessThan(1e-5));
    cache.dispose();
    full.dispose();
    model.dispose();
  });

  it("saves attnOnly in the checkpoint; files saved before the key existed load as blocks with MLPs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gpt-attn-only-"));
    const model = new GPT(attnOnly, { seed: 8 });
    await saveGPT(model, join(dir, "attn.safetensors"));
    const loaded = loadGPT(join(dir, "attn.safetensors"));
    expect(loaded.config.attnOnly).toBe(true);
    expect(Object.keys(loaded.params).sort()).toEqual(Object.keys(model.params).sort());
    loaded.dispose();
    // An old file: gpt_config written without attnOnly (as saveGPT did before it existed).
    const old = new GPT(tiny, { seed: 9 });
    await saveGPT(old, join(dir, "old.safetensors"));
    const content = loadSafetensors(join(dir, "old.safetensors"));
    expect(JSON.parse(content.metadata.gpt_config)).not.toHaveProperty("attnOnly");
    const reloaded = loadGPT(join(dir, "old.safetensors"));
    expect(reloaded.config.attnOnly ?? false).toBe(false);
    expect(reloaded.params["transformer.h.1.mlp.c_fc.weight"].shape).toEqual([64, 16]);
    reloaded.dispose();
    // An MLP model's tensors under an attnOnly config are refused, naming the file and the tensor.
    const lying = { ...content.metadata, gpt_config: JSON.stringify({ ...tiny, attnOnly: true }) };
    saveSafetensors(join(dir, "lying.safetensors"), content.tensors, lying);
    expect(() => loadGPT(join(dir, "lying.safetensors"))).toThrow(/lying\.safetensors.*"transformer\.h\.0\.ln_2\.weight" is not a parameter of the gpt_config's model/);
    old.dispose();
    model.dispose();
  });
});
