// Issue 8's bugs 2, 3, 5 and 6 (NaN never saved, config checked against the tensors before any
// allocation, no silent dtype conversion, the whole checkpoint header validated), issue 8's
// "evaluation checks for the stop between batches", and issue 7's Trainer defaults.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { tf, useBackend } from "../lib/engine/index.js";
import { FileFormatError, loadSafetensors, saveSafetensors } from "../lib/io/index.js";
import { GPT, loadGPT, saveGPT } from "../lib/models/gpt/index.js";
import {
  EvaluationStopped,
  NonFiniteLossError,
  PRESETS,
  Trainer,
  estimateLoss,
  learningRateAt,
  loadCheckpoint,
  trainConfig,
} from "../lib/train/index.js";
import { Rng } from "../lib/util/random.js";
import { editHeader, editMetadataJson, smallCheckpoint, splitSafetensors, joinSafetensors, tinyConfig, tokens } from "./support/checkpoint-files.js";

const data = { train: tokens(400, 1), val: tokens(100, 2) };

beforeAll(async () => {
  await useBackend("cpu");
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** The message of what `load` throws for `bytes` written to a file; it must be a one-line FileFormatError naming the file. */
function loadError(bytes: Uint8Array, load: (path: string) => unknown = loadCheckpoint): string {
  const path = join(mkdtempSync(join(tmpdir(), "bad-")), "ckpt.safetensors");
  writeFileSync(path, bytes);
  try {
    const loaded = load(path) as { model?: GPT; dispose?: () => void };
    (loaded.model ?? loaded).dispose?.();
  } catch (error) {
    expect(error, String(error)).toBeInstanceOf(FileFormatError);
    const message = (error as Error).message;
    expect(message.startsWith(`${path}: `), message).toBe(true);
    expect(message).not.toContain("\n");
    return message.slice(path.length + 2);
  }
  throw new Error("loaded a file that should have been rejected");
}

describe("bug 2: nothing non-finite is ever saved", () => {
  it("a NaN made by the last update stops the run at the final evaluation; the good checkpoint stays", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nan-"));
    const model = new GPT(tinyConfig, { seed: 4 });
    const trainer: Trainer = new Trainer(model, data, { batchSize: 2, maxIters: 4, evalInterval: 2, evalIters: 2, outDir: dir, alwaysSaveCheckpoint: true }, [
      // After the last step's update: as if it had produced a NaN (the step's own loss was finite).
      { onStep: (s) => s.iter === 3 && model.params["transformer.h.0.mlp.c_fc.weight"].assign(tf.fill([32, 8], NaN)) },
    ]);
    const error = await trainer.run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteLossError);
    expect((error as Error).message).toMatch(/^train loss estimate is NaN at iter 4: training stopped/);
    expect(trainer.bestValLoss).not.toBeNaN();
    expect(trainer.evals.map((e) => e.iter)).toEqual([0, 2]);
    const { state, model: saved } = loadCheckpoint(join(dir, "ckpt.safetensors"));
    expect(state.iter).toBe(2); // the last good one
    expect(Number.isFinite(state.bestValLoss)).toBe(true);
    trainer.dispose();
    model.dispose();
    saved.dispose();
  });

  it("an interrupt with NaN weights writes nothing and names the weight, the step and the value", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nan-"));
    const model = new GPT(tinyConfig, { seed: 4 });
    const trainer: Trainer = new Trainer(model, data, { batchSize: 2, maxIters: 10, evalInterval: 100, evalIters: 1, outDir: dir }, [
      {
        onStep: (s) => {
          if (s.iter !== 1) return;
          model.params["transformer.ln_f.bias"].assign(tf.tensor1d([0, 0, Infinity, 0, 0, 0, 0, 0]));
          trainer.stop();
        },
      },
    ]);
    const error = await trainer.run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteLossError);
    expect((error as Error).message).toMatch(/^weight "transformer.ln_f.bias" is Infinity at iter 2/);
    expect(() => readFileSync(join(dir, "ckpt.safetensors"))).toThrow(/ENOENT/);
    trainer.dispose();
    model.dispose();
  });

  it("saveCheckpoint refuses NaN moments and a NaN best_val_loss", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nan-"));
    const model = new GPT(tinyConfig, { seed: 4 });
    const trainer = new Trainer(model, data, { batchSize: 2, maxIters: 1, evalInterval: 100, evalIters: 1, outDir: dir });
    await trainer.run();
    trainer.bestValLoss = NaN;
    await expect(trainer.saveCheckpoint(join(dir, "a.safetensors"))).rejects.toThrow(/best val loss is NaN at iter 1/);
    trainer.bestValLoss = 3;
    const state = await trainer.optimizer.getState();
    state.v["transformer.wte.weight"][5] = NaN;
    trainer.optimizer.setState(state);
    await expect(trainer.saveCheckpoint(join(dir, "b.safetensors"))).rejects.toThrow(/optimizer moment "optimizer.v.transformer.wte.weight" is NaN/);
    trainer.dispose();
    model.dispose();
  });
});

