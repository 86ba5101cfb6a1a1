// Training: AdamW + schedule + clipping against torch.optim.AdamW (tests/reference/adamw_reference.py),
// overfitting one batch, checkpoints, exact resume, memory, NaN handling, progress reporting.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackendUnavailable, shutdownEngine, tf, useBackend } from "../lib/engine/index.js";
import { loadSafetensors, saveSafetensors, type StoredTensor } from "../lib/io/index.js";
import { GPT, loadGPT, type GPTConfig } from "../lib/models/gpt/index.js";
import { generate } from "../lib/sample/index.js";
import {
  AdamW,
  NonFiniteLossError,
  PRESETS,
  Trainer,
  clipGradNorm,
  clipScale,
  estimateLoss,
  getBatch,
  globalNorm,
  learningRateAt,
  loadCheckpoint,
  lossAndGrads,
  lossChart,
  terminalProgress,
  trainConfig,
  trainingProgress,
  type StepInfo,
  type TrainConfig,
} from "../lib/train/index.js";
import { Rng } from "../lib/util/random.js";

const PYTHON = "/usr/bin/python3";
const hasTorch = spawnSync(PYTHON, ["-c", "import torch"]).status === 0;
if (!hasTorch) console.warn(`SKIPPING PyTorch AdamW test: ${PYTHON} cannot import torch (apt-get install python3-torch)`);

const tiny: GPTConfig = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true };

/** A learnable token stream: mostly "next = previous + 1 (mod 11)", sometimes a random token. */
function syntheticTokens(n: number, seed: number): Uint16Array {
  const rng = new Rng(seed);
  const data = new Uint16Array(n);
  for (let i = 1; i < n; i++) data[i] = rng.random() < 0.8 ? (data[i - 1] + 1) % 11 : rng.randint(0, 11);
  return data;
}
const data = { train: syntheticTokens(3000, 1), val: syntheticTokens(600, 2) };

const quick: Partial<TrainConfig> = {
  batchSize: 4,
  maxIters: 12,
  evalInterval: 4,
  evalIters: 2,
  learningRate: 3e-3,
  warmupIters: 2,
  lrDecayIters: 12,
  minLr: 3e-4,
  outDir: null,
};

beforeAll(async () => {
  await useBackend("cpu");
});

