// Training like build-nanogpt: a total batch in tokens by gradient accumulation, the Trainer reading
// shards in order (and resuming where it stopped), evaluation from the stream's start, FLOPs per
// token and MFU by hand, tokens/s in the log, periodic samples, the gpt2-shakespeare preset, and
// `npm run train` on shard data.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tf, useBackend } from "../lib/engine/index.js";
import { ShardLoader, writeShards } from "../lib/data/index.js";
import { loadSafetensors } from "../lib/io/index.js";
import { GPT, GPT2_SMALL, type GPTConfig } from "../lib/models/gpt/index.js";
import { loadTiktokenEncoding } from "../lib/tokenizers/index.js";
import {
  PRESETS, Trainer, accumulationSteps, estimateLoss, flopsPerToken, formatMfu, loadCheckpoint, mfu, paddedDecoder, paddedVocabSize, peakFlopsFor,
  periodicSamples, terminalProgress, trainConfig, withAccumulation, type TrainConfig,
} from "../lib/train/index.js";
import { Rng } from "../lib/util/random.js";

const tiny: GPTConfig = { vocabSize: 11, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0, bias: true };
const quick: Partial<TrainConfig> = { batchSize: 2, maxIters: 4, evalInterval: 100, evalIters: 2, learningRate: 3e-3, outDir: null };

/** A learnable stream (mostly next = previous + 1 mod 11) written as shards of 100 tokens. */
async function syntheticShards(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "train-shards-"));
  const rng = new Rng(3);
  const tokens = new Uint16Array(1000);
  for (let i = 1; i < tokens.length; i++) tokens[i] = rng.random() < 0.8 ? (tokens[i - 1] + 1) % 11 : rng.randint(0, 11);
  await writeShards(dir, tokens, { dataset: "synthetic", tokenizer: "gpt2", vocabSize: 11, eot: 0, shardTokens: 100 });
  return dir;
}

let dir: string;
beforeAll(async () => {
  await useBackend("cpu");
  dir = await syntheticShards();
});

const shards = () => ({ train: ShardLoader.open(dir, "train"), val: ShardLoader.open(dir, "val") });

describe("total batch in tokens", () => {
  it("derives the accumulation steps, and names all three numbers when they do not divide", () => {
    expect(accumulationSteps(524288, 64, 1024)).toBe(8); // build-nanogpt's 2**19 on one GPU at B=64
    expect(accumulationSteps(2048, 4, 128)).toBe(4);
    expect(() => accumulationSteps(1000, 4, 128)).toThrow("total_batch_tokens 1000 is not a multiple of batch_size × block_size = 4 × 128 = 512 tokens (e.g. 1024)");
    const config = trainConfig({ totalBatchTokens: 64, batchSize: 2 });
    expect(withAccumulation(config, 8).gradientAccumulationSteps).toBe(4);
    expect(() => withAccumulation(config, 8, 3)).toThrow("gradient_accumulation_steps 3 contradicts total_batch_tokens 64 (= 4 × 2 × 8): give one of them");
    expect(() => trainConfig({ totalBatchTokens: 0 })).toThrow("TrainConfig.totalBatchTokens must be a positive integer or null, got 0");
    expect(() => trainConfig({ totalBatchTokens: "64" as unknown as number })).toThrow(TypeError);
  });

  it("the Trainer accumulates that many tokens per step, read in order from the shards", async () => {
    const model = new GPT(tiny, { seed: 1 });
    const data = shards();
    // Before training: the loss of the model on the first 4 windows (the first step's micro-batches).
    const reader = data.train.fromStart();
    let expected = 0;
    for (let micro = 0; micro < 4; micro++) {
      const { x, y } = reader.nextBatch(2, 8);
      expected += tf.tidy(() => model.forward(tf.tensor2d(x, [2, 8], "int32"), tf.tensor2d(y, [2, 8], "int32")).loss!.dataSync()[0]) / 4;
    }
    const trainer = new Trainer(model, data, { ...quick, totalBatchTokens: 64 });
    expect(trainer.config.gradientAccumulationSteps).toBe(4);
    const first = await trainer.step();
    expect(first.tokens).toBe(64);
    expect(first.tokensPerSecond).toBeCloseTo(64 / (first.ms / 1000), 6);
    expect(first.loss).toBeCloseTo(expected, 5);
    expect(data.train.position).toEqual({ shard: 0, offset: 64 });
    await trainer.step(); // windows at 64 and 80; 96 + 17 > 100, so the last two come from the next shard
    expect(data.train.position).toEqual({ shard: 1, offset: 32 });
    trainer.dispose();
    model.dispose();
  });
});