describe("bug 2 through the CLI", () => {
  it("npm run train's script exits 1, naming the step, when the last update makes the weights blow up; nothing is saved", () => {
    const dir = mkdtempSync(join(tmpdir(), "nan-cli-"));
    // One step at a learning rate of about 1e10: its loss is finite, the final evaluation's is not.
    const ran = spawnSync(process.execPath, [
      "--import", "tsx", "scripts/train.ts", "--max_iters=1", "--eval_iters=1", "--learning_rate=1e12", "--grad_clip=0",
      "--out", dir, "--backend", "cpu", "--sample_tokens=0", "--n_layer=1", "--n_embd=16", "--n_head=1", "--block_size=8", "--batch_size=2",
    ], { encoding: "utf8", env: { ...process.env, COURSE_DEBUG: "" } });
    expect(ran.status, ran.stderr).toBe(1);
    expect(ran.stderr).toMatch(/^error: train loss estimate is NaN at iter 1: training stopped/m);
    expect(existsSync(join(dir, "ckpt.safetensors"))).toBe(false);
  });
});

describe("bug 3: gpt_config is checked against the tensors before a GPT is built", () => {
  it("a header claiming nLayer 100000 or nEmbd 1e9 fails at once, with bounded memory", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cfg-"));
    const path = await smallCheckpoint(dir);
    const rssBefore = process.memoryUsage().rss;
    const tensorsBefore = tf.memory().numTensors;
    for (const load of [loadCheckpoint, loadGPT]) {
      expect(loadError(editHeader(path, editMetadataJson("gpt_config", (c) => ({ ...c, nLayer: 100000 }))), load))
        .toMatch(/^tensor "transformer.h.99999.ln_1.weight" is missing/);
      expect(loadError(editHeader(path, editMetadataJson("gpt_config", (c) => ({ ...c, nEmbd: 1e9, nHead: 1 }))), load))
        .toMatch(/^tensor "transformer.wte.weight" has shape \[7,8\], gpt_config implies \[7,1000000000\]/);
      expect(loadError(editHeader(path, editMetadataJson("gpt_config", (c) => ({ ...c, vocabSize: 8 }))), load))
        .toMatch(/^tensor "transformer.wte.weight" has shape \[7,8\]/);
      expect(loadError(editHeader(path, editMetadataJson("gpt_config", (c) => ({ ...c, bias: false }))), load))
        .toMatch(/^tensor "transformer.h.0.ln_1.bias" is not a parameter/);
      expect(loadError(editHeader(path, editMetadataJson("gpt_config", (c) => ({ ...c, dropout: "0.1" }))), load))
        .toMatch(/^gpt_config.dropout: Invalid input: expected number/);
      expect(loadError(editHeader(path, editMetadataJson("gpt_config", (c) => ({ ...c, nHead: 3 }))), load))
        .toMatch(/^gpt_config: GPTConfig.nEmbd \(8\) must be divisible by nHead \(3\)/);
      expect(loadError(editHeader(path, (h) => delete h.__metadata__.gpt_config), load)).toMatch(/^metadata has no "gpt_config"/);
      expect(loadError(editHeader(path, (h) => (h.__metadata__.gpt_config = "{nLayer: 1")), load)).toMatch(/^metadata "gpt_config" is not valid JSON/);
    }
    expect(tf.memory().numTensors).toBe(tensorsBefore); // nothing was built
    const grew = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    console.log(`bug 3: rss grew ${grew.toFixed(1)} MB over 16 lying headers`);
    expect(grew).toBeLessThan(64);
  });
});

