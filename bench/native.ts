/**
 * The nanoGPT CPU-config train step (4 layers, 4 heads, n_embd 128, block 64, batch 12, vocab 65:
 * forward, backward, AdamW) in ms/step on tfjs cpu + native kernels, tfjs cpu with its stock JS
 * kernels, tfjs wasm, and PyTorch (bench/torch_gpt_step.py, 2 threads and 1), as ratios to PyTorch
 * with 2 threads (1 thread if only that one ran). Columns: median and best wall time per step, and median process CPU time (all
 * threads), which other load on a shared machine disturbs less than wall time.
 *
 *   npm run bench -- native
 *   npx tsx bench/native.ts [--rounds N] [--steps N] [--variants torch,native,wasm,cpu]
 *
 * Each variant runs in its own process; rounds alternate between them so that load from other
 * processes on the machine spreads over all of them, and the table shows medians.
 */
import { spawnSync } from "node:child_process";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../lib/engine/index.js";
import { GPT } from "../lib/models/gpt/index.js";
import { AdamW, lossAndGrads } from "../lib/train/index.js";
import { byProfile } from "../lib/util/profile.js";
import { Rng } from "../lib/util/random.js";
import { median } from "./support/stats.js";

type Variant = "native" | "cpu" | "wasm" | "torch" | "torch1";
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
  const info = await useBackend(variant === "wasm" ? "wasm" : "cpu");
  const model = new GPT(config, { seed: 1337 });
  // nanoGPT's optimizer settings (decay on 2-D weights only, lib/train's default).
  const adamW = new AdamW(model.params, { learningRate: 1e-3, beta1: 0.9, beta2: 0.99, weightDecay: 0.1 });
  const rng = new Rng(1);
  const ids = Int32Array.from({ length: batchSize * (config.blockSize + 1) }, () => rng.randint(0, config.vocabSize));
  const n = batchSize * config.blockSize;
  const x = tf.tensor2d(ids.subarray(0, n), [batchSize, config.blockSize], "int32");
  const y = tf.tensor2d(ids.subarray(1, n + 1), [batchSize, config.blockSize], "int32");
  const run: Run = { ms: [], cpuMs: [], loss: [], note: info.device };
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
  const env = { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? "PASSIVE" };
  const result = spawnSync(command, args, { encoding: "utf8", maxBuffer: 1 << 24, env });
  const line = result.stdout?.trim().split("\n").filter((l) => l.startsWith("{")).pop();
  if (result.status !== 0 || !line) return `failed: ${(result.stderr || result.error?.message || "").trim().split("\n").slice(-3).join(" | ")}`;
  return JSON.parse(line) as Run;
}

async function main(): Promise<void> {
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
    torch: { steps, warmup: 3, rounds },
    torch1: { steps, warmup: 3, rounds },
    wasm: { steps: Math.max(2, Math.ceil(steps / 3)), warmup: 1, rounds },
    cpu: { steps: 2, warmup: 1, rounds: 1 },
  };
  const results = new Map<Variant, { ms: number[]; cpuMs: number[]; loss: number[]; notes: Set<string> }>();
  const only = process.argv.indexOf("--variants");
  const variants = (only >= 0 ? process.argv[only + 1].split(",") : ["torch", "torch1", "native", "wasm", "cpu"]) as Variant[];
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
}

await main();