describe("shard-backed training", () => {
  it("evaluates from the stream's start without moving the training position", async () => {
    const model = new GPT(tiny, { seed: 2 });
    const data = shards();
    data.val.nextBatch(2, 8);
    const at = data.val.position;
    const a = await estimateLoss(model, data.val, { batchSize: 2, iters: 3, rng: new Rng(1) });
    const b = await estimateLoss(model, data.val, { batchSize: 2, iters: 3, rng: new Rng(99) }); // the rng plays no part
    expect(a).toBe(b);
    expect(data.val.position).toEqual(at);
    model.dispose();
  });

  it("resumes the stream where the checkpoint says: 3 + 3 steps equal 6", async () => {
    const config = { ...quick, maxIters: 6, evalInterval: 3, gradientAccumulationSteps: 2 };
    const straight = new Trainer(new GPT(tiny, { seed: 4 }), shards(), config);
    const all = await straight.run();
    const out = mkdtempSync(join(tmpdir(), "train-resume-"));
    const first: Trainer = new Trainer(new GPT(tiny, { seed: 4 }), shards(), { ...config, outDir: out }, [{ onStep: (s) => s.iter === 2 && first.stop() }]);
    const part = await first.run();
    expect(part.interrupted).toBe(true);
    const saved = loadSafetensors(part.checkpoint!).metadata;
    expect(JSON.parse(saved.data_position)).toEqual({ shard: 0, offset: 96 }); // 3 steps × 2 micro-batches × 16 tokens
    expect(loadCheckpoint(part.checkpoint!).state.dataPosition).toEqual({ shard: 0, offset: 96 });
    const resumed = Trainer.fromCheckpoint(part.checkpoint!, shards(), { outDir: null });
    const rest = await resumed.run();
    expect([...part.losses, ...rest.losses].map((s) => s.loss)).toEqual(all.losses.map((s) => s.loss));
    const w = async (t: Trainer) => Array.from(await t.model.params["transformer.wte.weight"].data());
    expect(await w(resumed)).toEqual(await w(straight));
    for (const t of [straight, first, resumed]) {
      t.dispose();
      t.model.dispose();
    }
  });

  it("keeps tensors flat over streamed steps", async () => {
    const model = new GPT(tiny, { seed: 5 });
    const counts: number[] = [];
    const trainer = new Trainer(model, shards(), { ...quick, maxIters: 8, evalInterval: 4 }, [{ onStep: () => counts.push(tf.memory().numTensors) }]);
    await trainer.run();
    expect(new Set(counts.slice(1)).size).toBe(1);
    trainer.dispose();
    model.dispose();
  });
});

