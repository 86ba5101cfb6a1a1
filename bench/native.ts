/**
 * The nanoGPT CPU-config train step (4 layers, 4 heads, n_embd 128, block 64, batch 12, vocab 65:
 * forward, backward, AdamW) in ms/step on tfjs cpu + native kernels (all cores, and one thread),
 * tfjs cpu with its stock JS kernels, tfjs wasm, and PyTorch (bench/torch_gpt_step.py, 2 threads
 * and 1), as ratios to PyTorch with 2 threads (1 thread if only that one ran). Columns: median and
 * best wall time per step, and median process CPU time (all threads), which other load on a shared
 * machine disturbs less than wall time. Then the native kernels one family at a time at baby GPT's
 * sizes (B 64, T 256, C 384, 6 heads), on one thread and on all of them.
 *
 *   npm run bench -- native
 *   npx tsx bench/native.ts [--rounds N] [--steps N] [--variants torch,torch1,native,native1,wasm,cpu,kernels]
 *
 * Each variant runs in its own process; rounds alternate between them so that load from other
 * processes on the machine spreads over all of them, and the table shows medians.
 */
import { spawnSync } from "node:child_process";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../lib/engine/index.js";
import { nativeAddon, nativeThreads, setNativeThreads } from "../lib/native/index.js";
import { GPT } from "../lib/models/gpt/index.js";
import { AdamW, lossAndGrads } from "../lib/train/index.js";
import { byProfile } from "../lib/util/profile.js";
import { Rng } from "../lib/util/random.js";
import { median } from "./support/stats.js";

type Variant = "native" | "native1" | "cpu" | "wasm" | "torch" | "torch1";
interface Run {
  ms: number[];
  /** Process CPU time per step: all threads together, less sensitive to other load than wall time. */
  cpuMs: number[];
  loss: number[];
  note?: string;
}

const config = { vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0, bias: false };
const batchSize = 12;

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function worker(variant: Exclude<Variant, "torch" | "torch1">, steps: number, warmup: number): Promise<Run> {
  if (variant === "cpu") process.env.COURSE_NATIVE = "0";
  if (variant === "native1") process.env.COURSE_NATIVE_THREADS = "1";
  const info = await useBackend(variant === "wasm" ? "wasm" : "cpu");
  const model = new GPT(config, { seed: 1337 });
  // nanoGPT's optimizer settings (decay on 2-D weights only, lib/train's default).
  const adamW = new AdamW(model.params, { learningRate: 1e-3, beta1: 0.9, beta2: 0.99, weightDecay: 0.1 });
  const rng = new Rng(1);
  const ids = Int32Array.from({ length: batchSize * (config.blockSize + 1) }, () => rng.randint(0, config.vocabSize));
  const n = batchSize * config.blockSize;
  const x = tf.tensor2d(ids.subarray(0, n), [batchSize, config.blockSize], "int32");
  const y = tf.tensor2d(ids.subarray(1, n + 1), [batchSize, config.blockSize], "int32");
  const threads = variant === "native" || variant === "native1" ? `, ${nativeThreads()} threads` : "";
  const run: Run = { ms: [], cpuMs: [], loss: [], note: `${info.device}${threads}` };
  for (let s = 0; s < warmup + steps; s++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const { loss, grads } = lossAndGrads(model, x, y);
    adamW.step(grads);
    const value = (await loss.data())[0];
    tf.dispose([loss, ...Object.values(grads)]);
    const cpu = process.cpuUsage(cpuStart);
    if (s >= warmup) {
      run.ms.push(performance.now() - start);
      run.cpuMs.push((cpu.user + cpu.system) / 1000);
      run.loss.push(value);
    }
  }
  return run;
}