describe("bug 3: a consistent header still cannot make the model allocate without bound", () => {
  it("a blockSize whose attention mask would exceed 4 GiB is refused before building", () => {
    const dir = mkdtempSync(join(tmpdir(), "cfg-"));
    const path = join(dir, "long.safetensors");
    const config = { vocabSize: 2, blockSize: 40000, nLayer: 1, nHead: 1, nEmbd: 1, dropout: 0, bias: false };
    saveSafetensors(path, {
      "transformer.wte.weight": { dtype: "F32", shape: [2, 1], data: new Float32Array(2) },
      "transformer.wpe.weight": { dtype: "F32", shape: [40000, 1], data: new Float32Array(40000) },
    }, { gpt_config: JSON.stringify(config) });
    expect(loadError(readFileSync(path), loadGPT)).toMatch(/^gpt_config.blockSize 40000 needs a 40000² attention mask \(over 4 GiB\)/);
  });
});

describe("bug 5: weights must be F32 (F16/BF16 are widened exactly, nothing else converts)", () => {
  it("the same bytes labelled I32 or U32 are an error naming the tensor", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dtype-"));
    const path = await smallCheckpoint(dir);
    for (const dtype of ["I32", "U32"]) {
      const bytes = editHeader(path, (h) => (h["transformer.wpe.weight"].dtype = dtype));
      expect(loadError(bytes)).toMatch(new RegExp(`^tensor "transformer.wpe.weight" is ${dtype}; weights must be F32`));
      expect(loadError(bytes, loadGPT)).toMatch(new RegExp(`^tensor "transformer.wpe.weight" is ${dtype}; weights must be F32`));
    }
    // Moments too: the optimizer's state must be F32.
    expect(loadError(editHeader(path, (h) => (h["optimizer.m.transformer.wpe.weight"].dtype = "I32")))).toMatch(/"optimizer.m.transformer.wpe.weight" is I32, not F32/);
  });

  it("F16 and BF16 weights load as the float32 values they stand for", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dtype-"));
    const model = new GPT(tinyConfig, { seed: 1 });
    await saveGPT(model, join(dir, "m.safetensors"));
    const { tensors, metadata } = loadSafetensors(join(dir, "m.safetensors"));
    // wte in BF16 (its top 16 bits), ln_f.weight in F16 (1.0 → 0x3c00, 0.5 → 0x3800).
    const wte = tensors["transformer.wte.weight"].data as Float32Array;
    const top = Uint16Array.from(new Uint32Array(wte.buffer, wte.byteOffset, wte.length), (u) => u >>> 16);
    tensors["transformer.wte.weight"] = { dtype: "BF16", shape: [7, 8], data: top };
    tensors["transformer.ln_f.weight"] = { dtype: "F16", shape: [8], data: Uint16Array.from([0x3c00, 0x3800, 0x3c00, 0x3c00, 0x3c00, 0x3c00, 0x3c00, 0xbc00]) };
    saveSafetensors(join(dir, "half.safetensors"), tensors, metadata);
    const loaded = loadGPT(join(dir, "half.safetensors"));
    const truncated = Float32Array.from(new Float32Array(Uint32Array.from(top, (h) => h << 16).buffer));
    expect(loaded.params["transformer.wte.weight"].dataSync()).toEqual(truncated);
    expect(Array.from(loaded.params["transformer.ln_f.weight"].dataSync())).toEqual([1, 0.5, 1, 1, 1, 1, 1, -1]);
    model.dispose();
    loaded.dispose();
  });

  it("non-finite stored weights are an error, not a model that samples newlines", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dtype-"));
    const path = await smallCheckpoint(dir);
    const { header, data: bytes } = splitSafetensors(readFileSync(path));
    const [begin] = header["transformer.ln_f.weight"].data_offsets;
    new DataView(bytes.buffer).setFloat32(begin + 4 * 3, NaN, true);
    expect(loadError(joinSafetensors(header, bytes), loadGPT)).toMatch(/^tensor "transformer.ln_f.weight" holds NaN at index 3; weights must be finite/);
  });
});