describe("FLOPs, MFU and the log", () => {
  it("counts nanoGPT's estimate_mfu FLOPs per token: 6·N + 12·L·H·Q·T", () => {
    // GPT-2 124M: N = 123,653,376 without position embeddings (vocab 50257), L = H = 12, Q = 64, T = 1024.
    expect(flopsPerToken({ ...GPT2_SMALL }, 123_653_376)).toBe(6 * 123_653_376 + 12 * 12 * 12 * 64 * 1024);
    expect(flopsPerToken({ ...GPT2_SMALL }, 123_653_376)).toBe(855_166_464);
    expect(mfu(1000, 1e9, 1e13)).toBeCloseTo(0.1, 12);
    expect(peakFlopsFor("webgpu on NVIDIA H200 (Vulkan)")).toBe(67e12);
    expect(peakFlopsFor("cpu on Intel(R) Xeon(R) Processor (2 cores)")).toBeNull();
    expect(formatMfu(1000, 1e9, 1e13)).toBe("MFU 10.00%");
    expect(formatMfu(1000, 1e9, null)).toBe("MFU n/a");
  });

  it("prints tokens/s and MFU on every log line when asked", async () => {
    const model = new GPT(tiny, { seed: 6 });
    let text = "";
    let textNa = "";
    const stream = (append: (s: string) => void) => ({ write: (s: string) => append(s), isTTY: false });
    const trainer = new Trainer(model, shards(), { ...quick, maxIters: 2 }, [
      terminalProgress({ stream: stream((s) => (text += s)), throughput: { peakFlops: 1e9 } }),
      terminalProgress({ stream: stream((s) => (textNa += s)), throughput: { peakFlops: null } }),
    ]);
    const result = await trainer.run();
    const perToken = flopsPerToken(tiny, model.numParams());
    const line = text.split("\n").find((l) => l.startsWith("iter 0:"))!;
    const [, tokS, pct] = /, ([\d,]+) tok\/s, MFU ([\d.]+)%$/.exec(line)!;
    const step = result.losses[0];
    expect(Number(tokS.replace(/,/g, ""))).toBe(Math.round(step.tokensPerSecond));
    expect(Number(pct)).toBeCloseTo((100 * step.tokensPerSecond * perToken) / 1e9, 2);
    expect(textNa).toMatch(/^iter 0: loss \d\.\d{4}, time \d+ms, lr [\d.e-]+, [\d,]+ tok\/s, MFU n\/a$/m);
    trainer.dispose();
    model.dispose();
  });

  it("prints a sample every N steps and at the end; the trainer waits for it", async () => {
    const model = new GPT(tiny, { seed: 7 });
    const events: string[] = [];
    const decode = (ids: number[]) => ids.map((i) => "abcdefghijk"[i]).join("");
    const trainer = new Trainer(model, shards(), { ...quick, maxIters: 5 }, [
      periodicSamples({ every: 2, decode, prompt: [0], maxNewTokens: 6, write: (t) => events.push(t) }),
      { onStep: (s) => events.push(`step ${s.iter + 1}`) },
    ]);
    await trainer.run();
    const samples = events.filter((e) => e.startsWith("sample"));
    expect(samples.map((s) => s.split(":")[0])).toEqual(["sample at step 2", "sample at step 4", "sample at step 5"]);
    for (const s of samples) expect(s).toMatch(/^sample at step \d: "a[a-k]{6}"$/);
    // Awaited: each sample comes before the next callback hears of the same step.
    expect(events.indexOf(samples[0])).toBe(events.indexOf("step 2") - 1);
    expect(events.indexOf(samples[2])).toBe(events.indexOf("step 5") - 1);
    trainer.dispose();
    model.dispose();
  });
});

describe("decoding a padded vocabulary", () => {
  it("shows ids past the tokenizer's as <|pad|> instead of throwing", async () => {
    const gpt2 = await loadTiktokenEncoding("gpt2");
    expect(() => gpt2.decode([50300])).toThrow(); // what a sample from a barely trained 50304-row model would hit
    const decode = paddedDecoder((ids) => gpt2.decode(ids), gpt2.vocabSize);
    expect(decode([15496, 50300, 11, 995, 50303])).toBe("Hello<|pad|>, world<|pad|>");
    expect(decode([31373, 995])).toBe(gpt2.decode([31373, 995]));
    expect(decode([])).toBe("");
  });
});

describe("the gpt2-shakespeare preset", () => {
  it("is build-nanogpt's recipe: GPT-2 architecture, vocabulary padded to 50304, AdamW (0.9, 0.95), decay 0.1, clip 1, min_lr 10 %", () => {
    const preset = PRESETS["gpt2-shakespeare"];
    expect(preset.tokenizer).toBe("gpt2");
    expect(paddedVocabSize(50257)).toBe(50304);
    expect(paddedVocabSize(50257, 128)).toBe(50304);
    expect(preset.model).toMatchObject({ vocabSize: 50304, bias: true, dropout: 0, activation: "gelu_tanh" });
    const t = trainConfig(preset.train);
    expect([t.beta1, t.beta2, t.weightDecay, t.gradClip]).toEqual([0.9, 0.95, 0.1, 1]);
    expect(t.minLr).toBeCloseTo(0.1 * t.learningRate, 12);
    expect(withAccumulation(t, preset.model.blockSize).gradientAccumulationSteps).toBe(t.totalBatchTokens! / (t.batchSize * preset.model.blockSize));
  });
});