function spawnRun(variant: Variant, steps: number, warmup: number): Run | string {
  const [command, args] = variant === "torch" || variant === "torch1"
    ? ["/usr/bin/python3", ["bench/torch_gpt_step.py", "--steps", String(steps), "--warmup", String(warmup), "--threads", variant === "torch" ? "2" : "1"]]
    : [process.execPath, ["--import", "tsx", "bench/native.ts", "--worker", variant, "--steps", String(steps), "--warmup", String(warmup)]];
  // OpenMP's default active spin-wait makes 2-thread PyTorch 10x slower here whenever anything
  // else runs on the machine; passive waiting is its best setting, so that is the reference.
  // torch.set_num_threads(1) leaves OpenBLAS's own threads running: one thread needs both set.
  const env = {
    ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? "PASSIVE",
    ...(variant === "torch1" ? { OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1" } : {}),
  };
  const result = spawnSync(command, args, { encoding: "utf8", maxBuffer: 1 << 24, env });
  const line = result.stdout?.trim().split("\n").filter((l) => l.startsWith("{")).pop();
  if (result.status !== 0 || !line) return `failed: ${(result.stderr || result.error?.message || "").trim().split("\n").slice(-3).join(" | ")}`;
  return JSON.parse(line) as Run;
}

async function main(): Promise<void> {
  const kernelsIndex = process.argv.indexOf("--kernels");
  if (kernelsIndex >= 0) return kernelTable(Number(process.argv[kernelsIndex + 1] ?? 1));
  const workerIndex = process.argv.indexOf("--worker");
  if (workerIndex >= 0) {
    const variant = process.argv[workerIndex + 1] as Exclude<Variant, "torch" | "torch1">;
    const run = await worker(variant, argValue("--steps", 5), argValue("--warmup", 2));
    console.log(JSON.stringify(run));
    return;
  }
  const rounds = argValue("--rounds", byProfile({ ci: 1, full: 3 }));
  const steps = argValue("--steps", byProfile({ ci: 3, full: 10 }));
  // The stock JS kernels take seconds per step: a couple of steps once is enough to see it.
  const plan: Record<Variant, { steps: number; warmup: number; rounds: number }> = {
    native: { steps, warmup: 3, rounds },
    native1: { steps, warmup: 3, rounds },
    torch: { steps, warmup: 3, rounds },
    torch1: { steps, warmup: 3, rounds },
    wasm: { steps: Math.max(2, Math.ceil(steps / 3)), warmup: 1, rounds },
    cpu: { steps: 2, warmup: 1, rounds: 1 },
  };
  const results = new Map<Variant, { ms: number[]; cpuMs: number[]; loss: number[]; notes: Set<string> }>();
  const only = process.argv.indexOf("--variants");
  const picked = only >= 0 ? process.argv[only + 1].split(",") : ["torch", "torch1", "native", "native1", "wasm", "cpu", "kernels"];
  const variants = picked.filter((v) => v !== "kernels") as Variant[];
  for (let round = 0; round < rounds; round++) {
    for (const variant of variants) {
      if (round >= plan[variant].rounds) continue;
      const run = spawnRun(variant, plan[variant].steps, plan[variant].warmup);
      if (typeof run === "string") {
        console.log(`${variant}: ${run}`);
        continue;
      }
      const entry = results.get(variant) ?? { ms: [], cpuMs: [], loss: [], notes: new Set<string>() };
      entry.ms.push(...run.ms);
      entry.cpuMs.push(...run.cpuMs);
      entry.loss.push(...run.loss);
      if (run.note) entry.notes.add(run.note);
      results.set(variant, entry);
      console.log(`round ${round + 1}/${rounds} ${variant}: median ${median(run.ms).toFixed(1)} ms over ${run.ms.length} steps`);
    }
  }
  const reference = results.get("torch") ?? results.get("torch1");
  const torchMs = reference ? median(reference.ms) : NaN;
  const labels: Record<Variant, string> = {
    torch: "PyTorch (2 threads, passive)",
    torch1: "PyTorch (1 thread)",
    native: "tfjs cpu + native kernels",
    native1: "tfjs cpu + native, 1 thread",
    wasm: "tfjs wasm",
    cpu: "tfjs cpu (stock JS kernels)",
  };
  console.log(`\nnanoGPT CPU-config train step (B=${batchSize}, T=${config.blockSize}, ${config.nLayer} layers, n_embd ${config.nEmbd})`);
  const torchMin = reference ? Math.min(...reference.ms) : NaN;
  const row = (cells: string[]) => console.log(cells.map((c, i) => (i === 0 ? c.padEnd(30) : c.padStart(10))).join(" "));
  row(["variant", "median ms", "x PyTorch", "min ms", "x PyTorch", "cpu ms", "steps"]);
  for (const variant of variants) {
    const r = results.get(variant);
    if (!r) continue;
    const ms = median(r.ms);
    const min = Math.min(...r.ms);
    row([labels[variant], ms.toFixed(1), (ms / torchMs).toFixed(2), min.toFixed(1), (min / torchMin).toFixed(2),
      median(r.cpuMs).toFixed(1), String(r.ms.length)]);
  }
  for (const variant of variants) {
    const r = results.get(variant);
    if (r) console.log(`  ${labels[variant]}: ${[...r.notes].join("; ") || "-"}; losses ${r.loss.slice(0, 3).map((l) => l.toFixed(4)).join(", ")}`);
  }
  console.log("(the machine may be shared: medians over alternating rounds; compare ratios, not absolute times)");
  if (picked.includes("kernels")) {
    const result = spawnSync(process.execPath, ["--import", "tsx", "bench/native.ts", "--kernels", String(rounds)], { encoding: "utf8", stdio: "inherit" });
    if (result.status !== 0) console.log("kernels: failed");
  }
}

/** One kernel family at baby GPT's sizes: buffers made once, then the addon called directly. */
interface KernelCase {
  name: string;
  run: () => void;
}

function kernelCases(): KernelCase[] {
  const addon = nativeAddon()!;
  const rng = new Rng(3);
  const random = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const [B, T, C, nHead] = [64, 256, 384, 6];
  const rows = B * T;
  const x = random(rows * C), other = random(rows * C), out = new Float32Array(rows * C);
  const wide = random(rows * 4 * C), wideOut = new Float32Array(rows * 4 * C), bias = random(4 * C);
  const gain = random(C), mean = new Float32Array(rows), rstd = new Float32Array(rows), dgain = new Float32Array(C);
  const logits = random(rows * 65), probs = new Float32Array(rows * 65);
  const colSums = new Float32Array(4 * C);
  const ids = Int32Array.from({ length: rows }, () => rng.randint(0, 65)), table = random(65 * C);
  const n = 10_700_000, p = random(n), m = random(n), v = random(n).map(Math.abs), g = random(n);
  const aB = 16; // attention on 16 sequences: the same per-(b, h) work, a quarter of the time
  const qkv = random(aB * T * 3 * C), y = new Float32Array(aB * T * C), stats = new Float32Array(aB * nHead * T * 2);
  const dqkv = new Float32Array(aB * T * 3 * C);
  const mmRows = 4096, a = random(mmRows * C), w = random(C * 4 * C), mm = new Float32Array(mmRows * 4 * C);
  const flat = Int32Array.of(rows * C), unit = Int32Array.of(1);
  const wideShape = Int32Array.of(rows, 4 * C), rowStrides = Int32Array.of(4 * C, 1), biasStrides = Int32Array.of(0, 1);
  const heads = Int32Array.of(B, nHead, T, C / nHead), headStrides = Int32Array.of(T * C, C / nHead, C, 1);
  return [
    { name: "add, same shape (6.3M)", run: () => addon.binary(0, x, other, out, flat, unit, unit) },
    { name: "add bias, broadcast (25M)", run: () => addon.binary(0, wide, bias, wideOut, wideShape, rowStrides, biasStrides) },
    { name: "exp (6.3M)", run: () => addon.unary(0, x, out) },
    { name: "softmax (16384 x 65)", run: () => addon.softmax(logits, probs, rows, 65) },
    { name: "sum over rows (16384 x 1536)", run: () => addon.reduce(0, wide, colSums, 1, rows, 4 * C) },
    { name: "sum over last axis (16384 x 384)", run: () => addon.reduce(0, x, mean, rows, C, 1) },
    { name: "transpose heads (6.3M)", run: () => addon.stridedCopy(x, out, heads, headStrides, 0) },
    { name: "gather embedding (16384 x 384)", run: () => addon.gather(table, ids, out, 1, 65, C) },
    { name: "layerNorm (16384 x 384)", run: () => addon.layerNorm(x, gain, out, mean, rstd, rows, C, 1e-5) },
    { name: "layerNorm grad", run: () => addon.layerNormGrad(other, x, mean, rstd, gain, out, dgain, rows, C) },
    { name: "gelu (25M)", run: () => addon.gelu(wide, wideOut) },
    { name: "gelu grad (25M)", run: () => addon.geluGrad(wide, wide, wideOut) },
    { name: `attention (B ${aB}, T ${T}, 6 heads)`, run: () => addon.attention(qkv, y, stats, aB, T, nHead, C, 0.125) },
    { name: "attention grad", run: () => addon.attentionGrad(y, qkv, stats, dqkv, aB, T, nHead, C, 0.125) },
    { name: "adamW (10.7M)", run: () => addon.adamW(p, m, v, g, 0.9, 0.95, 1e-8, 0.9999, 1e-4, 1.01, 1) },
    { name: "matmul 4096x384 @ 384x1536", run: () => addon.matMul(a, w, mm, 1, 1, 1, mmRows, 4 * C, C, false, false) },
  ];
}

/** Each kernel family on one thread and on all, alternating, best of `rounds` x 3 runs each. */
async function kernelTable(rounds: number): Promise<void> {
  await useBackend("cpu");
  if (!nativeAddon()) {
    console.log("kernels: native addon not loaded");
    return;
  }
  const all = nativeThreads();
  const counts = [...new Set([1, all])];
  const cases = kernelCases();
  const best = cases.map(() => counts.map(() => Infinity));
  // Thread counts alternate kernel by kernel, so that other load on the machine falls on both alike.
  for (let round = 0; round < Math.max(1, rounds); round++) {
    cases.forEach((c, i) => {
      counts.forEach((threads, t) => {
        setNativeThreads(threads);
        c.run(); // warm-up: first touch of the output, the pool's threads starting
        for (let r = 0; r < 3; r++) {
          const start = performance.now();
          c.run();
          best[i][t] = Math.min(best[i][t], performance.now() - start);
        }
      });
    });
  }
  setNativeThreads(all);
  console.log(`\nnative kernels at baby GPT's sizes, best ms of ${Math.max(1, rounds) * 3} (threads: ${counts.join(", ")})`);
  const row = (cells: string[]) => console.log(cells.map((c, i) => (i === 0 ? c.padEnd(36) : c.padStart(10))).join(" "));
  row(["kernel", ...counts.map((n) => `${n} thr ms`), ...(counts.length > 1 ? ["speed-up"] : [])]);
  cases.forEach((c, i) => {
    const ms = best[i];
    row([c.name, ...ms.map((t) => t.toFixed(2)), ...(counts.length > 1 ? [`${(ms[0] / ms[ms.length - 1]).toFixed(2)}x`] : [])]);
  });
}

await main();
