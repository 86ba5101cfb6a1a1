/**
 * nanoGPT's CPU training config (4 layers, 4 heads, n_embd 128, block 64, batch 12, vocab 65):
 * milliseconds for the forward pass, forward + backward, and a whole Trainer step (batch, forward,
 * backward, global-norm clipping, AdamW, reading the loss) on each available backend, next to
 * PyTorch doing the same in the same run (tests/reference/gpt_train_step.py, torch.set_num_threads(2)),
 * as ratios to PyTorch; "torch1" is PyTorch on one thread, which suffers less than two threads
 * when other processes load the machine. "cpu ms" is process CPU time per step (all threads).
 *
 *   npm run bench -- gpt
 *   npx tsx bench/gpt.ts [--rounds N] [--steps N] [--variants torch,torch1,cpu,wasm] [--profile]
 *
 * Variants run in their own processes, alternating round by round so that load from other
 * processes spreads over all of them; the table shows medians. --profile prints where a cpu step's
 * time goes, by kernel.
 */
import { spawnSync } from "node:child_process";
import * as tf from "@tensorflow/tfjs-core";
import { describeEngine, useBackend, type BackendChoice } from "../lib/engine/index.js";
import { GPT } from "../lib/models/gpt/index.js";
import { Trainer, getBatch, lossAndGrads, parseArgs } from "../lib/train/index.js";
import { byProfile } from "../lib/util/profile.js";
import { Rng } from "../lib/util/random.js";
import { median } from "./support/stats.js";

const model = { vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0, bias: false };
const batchSize = 12;
const phases = ["forward", "backward", "step"] as const;
type Phase = (typeof phases)[number];
type Timings = Record<Phase, number[]> & { cpuMs: number[]; loss: number[]; device?: string };

const args = parseArgs(process.argv.slice(2));

/** One backend, in this process: the timings as one JSON line. */
async function worker(backend: BackendChoice, steps: number, warmup: number): Promise<void> {
  await useBackend(backend);
  const rng = new Rng(1);
  const tokens = Uint16Array.from({ length: 100_000 }, () => rng.randint(0, model.vocabSize));
  const gpt = new GPT(model);
  const trainer = new Trainer(gpt, { train: tokens, val: tokens }, {
    batchSize, maxIters: 1_000_000, learningRate: 1e-3, beta2: 0.99, warmupIters: 100, lrDecayIters: 2000, minLr: 1e-4,
  });
  const out: Timings = { forward: [], backward: [], step: [], cpuMs: [], loss: [], device: describeEngine() };
  for (let s = 0; s < warmup + steps; s++) {
    const { x, y } = getBatch(tokens, model.blockSize, batchSize, rng);
    let start = performance.now();
    const { logits, loss } = gpt.forward(x, y);
    await loss!.data();
    const forward = performance.now() - start;
    tf.dispose([logits, loss!]);
    start = performance.now();
    const result = lossAndGrads(gpt, x, y);
    await result.loss.data();
    const backward = performance.now() - start;
    tf.dispose([x, y, result.loss, ...Object.values(result.grads)]);
    start = performance.now();
    const cpuStart = process.cpuUsage();
    const info = await trainer.step();
    const step = performance.now() - start;
    const cpu = process.cpuUsage(cpuStart);
    if (s >= warmup) {
      out.forward.push(forward);
      out.backward.push(backward);
      out.step.push(step);
      out.cpuMs.push((cpu.user + cpu.system) / 1000);
      out.loss.push(info.loss);
    }
  }
  console.log(JSON.stringify(out));
  if (args.profile === true) await profile(gpt, tokens);
}

/** Kernel time of one forward + backward + AdamW step, grouped by kernel. */
async function profile(gpt: GPT, tokens: Uint16Array): Promise<void> {
  const trainer = new Trainer(gpt, { train: tokens, val: tokens }, { batchSize, maxIters: 10 });
  const info = await tf.profile(async () => {
    await trainer.step();
  });
  const byKernel = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  for (const k of info.kernels) {
    // Ops that wrap other kernels (custom gradients, fused matmul's op) would count twice.
    if (/__op$|scope/.test(k.name)) continue;
    const entry = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    entry.ms += k.kernelTimeMs as number;
    entry.calls += 1;
    total += k.kernelTimeMs as number;
    byKernel.set(k.name, entry);
  }
  console.error(`\nwhere a step's kernel time goes (${info.kernels.length} kernel calls, ${total.toFixed(0)} ms):`);
  for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12)) {
    console.error(`  ${name.padEnd(22)} ${e.ms.toFixed(1).padStart(8)} ms ${((100 * e.ms) / total).toFixed(0).padStart(3)}% ${String(e.calls).padStart(5)} calls`);
  }
}