describe("npm run train on shards", () => {
  const train = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, ["--import", "tsx", "scripts/train.ts", ...args], { encoding: "utf8", env: { ...process.env, COURSE_DEBUG: "", ...env } });
  const small = ["--n_layer", "1", "--n_head", "2", "--n_embd", "16", "--block_size", "8", "--batch_size", "2", "--eval_iters", "1", "--backend", "cpu"];

  it("trains the gpt2-shakespeare preset from --data_dir, logging tokens/s and MFU, saving the stream's position", () => {
    const out = mkdtempSync(join(tmpdir(), "train-cli-"));
    const run = train(["--preset", "gpt2-shakespeare", "--data_dir", dir, ...small, "--total_batch_tokens", "32", "--max_iters", "3", "--log_interval", "1",
      "--sample_interval", "2", "--sample_tokens", "4", "--out", out]);
    expect(run.stderr).toMatch(/^iter 0: loss [\d.]+, time \d+ms, lr [\d.e-]+, [\d,]+ tok\/s, MFU n\/a$/m);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("tokens per iteration: 32 (2 × 2 × 8), 3 iterations");
    expect(run.stdout).toContain("number of parameters: 0.81M (vocabulary 50304)");
    expect(run.stdout).toContain("MFU n/a: peak FLOP/s unknown for this device (pass --peak_flops)");
    expect(run.stdout).toMatch(/^sample at step 2: "/m);
    expect(JSON.parse(loadSafetensors(join(out, "ckpt.safetensors")).metadata.data_position)).toEqual({ shard: 0, offset: 96 });
    // HellaSwag at the end, its file copied from a mirror folder as any dataset (here: the fixture).
    const mirror = mkdtempSync(join(tmpdir(), "mirror-"));
    copyFileSync("tests/fixtures/hellaswag-mini.jsonl", join(mirror, "hellaswag_val.jsonl"));
    const env = { COURSE_DATA_DIR: mkdtempSync(join(tmpdir(), "data-")), COURSE_DATA_MIRROR: mirror };
    const mfuRun = train(["--preset", "gpt2-shakespeare", "--data_dir", dir, ...small, "--block_size", "32", "--batch_size", "1", "--total_batch_tokens", "32",
      "--max_iters", "1", "--sample_tokens", "0", "--peak_flops", "1e9", "--hellaswag", "5", "--out", out], env);
    expect(mfuRun.stdout).toContain("MFU against a peak of 0.00100 TFLOP/s");
    expect(mfuRun.stderr).toMatch(/tok\/s, MFU \d+\.\d\d%$/m);
    expect(mfuRun.stdout).toMatch(/^HellaSwag 5 examples: acc 0\.\d{4}, acc_norm 0\.\d{4} \(\d\/5; GPT-2 124M on all 10,042: acc_norm 0\.2945\)$/m);
    expect(mfuRun.status).toBe(0);
  });

  it("a token total that does not divide, conflicting flags, --init_from gpt2 offline, a folder without shards: one line each", () => {
    const bad = train(["--preset", "gpt2-shakespeare", "--data_dir", dir, ...small, "--total_batch_tokens", "100"]);
    expect([bad.status, bad.stderr]).toEqual([2, "error: total_batch_tokens 100 is not a multiple of batch_size × block_size = 2 × 8 = 16 tokens (e.g. 96)\n"]);
    const both = train(["--preset", "gpt2-shakespeare", "--data_dir", dir, ...small, "--total_batch_tokens", "32", "--gradient_accumulation_steps", "3"]);
    expect([both.status, both.stderr]).toEqual([2, "error: gradient_accumulation_steps 3 contradicts total_batch_tokens 32 (= 2 × 2 × 8): give one of them\n"]);
    const tokenizer = train(["--init_from", "gpt2", "--tokenizer", "char"]);
    expect([tokenizer.status, tokenizer.stderr]).toEqual([2, "error: --init_from gpt2 needs --tokenizer gpt2 (its vocabulary)\n"]);
    // Offline with an empty Hugging Face cache: the loader's one line, naming what it could not get.
    const hf = mkdtempSync(join(tmpdir(), "hf-empty-"));
    const offline = spawnSync(process.execPath, ["--import", "tsx", "scripts/train.ts", "--preset", "gpt2-shakespeare", "--init_from", "gpt2", "--data_dir", dir, ...small], {
      encoding: "utf8", env: { ...process.env, COURSE_DEBUG: "", HF_HOME: hf, HF_HUB_CACHE: join(hf, "hub"), HF_HUB_OFFLINE: "1", HF_ENDPOINT: "http://127.0.0.1:9" },
    });
    expect(offline.status).toBe(1);
    expect(offline.stderr).toMatch(/^error: [^\n]*gpt2[^\n]*\n$/);
    const missing = train(["--preset", "gpt2-shakespeare", "--data_dir", join(dir, "nope"), ...small]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^error: .*nope.*\n$/);
  });
});