describe("bug 6: the whole checkpoint header is validated before use", () => {
  const cases: [string, (h: Record<string, any>) => void, RegExp][] = [
    ["iter 3x", (h) => (h.__metadata__.iter = "3x"), /^metadata.iter: must be a non-negative integer/],
    ["iter -1", (h) => (h.__metadata__.iter = "-1"), /^metadata.iter: must be a non-negative integer/],
    ["iter empty", (h) => (h.__metadata__.iter = ""), /^metadata.iter: must be a non-negative integer/],
    ["optimizer_step 1.5", (h) => (h.__metadata__.optimizer_step = "1.5"), /^metadata.optimizer_step: must be a non-negative integer/],
    ["best_val_loss NaN", (h) => (h.__metadata__.best_val_loss = "NaN"), /^metadata.best_val_loss: must be a finite number or Infinity/],
    ["best_val_loss empty", (h) => (h.__metadata__.best_val_loss = ""), /^metadata.best_val_loss: must be a finite number or Infinity/],
    ["missing rng", (h) => delete h.__metadata__.rng, /^metadata.rng: Invalid input: expected string, received undefined/],
    ["rng of 3 words", editMetadataJson("rng", (r) => ({ ...r, s: r.s.slice(0, 3) })), /^rng.s/],
    ["rng word 2^32", editMetadataJson("rng", (r) => ({ ...r, s: [2 ** 32, 1, 2, 3] })), /^rng.s.0: /],
    ["rng spareNormal a string", editMetadataJson("rng", (r) => ({ ...r, spareNormal: "0.5" })), /^rng.spareNormal: /],
    ["rng not JSON", (h) => (h.__metadata__.rng = "undefined"), /^metadata "rng" is not valid JSON/],
    ["evals not an array", editMetadataJson("evals", () => ({ iter: 0 })), /^evals: Invalid input: expected array/],
    ["eval val a string", editMetadataJson("evals", (e) => [{ ...e[0], val: "2.1" }]), /^evals.0.val: Invalid input: expected number/],
    ["eval iter negative", editMetadataJson("evals", (e) => [{ ...e[0], iter: -2 }]), /^evals.0.iter: /],
    ["learningRate abc", editMetadataJson("train_config", (c) => ({ ...c, learningRate: "abc" })), /^train_config: TrainConfig.learningRate must be a finite number > 0, got "abc"/],
    ["learningRate -1", editMetadataJson("train_config", (c) => ({ ...c, learningRate: -1 })), /^train_config: TrainConfig.learningRate must be a finite number > 0, got -1/],
    ["gradClip -1", editMetadataJson("train_config", (c) => ({ ...c, gradClip: -1 })), /^train_config: TrainConfig.gradClip must be a finite number ≥ 0/],
    ["batchSize 0", editMetadataJson("train_config", (c) => ({ ...c, batchSize: 0 })), /^train_config: TrainConfig.batchSize must be a positive integer/],
    ["unknown train field", editMetadataJson("train_config", (c) => ({ ...c, learning_rate: 1 })), /^train_config: TrainConfig has no field "learning_rate"/],
    ["train_config an array", editMetadataJson("train_config", () => [1]), /^train_config: Invalid input: expected record/],
    ["a hole where a tensor was", (h) => delete h["optimizer.v.transformer.h.0.attn.c_proj.bias"], /^tensor ".*" at \[\d+, \d+\] leaves a gap after byte \d+/],
    ["wrong format", (h) => (h.__metadata__.format = "other/1"), /^not a training checkpoint \(format "other\/1"/],
  ];
  it.each(cases)("%s → one line naming the file and the field", async (_, edit, expected) => {
    const dir = mkdtempSync(join(tmpdir(), "meta-"));
    const path = await smallCheckpoint(dir);
    expect(loadError(editHeader(path, edit))).toMatch(expected);
  });

  it("a missing moment (tensor and bytes removed) is named", async () => {
    const dir = mkdtempSync(join(tmpdir(), "meta-"));
    const path = await smallCheckpoint(dir);
    const { tensors, metadata } = loadSafetensors(path);
    delete tensors["optimizer.v.transformer.h.0.attn.c_proj.bias"];
    saveSafetensors(path, tensors, metadata);
    expect(loadError(readFileSync(path))).toMatch(/^tensor "optimizer.v.transformer.h.0.attn.c_proj.bias" is missing/);
  });

  it("a moment with the wrong shape, or a negative second moment, is rejected", async () => {
    const dir = mkdtempSync(join(tmpdir(), "meta-"));
    const path = await smallCheckpoint(dir);
    const name = "optimizer.m.transformer.h.0.ln_1.weight";
    expect(loadError(editHeader(path, (h) => (h[name].shape = [2, 4])))).toMatch(/"optimizer.m.transformer.h.0.ln_1.weight" has shape \[2,4\], its parameter \[8\]/);
    const { header, data: bytes } = splitSafetensors(readFileSync(path));
    new DataView(bytes.buffer).setFloat32(header["optimizer.v.transformer.h.0.ln_1.weight"].data_offsets[0], -1, true);
    expect(loadError(joinSafetensors(header, bytes))).toMatch(/"optimizer.v.transformer.h.0.ln_1.weight" has negative values/);
  });
});

describe("trainConfig rejects wrong types and ranges, naming the field", () => {
  const wrong: [Record<string, unknown>, ErrorConstructor, RegExp][] = [
    [{ learningRate: "abc" }, TypeError, /TrainConfig.learningRate must be a finite number > 0, got "abc"/],
    [{ learningRate: -1 }, RangeError, /TrainConfig.learningRate must be a finite number > 0, got -1/],
    [{ learningRate: NaN }, RangeError, /TrainConfig.learningRate/],
    [{ learningRate: Infinity }, RangeError, /TrainConfig.learningRate/],
    [{ gradClip: -1 }, RangeError, /TrainConfig.gradClip must be a finite number ≥ 0/],
    [{ seed: 1.5 }, RangeError, /TrainConfig.seed must be an integer, got 1.5/],
    [{ seed: "abc" }, TypeError, /TrainConfig.seed/],
    [{ alwaysSaveCheckpoint: "yes" }, TypeError, /TrainConfig.alwaysSaveCheckpoint must be true or false, got "yes"/],
    [{ decayLr: 1 }, TypeError, /TrainConfig.decayLr/],
    [{ beta2: 1 }, RangeError, /TrainConfig.beta2 must be a number in \[0, 1\)/],
    [{ weightDecay: -0.1 }, RangeError, /TrainConfig.weightDecay/],
    [{ minLr: "0" }, TypeError, /TrainConfig.minLr/],
    [{ maxIters: 2.5 }, RangeError, /TrainConfig.maxIters must be a non-negative integer/],
    [{ evalIters: 0 }, RangeError, /TrainConfig.evalIters must be a positive integer/],
    [{ outDir: 5 }, TypeError, /TrainConfig.outDir must be a folder path or null/],
    [{ outDir: "" }, RangeError, /TrainConfig.outDir/],
    [{ maxIter: 40 }, TypeError, /TrainConfig has no field "maxIter"/],
    [{ maxIters: 100, warmupIters: 50, lrDecayIters: 20 }, RangeError, /lrDecayIters \(20\) must be at least warmupIters \(50\)/],
  ];
  it.each(wrong)("%o", (partial, kind, message) => {
    expect(() => trainConfig(partial as never)).toThrow(kind);
    expect(() => trainConfig(partial as never)).toThrow(message);
  });

  it("undefined means not given", () => {
    expect(trainConfig({ learningRate: undefined, maxIters: 40 }).learningRate).toBe(6e-4);
  });
});

describe("evaluation stops between batches", () => {
  it("estimateLoss asks shouldStop between batches and throws EvaluationStopped", async () => {
    const model = new GPT(tinyConfig, { seed: 2 });
    let asked = 0;
    const error = await estimateLoss(model, data.val, { batchSize: 2, iters: 50, rng: new Rng(1), shouldStop: () => ++asked > 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EvaluationStopped);
    expect((error as EvaluationStopped).batchesDone).toBe(3);
    model.dispose();
  });

  it("a stop requested from the event loop during an evaluation takes effect within a batch; the last step is saved", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stop-"));
    const model = new GPT(tinyConfig, { seed: 2 });
    let evalBatches = 0;
    const forward = model.forward.bind(model);
    const trainer: Trainer = new Trainer(model, data, { batchSize: 2, maxIters: 20, evalInterval: 5, evalIters: 200, outDir: dir, alwaysSaveCheckpoint: false });
    model.forward = (x, y, options) => {
      if (!options?.training && trainer.iter === 5 && ++evalBatches === 2) {
        setImmediate(() => trainer.stop()); // as a SIGINT handler would: it runs only if the evaluation yields
      }
      return forward(x, y, options);
    };
    const tensorsBefore = tf.memory().numTensors;
    const result = await trainer.run();
    expect(tf.memory().numTensors).toBe(tensorsBefore); // the abandoned estimate freed its sum
    expect(result.interrupted).toBe(true);
    expect(evalBatches).toBeLessThanOrEqual(3); // of 2 × 200
    expect(result.evals.map((e) => e.iter)).toEqual([0]); // the interrupted one is not an evaluation
    expect(result.iter).toBe(5);
    expect(result.checkpoint).toBe(join(dir, "ckpt.safetensors"));
    const { state, model: saved } = loadCheckpoint(result.checkpoint!);
    expect(state.iter).toBe(5);
    expect(state.evals.map((e) => e.iter)).toEqual([0]);
    // Resuming evaluates iter 5 again, then trains on.
    const resumed = Trainer.fromCheckpoint(result.checkpoint!, data, { maxIters: 6, evalIters: 1 });
    const rest = await resumed.run();
    expect(rest.evals.map((e) => e.iter)).toEqual([0, 5, 6]);
    for (const t of [trainer, resumed]) {
      t.dispose();
      t.model.dispose();
    }
    saved.dispose();
  });

  it("a stop during the final evaluation saves the finished run as interrupted", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stop-"));
    const model = new GPT(tinyConfig, { seed: 2 });
    const forward = model.forward.bind(model);
    const trainer: Trainer = new Trainer(model, data, { batchSize: 2, maxIters: 3, evalInterval: 100, evalIters: 100, outDir: dir });
    model.forward = (x, y, options) => {
      if (!options?.training && trainer.iter === 3) setImmediate(() => trainer.stop());
      return forward(x, y, options);
    };
    const result = await trainer.run();
    expect(result).toMatchObject({ iter: 3, interrupted: true, checkpoint: join(dir, "ckpt.safetensors") });
    expect(result.evals.map((e) => e.iter)).toEqual([0]);
    trainer.dispose();
    model.dispose();
  });
});