function spawnRun(variant: string, steps: number, warmup: number): Timings | string {
  const [command, args] =
    variant.startsWith("torch")
      ? ["/usr/bin/python3", ["tests/reference/gpt_train_step.py", JSON.stringify({ model, batchSize }), "--steps", String(steps), "--warmup", String(warmup), "--threads", variant === "torch1" ? "1" : "2"]]
      : [process.execPath, ["--import", "tsx", "bench/gpt.ts", "--worker", variant, "--steps", String(steps), "--warmup", String(warmup)]];
  const result = spawnSync(command, args, { encoding: "utf8", maxBuffer: 1 << 24 });
  const line = result.stdout?.trim().split("\n").filter((l) => l.startsWith("{")).pop();
  if (result.status !== 0 || !line) return `failed: ${(result.stderr || result.error?.message || "").trim().split("\n").slice(-3).join(" | ")}`;
  return JSON.parse(line) as Timings;
}

async function main(): Promise<void> {
  const workerBackend = args.worker;
  const steps = Number(args.steps ?? byProfile({ ci: 3, full: 8 }));
  const warmup = Number(args.warmup ?? 2);
  if (workerBackend) return worker(workerBackend as BackendChoice, steps, warmup);

  const rounds = Number(args.rounds ?? byProfile({ ci: 1, full: 3 }));
  const variants = String(args.variants ?? "torch,torch1,cpu,wasm").split(",");
  const results = new Map<string, Timings>();
  for (let round = 0; round < rounds; round++) {
    for (const variant of variants) {
      const run = spawnRun(variant, steps, warmup);
      if (typeof run === "string") {
        console.log(`${variant}: ${run}`);
        continue;
      }
      const entry = results.get(variant) ?? { forward: [], backward: [], step: [], cpuMs: [], loss: [], device: run.device };
      for (const phase of phases) entry[phase].push(...run[phase]);
      entry.cpuMs.push(...run.cpuMs);
      entry.loss.push(...run.loss);
      results.set(variant, entry);
      console.log(`round ${round + 1}/${rounds} ${variant.padEnd(5)}: step median ${median(run.step).toFixed(1)} ms over ${run.step.length} steps`);
    }
  }
  const torch = results.get("torch");
  console.log(`\nnanoGPT CPU config train step: B=${batchSize}, T=${model.blockSize}, ${model.nLayer} layers, ${model.nHead} heads, n_embd ${model.nEmbd}, vocab ${model.vocabSize}`);
  const torch1 = results.get("torch1");
  const ratio = (ms: number, ref: Timings | undefined, phase: Phase) => (ref ? (ms / median(ref[phase])).toFixed(2) : "-");
  const row = (cells: string[]) => console.log(cells.map((c, i) => (i === 0 ? c.padEnd(8) : c.padStart(12))).join(""));
  row(["", ...phases.flatMap((p) => [`${p} ms`, "× torch"]), "× torch1", "min ms", "cpu ms", "steps"]);
  for (const [variant, r] of results) {
    const cells = phases.flatMap((p) => [median(r[p]).toFixed(1), ratio(median(r[p]), torch, p)]);
    const cpuMs = r.cpuMs.length ? median(r.cpuMs).toFixed(1) : "-";
    row([variant, ...cells, ratio(median(r.step), torch1, "step"), Math.min(...r.step).toFixed(1), cpuMs, String(r.step.length)]);
  }
  for (const [variant, r] of results) {
    const what = r.device ?? `PyTorch ${variant === "torch1" ? "1 thread" : "2 threads"}`;
    console.log(`  ${variant}: ${what}; first losses ${r.loss.slice(0, 3).map((l) => l.toFixed(3)).join(", ")}`);
  }
  console.log("Goal: whole step ≤ 1.5 × PyTorch. Medians over alternating rounds; on a shared machine compare ratios.");
  if (args.profile === true) spawnSync(process.execPath, ["--import", "tsx", "bench/gpt.ts", "--worker", "cpu", "--steps", "1", "--warmup", "1", "--profile"], { stdio: ["ignore", "ignore", "inherit"] });
}

await main();