describe("AdamW, schedule and clipping vs PyTorch", () => {
  it.skipIf(!hasTorch)("10 steps agree with torch.optim.AdamW + nanoGPT's schedule + clip_grad_norm_", () => {
    const dir = mkdtempSync(join(tmpdir(), "adamw-"));
    const rng = new Rng(5);
    const shapes: Record<string, number[]> = { "w.weight": [6, 4], "emb.weight": [5, 3], "ln.weight": [4], "w.bias": [6] };
    const config = {
      steps: 10, learningRate: 0.05, minLr: 0.005, warmupIters: 3, lrDecayIters: 8,
      beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1.0,
    };
    const random = (shape: number[], scale: number) =>
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * rng.normal());
    const input: Record<string, StoredTensor> = {};
    for (const [name, shape] of Object.entries(shapes)) {
      input[`p.${name}`] = { dtype: "F32", shape, data: random(shape, 1) };
      input[`a.${name}`] = { dtype: "F32", shape, data: random(shape, 0.05) };
      for (let step = 0; step < config.steps; step++) {
        // Step-dependent size, so that some steps are clipped (norm > 1) and some are not.
        input[`b.${step}.${name}`] = { dtype: "F32", shape, data: random(shape, step % 3 === 0 ? 0.02 : 0.6) };
      }
    }
    saveSafetensors(join(dir, "in.safetensors"), input, { config: JSON.stringify(config) });
    const ran = spawnSync(PYTHON, ["tests/reference/adamw_reference.py", join(dir, "in.safetensors"), join(dir, "out.safetensors")], { encoding: "utf8" });
    if (ran.status !== 0) throw new Error(ran.stderr);
    const ref = loadSafetensors(join(dir, "out.safetensors")).tensors;

    const params: Record<string, tf.Variable> = {};
    for (const [name, shape] of Object.entries(shapes)) params[name] = tf.variable(tf.tensor(input[`p.${name}`].data as Float32Array, shape));
    const optimizer = new AdamW(params, { beta1: config.beta1, beta2: config.beta2, eps: config.eps, weightDecay: config.weightDecay });
    const schedule = { ...config, decayLr: true };
    const norms: number[] = [];
    for (let step = 0; step < config.steps; step++) {
      const grads: Record<string, tf.Tensor> = {};
      for (const [name, shape] of Object.entries(shapes)) {
        grads[name] = tf.tidy(() =>
          tf.add(tf.mul(tf.tensor(input[`a.${name}`].data as Float32Array, shape), params[name]), tf.tensor(input[`b.${step}.${name}`].data as Float32Array, shape)),
        );
      }
      const normTensor = globalNorm(grads);
      const norm = normTensor.dataSync()[0];
      norms.push(norm);
      optimizer.step(grads, { learningRate: learningRateAt(step, schedule), gradScale: clipScale(norm, config.gradClip) });
      tf.dispose([normTensor, ...Object.values(grads)]);
    }
    const refNorms = Array.from(ref.norms.data as Float32Array);
    expect(refNorms.filter((n) => n > 1).length).toBeGreaterThan(2); // clipping happened…
    expect(refNorms.filter((n) => n < 1).length).toBeGreaterThan(2); // …and not always
    norms.forEach((n, i) => expect(Math.abs(n - refNorms[i])).toBeLessThan(1e-5));
    Array.from(ref.lrs.data as Float32Array).forEach((lr, i) => expect(learningRateAt(i, schedule)).toBeCloseTo(lr, 7));
    let worst = 0;
    for (const name of Object.keys(shapes)) {
      const ours = params[name].dataSync();
      const theirs = ref[`p.${name}`].data as Float32Array;
      const initial = input[`p.${name}`].data as Float32Array;
      for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - theirs[i]));
      expect(Math.max(...Array.from(theirs, (v, i) => Math.abs(v - initial[i]))), `${name} moved`).toBeGreaterThan(0.05);
    }
    console.log(`AdamW parity: max |param error| after 10 steps ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-5);
    optimizer.dispose();
    tf.dispose(Object.values(params));
  });
});

describe("pieces", () => {
  it("learning rate: linear warm-up, cosine decay, then minLr (nanoGPT's get_lr)", () => {
    const s = { learningRate: 1, minLr: 0.1, warmupIters: 10, lrDecayIters: 110, decayLr: true };
    expect(learningRateAt(0, s)).toBeCloseTo(1 / 11, 12);
    expect(learningRateAt(9, s)).toBeCloseTo(10 / 11, 12);
    expect(learningRateAt(10, s)).toBeCloseTo(1, 12);
    expect(learningRateAt(60, s)).toBeCloseTo(0.55, 12);
    expect(learningRateAt(85, s)).toBeCloseTo(0.1 + 0.45 * (1 + Math.cos((Math.PI * 3) / 4)), 12);
    expect(learningRateAt(110, s)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(5000, s)).toBe(0.1);
    expect(learningRateAt(5, { ...s, decayLr: false })).toBe(1);
  });

  it("clipGradNorm scales to the max norm, as torch's clip_grad_norm_", () => {
    const grads = { a: tf.tensor1d([3, 4]), b: tf.tensor2d([[12]]) };
    const { grads: clipped, norm } = clipGradNorm(grads, 1);
    expect(norm.dataSync()[0]).toBeCloseTo(13, 5);
    expect(Array.from(clipped.a.dataSync())).toEqual(Array.from(new Float32Array([3 / (13 + 1e-6), 4 / (13 + 1e-6)])));
    expect(clipped.b.dataSync()[0]).toBeCloseTo(12 / 13, 6);
    expect(clipScale(0.5, 1)).toBe(1);
    const small = clipGradNorm(grads, 100); // under the limit: unchanged
    expect(Array.from(small.grads.a.dataSync())).toEqual([3, 4]);
    tf.dispose([norm, small.norm, ...Object.values(grads), ...Object.values(clipped), ...Object.values(small.grads)]);
  });

  it("getBatch takes windows and their next tokens, reproducibly", () => {
    const tokens = Int32Array.from({ length: 100 }, (_, i) => i);
    const { x, y } = getBatch(tokens, 5, 3, new Rng(4));
    const xs = x.arraySync();
    const ys = y.arraySync();
    expect(x.shape).toEqual([3, 5]);
    expect(x.dtype).toBe("int32");
    for (let b = 0; b < 3; b++) {
      expect(xs[b]).toEqual(Array.from({ length: 5 }, (_, t) => xs[b][0] + t));
      expect(ys[b]).toEqual(xs[b].map((v) => v + 1));
      expect(xs[b][0]).toBeLessThanOrEqual(100 - 6);
    }
    const again = getBatch(tokens, 5, 3, new Rng(4));
    expect(again.x.arraySync()).toEqual(xs);
    tf.dispose([x, y, again.x, again.y]);
  });

  it("weight decay applies to matrices and embeddings only", () => {
    const params = { m: tf.variable(tf.ones([2, 2])), v: tf.variable(tf.ones([2])) };
    const optimizer = new AdamW(params, { learningRate: 0.1, weightDecay: 0.5 });
    const zeros = { m: tf.zeros([2, 2]), v: tf.zeros([2]) };
    optimizer.step(zeros);
    expect(Array.from(params.m.dataSync())).toEqual([0.95, 0.95, 0.95, 0.95].map(Math.fround));
    expect(Array.from(params.v.dataSync())).toEqual([1, 1]);
    optimizer.dispose();
    tf.dispose([params.m, params.v, ...Object.values(zeros)]);
  });
});

describe("training a GPT", () => {
  it("overfits one batch to near-zero loss", () => {
    const model = new GPT({ ...tiny, nEmbd: 32 }, { seed: 1 });
    const optimizer = new AdamW(model.params, { learningRate: 1e-2, weightDecay: 0 });
    const { x, y } = getBatch(data.train, tiny.blockSize, 4, new Rng(3));
    let loss = Infinity;
    for (let step = 0; step < 150 && loss > 0.02; step++) {
      const out = lossAndGrads(model, x, y);
      loss = out.loss.dataSync()[0];
      optimizer.step(out.grads);
      tf.dispose([out.loss, ...Object.values(out.grads)]);
    }
    expect(loss).toBeLessThan(0.02);
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  });

  it("accumulating 2 micro-batches of 4 equals one batch of 8 (the same windows)", async () => {
    const run = async (batchSize: number, gradientAccumulationSteps: number) => {
      const trainer = new Trainer(new GPT(tiny, { seed: 9 }), data, { ...quick, maxIters: 4, evalInterval: 100, batchSize, gradientAccumulationSteps });
      const result = await trainer.run();
      const wte = trainer.model.params["transformer.wte.weight"].dataSync();
      trainer.dispose();
      trainer.model.dispose();
      return { losses: result.losses.map((s) => s.loss), norms: result.losses.map((s) => s.gradNorm), wte };
    };
    const whole = await run(8, 1);
    const accumulated = await run(4, 2);
    whole.losses.forEach((l, i) => expect(accumulated.losses[i]).toBeCloseTo(l, 5));
    whole.norms.forEach((n, i) => expect(accumulated.norms[i]).toBeCloseTo(n, 5));
    let worst = 0;
    whole.wte.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - accumulated.wte[i]))));
    expect(worst).toBeLessThan(1e-5);
    const single = await run(4, 1); // and differs from using only the first half
    expect(Math.abs(single.norms[0] - whole.norms[0])).toBeGreaterThan(1e-3);
  });

  it("estimateLoss is the mean loss over its batches, in eval mode", async () => {
    const model = new GPT({ ...tiny, dropout: 0.2 }, { seed: 10 });
    const estimate = await estimateLoss(model, data.val, { batchSize: 3, iters: 4, rng: new Rng(11) });
    const rng = new Rng(11);
    let sum = 0;
    for (let i = 0; i < 4; i++) {
      const { x, y } = getBatch(data.val, tiny.blockSize, 3, rng);
      const { logits, loss } = model.forward(x, y);
      sum += loss!.dataSync()[0];
      tf.dispose([x, y, logits, loss!]);
    }
    expect(estimate).toBeCloseTo(sum / 4, 6);
    model.dispose();
  });

  it("resumes from a checkpoint (after a Ctrl-C style stop) on exactly the same loss curve", async () => {
    const dir = mkdtempSync(join(tmpdir(), "resume-"));
    const config = { ...quick, gradientAccumulationSteps: 2 };
    const model = () => new GPT({ ...tiny, dropout: 0.1 }, { seed: 2 });

    const straight = new Trainer(model(), data, config);
    const full = await straight.run();
    expect(full.interrupted).toBe(false);
    expect(full.losses.map((s) => s.iter)).toEqual([...Array(12).keys()]);
    expect(full.evals.map((e) => e.iter)).toEqual([0, 4, 8, 12]);
    expect(full.evals[3].val).toBeLessThan(full.evals[0].val);

    const first: Trainer = new Trainer(model(), data, { ...config, outDir: dir }, [{ onStep: (s) => s.iter === 5 && first.stop() }]);
    const part = await first.run();
    expect(part.interrupted).toBe(true);
    expect(part.iter).toBe(6);
    expect(part.checkpoint).toBe(join(dir, "ckpt.safetensors"));
    expect(readdirSync(dir)).toEqual(["ckpt.safetensors"]); // the temp file was renamed away

    const resumed = Trainer.fromCheckpoint(part.checkpoint!, data);
    expect(resumed.iter).toBe(6);
    const rest = await resumed.run();
    const curve = [...part.losses, ...rest.losses].map((s) => s.loss);
    expect(curve).toEqual(full.losses.map((s) => s.loss)); // bit-exact
    expect(rest.evals).toEqual(full.evals);
    for (const [name, v] of Object.entries(straight.model.params)) {
      expect(resumed.model.params[name].dataSync(), name).toEqual(v.dataSync());
    }
    for (const t of [straight, first, resumed]) {
      t.dispose();
      t.model.dispose();
    }
  });

  it("round-trips a checkpoint bit-exactly (weights, AdamW moments and step, RNG, config)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ckpt-"));
    const trainer = new Trainer(new GPT(tiny, { seed: 3 }), data, { ...quick, maxIters: 3, outDir: dir });
    await trainer.run();
    const path = await trainer.saveCheckpoint();
    const { model, state } = loadCheckpoint(path);
    expect(model.config).toEqual(trainer.model.config);
    for (const [name, v] of Object.entries(trainer.model.params)) expect(model.params[name].dataSync(), name).toEqual(v.dataSync());
    const optimizerState = await trainer.optimizer.getState();
    expect(state.optimizer.step).toBe(3);
    for (const name of Object.keys(trainer.model.params)) {
      expect(state.optimizer.m[name]).toEqual(optimizerState.m[name]);
      expect(state.optimizer.v[name]).toEqual(optimizerState.v[name]);
    }
    expect(state.rng).toEqual(trainer.rng.getState());
    expect(state.iter).toBe(3);
    expect(state.trainConfig).toEqual(trainer.config);
    expect(state.evals).toEqual(trainer.evals);
    expect(state.bestValLoss).toBe(trainer.bestValLoss);
    // The file is loadable by anything that reads safetensors, weights under nanoGPT's names.
    expect(Object.keys(loadSafetensors(path).tensors)).toContain("transformer.h.1.mlp.c_fc.weight");
    trainer.dispose();
    trainer.model.dispose();
    model.dispose();
  });

  it("keeps the tensor count flat across steps", async () => {
    const counts: number[] = [];
    const trainer = new Trainer(new GPT({ ...tiny, dropout: 0.1 }, { seed: 4 }), data, { ...quick, maxIters: 6, evalInterval: 2 }, [
      { onStep: () => counts.push(tf.memory().numTensors) },
    ]);
    await trainer.run();
    expect(new Set(counts).size).toBe(1);
    trainer.dispose();
    trainer.model.dispose();
  });

  it("stops on a NaN loss, naming the step and the value", async () => {
    const model = new GPT(tiny, { seed: 5 });
    const trainer = new Trainer(model, data, { ...quick, maxIters: 5, evalInterval: 100 }, [
      { onStep: (s) => s.iter === 2 && model.params["transformer.ln_f.weight"].assign(tf.fill([16], NaN)) },
    ]);
    const error = await trainer.run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteLossError);
    expect((error as NonFiniteLossError).iter).toBe(3);
    expect((error as NonFiniteLossError).value).toBeNaN();
    expect((error as Error).message).toMatch(/loss is NaN at iter 3/);
    trainer.dispose();
    model.dispose();
  });
});

describe("progress", () => {
  it("prints nanoGPT-style lines when not on a terminal, and feeds a live chart", async () => {
    let text = "";
    const figures: { data: { y: number[] }[]; layout: { title: { text: string } } }[] = [];
    const model = new GPT(tiny, { seed: 6 });
    const trainer = new Trainer(model, data, { ...quick, maxIters: 4, evalInterval: 2, logInterval: 2 }, [
      terminalProgress({ stream: { write: (s: string) => (text += s), isTTY: false } }),
      lossChart({ plot: (fig) => figures.push(fig as (typeof figures)[number]) }, { everyMs: 0 }),
    ]);
    const result = await trainer.run();
    const lines = text.trim().split("\n");
    expect(lines.filter((l) => l.startsWith("iter "))).toHaveLength(3); // iters 0, 2 and the last (3)
    expect(lines[0]).toMatch(/^step 0: train loss \d\.\d{4}, val loss \d\.\d{4}$/);
    expect(lines[1]).toMatch(/^iter 0: loss \d\.\d{4}, time \d+ms, lr 1\.00e-3$/);
    const last = figures[figures.length - 1];
    expect(last.data[0].y).toEqual(result.losses.map((s: StepInfo) => s.loss));
    expect(last.data[2].y).toEqual(result.evals.map((e) => e.val));
    expect(last.layout.title.text).toMatch(/^Loss · iter 4\/4 · loss \d\.\d{4} · [\d.]+ it\/s · ETA 0s$/);
    expect(trainingProgress().onStep).toBeTypeOf("function"); // outside a notebook: the terminal bar
    trainer.dispose();
    model.dispose();
  });
});

describe("presets", () => {
  it("match nanoGPT's shakespeare_char config and README CPU line", () => {
    const gpu = PRESETS["shakespeare-char"];
    expect(gpu.model).toEqual({ blockSize: 256, nLayer: 6, nHead: 6, nEmbd: 384, dropout: 0.2, bias: false });
    expect(trainConfig(gpu.train)).toMatchObject({
      batchSize: 64, learningRate: 1e-3, maxIters: 5000, lrDecayIters: 5000, minLr: 1e-4, beta2: 0.99,
      warmupIters: 100, evalInterval: 250, evalIters: 200, weightDecay: 0.1, gradClip: 1,
    });
    const cpu = PRESETS["shakespeare-char-cpu"];
    expect(cpu.model).toEqual({ blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0, bias: false });
    expect(trainConfig(cpu.train)).toMatchObject({ batchSize: 12, maxIters: 2000, lrDecayIters: 2000, evalIters: 20, learningRate: 1e-3 });
    expect(existsSync("lib/train/presets.ts")).toBe(true);
  });
});

// The same run on WebGPU (a software adapter will do): the Trainer must never read tensors
// synchronously (impossible there under Node) nor build kernels with too many inputs.
const webgpu = await useBackend("webgpu", { allowSoftware: true }).then(
  () => "",
  (error: unknown) => (error instanceof BackendUnavailable ? error.reason : String(error)),
);
if (webgpu) console.warn(`SKIPPING WebGPU training test: ${webgpu}`);

describe("WebGPU", () => {
  afterAll(async () => {
    await shutdownEngine();
  });

  it.runIf(webgpu === "")("trains, checkpoints and samples on the same loss curve as cpu", async () => {
    const dir = mkdtempSync(join(tmpdir(), "webgpu-"));
    const config = { ...quick, maxIters: 6, evalInterval: 3, gradientAccumulationSteps: 2, outDir: dir };
    const run = async () => {
      const trainer = new Trainer(new GPT({ ...tiny, dropout: 0.1 }, { seed: 8 }), data, config);
      const result = await trainer.run();
      trainer.dispose();
      trainer.model.dispose();
      return result;
    };
    await useBackend("cpu");
    const onCpu = await run();
    await useBackend("webgpu", { allowSoftware: true });
    const onGpu = await run();
    expect(onGpu.checkpoint).toBe(join(dir, "ckpt.safetensors"));
    onGpu.losses.forEach((s, i) => {
      expect(Math.abs(s.loss - onCpu.losses[i].loss)).toBeLessThan(1e-4);
      expect(Math.abs(s.gradNorm - onCpu.losses[i].gradNorm)).toBeLessThan(1e-4);
    });
    onGpu.evals.forEach((e, i) => expect(Math.abs(e.val - onCpu.evals[i].val)).toBeLessThan(1e-4));
    const greedy = async () => {
      const model = loadGPT(onGpu.checkpoint!);
      const ids = await generate(model, [1, 2], { maxNewTokens: 6, temperature: 0 });
      model.dispose();
      return ids;
    };
    const sampledOnGpu = await greedy();
    await useBackend("cpu");
    expect(sampledOnGpu).toEqual(await greedy());
  });
});