describe("Trainer defaults follow maxIters (issue 7)", () => {
  it("new Trainer(model, data, { maxIters: 40 }) warms up for 4 steps and decays over 40", async () => {
    const warn = vi.spyOn(console, "warn");
    const model = new GPT(tinyConfig, { seed: 5 });
    const trainer = new Trainer(model, data, { maxIters: 40, batchSize: 2, evalIters: 1 });
    expect(trainer.config).toMatchObject({ warmupIters: 4, lrDecayIters: 40, learningRate: 6e-4, minLr: 6e-5 });
    const { losses } = await trainer.run();
    const lr = losses.map((s) => s.lr);
    // Hand-computed: warm-up lr·(it+1)/(warmup+1), then minLr + ½(1 + cos(π·(it−4)/36))·(lr − minLr).
    expect(lr[0]).toBeCloseTo(1.2e-4, 15);
    expect(lr[3]).toBeCloseTo(4.8e-4, 15);
    expect(lr[4]).toBeCloseTo(6e-4, 15);
    expect(lr[22]).toBeCloseTo(3.3e-4, 15); // halfway: cos(π/2) = 0
    expect(lr[31]).toBeCloseTo(6e-5 + 0.5 * (1 + Math.cos(Math.PI * 0.75)) * 5.4e-4, 15);
    expect(lr[39]).toBeCloseTo(6e-5 + 0.5 * (1 + Math.cos((Math.PI * 35) / 36)) * 5.4e-4, 15);
    expect(warn).not.toHaveBeenCalled();
    expect(trainConfig({ maxIters: 600000 })).toMatchObject({ warmupIters: 2000, lrDecayIters: 600000 }); // nanoGPT's
    expect(trainConfig({ maxIters: 5 })).toMatchObject({ warmupIters: 0, lrDecayIters: 5 });
    expect(learningRateAt(0, trainConfig({ maxIters: 5 }))).toBe(6e-4);
    trainer.dispose();
    model.dispose();
  });

  it("explicit values are kept, and warn once when they make no sense", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const model = new GPT(tinyConfig, { seed: 5 });
    const a = new Trainer(model, data, { maxIters: 40, warmupIters: 50, lrDecayIters: 600000 });
    expect(a.config).toMatchObject({ warmupIters: 50, lrDecayIters: 600000 });
    expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
      "TrainConfig: warmupIters (50) ≥ maxIters (40): the whole run is warm-up and never reaches learningRate",
      "TrainConfig: lrDecayIters (600000) ≥ 2 × maxIters (40): the run ends before half the learning-rate decay",
    ]);
    warn.mockClear();
    const b = new Trainer(model, data, { maxIters: 40, warmupIters: 4, lrDecayIters: 60 });
    const c = new Trainer(model, data, { maxIters: 40, decayLr: false, warmupIters: 2000 });
    expect(warn).not.toHaveBeenCalled();
    expect(trainConfig(PRESETS["shakespeare-char"].train)).toMatchObject({ warmupIters: 100, lrDecayIters: 5000 });
    for (const t of [a, b, c]) t.dispose();
    model.dispose();
  });

  it("a resumed run keeps the schedule its checkpoint saved, even with a new maxIters", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sched-"));
    const model = new GPT(tinyConfig, { seed: 6 });
    const first = new Trainer(model, data, { maxIters: 30, batchSize: 2, evalInterval: 100, evalIters: 1, outDir: dir });
    expect(first.config).toMatchObject({ warmupIters: 3, lrDecayIters: 30 });
    await first.run();
    const resumed = Trainer.fromCheckpoint(join(dir, "ckpt.safetensors"), data, { maxIters: 34 });
    expect(resumed.config).toMatchObject({ maxIters: 34, warmupIters: 3, lrDecayIters: 30 });
    const { losses } = await resumed.run();
    expect(losses.map((s) => s.lr)).toEqual([6e-5, 6e-5, 6e-5, 6e-5]); // past lrDecayIters: minLr
    for (const t of [first, resumed]) {
      t.dispose();
      t.model.dispose();
    }
  });
});
