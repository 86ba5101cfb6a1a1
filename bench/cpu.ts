/**
 * Training and inference on the CPU at real sizes, ours (tfjs cpu + native kernels) against
 * PyTorch at the same thread count, in the same run (issue 15):
 *
 *   nanoGPT's CPU-config train step (0.8M parameters)        goal ≤ 0.8× PyTorch's time
 *   baby-GPT train step (10.7M, nanoGPT's shakespeare-char)  goal ≤ 0.9× time, ≤ 1.1× peak RSS
 *   GPT-2 124M forward, T = 1024, B = 1 (no_grad)            goal ≤ 1.0×
 *   GPT-2 124M sampling, 256 tokens, each its own KV cache   goal ≤ 1.0× time per token
 *
 * then a thread-scaling line (1, 2, … os.availableParallelism() threads) of the nanoGPT step.
 * Train steps are nanoGPT's: forward with dropout as configured, backward, clipping at 1.0, AdamW;
 * the PyTorch side is bench/torch_cpu.py (and bench/torch_gpt2_sample.py for sampling).
 *
 *   npm run bench -- cpu                  (COURSE_PROFILE=ci: as --quick)
 *   npx tsx bench/cpu.ts [--quick] [--rows nano,baby,gpt2] [--threads 1,2]
 *
 * Threads: ours gets COURSE_NATIVE_THREADS=n; PyTorch torch.set_num_threads(n). Both get
 * OPENBLAS_NUM_THREADS=n, and OMP_NUM_THREADS=1 for one thread or OMP_WAIT_POLICY=PASSIVE for more
 * (OpenMP's default spin-waiting crawls on a shared machine). Every measurement runs in a process of
 * its own, so each side's peak RSS (VmHWM) is its own. Times are medians of k steps after warm-up
 * (k is printed); --quick shrinks every shape for a one-minute smoke test whose numbers mean nothing.
 */
import { availableParallelism, loadavg } from "node:os";
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs-core";
import { describeEngine, useBackend } from "../lib/engine/index.js";
import { GPT, GPT2_PRESETS, type GPTConfig } from "../lib/models/gpt/index.js";
import * as native from "../lib/native/index.js";
import * as pool from "../lib/native/pool.js";
import { Trainer, parseFlags, formatHelp, type FlagSchema } from "../lib/train/index.js";
import { UsageError, runCli } from "../lib/util/cli.js";
import { currentProfile } from "../lib/util/profile.js";
import { Rng } from "../lib/util/random.js";
import { median } from "./support/stats.js";
import { timeSampling } from "./support/sampling.js";
import { spawnJson } from "./support/spawn.js";

const schema = {
  quick: { type: "boolean", default: false, help: "tiny shapes and few steps: a one-minute smoke test" },
  rows: { type: "string", default: "nano,baby,gpt2", help: "which rows, comma-separated: nano, baby, gpt2" },
  threads: { type: "string", default: "", help: "thread counts for the table (default: 1 and all cores)" },
  worker: { type: "string", default: "", help: "(internal) run one job of ours, given as JSON, and print JSON" },
} satisfies FlagSchema;

type Row = "nano" | "baby" | "gpt2";
const ROWS: Row[] = ["nano", "baby", "gpt2"];
const GiB = 1024 ** 3;

/** One measurement in one process: a train step or GPT-2 inference. */
type TrainModel = Pick<GPTConfig, "vocabSize" | "blockSize" | "nLayer" | "nHead" | "nEmbd" | "dropout" | "bias">;
type Job =
  | { kind: "train"; model: TrainModel; batchSize: number; steps: number; warmup: number }
  | { kind: "gpt2"; t: number; steps: number; warmup: number; sampleTokens: number; prompt: number };

/** What a worker prints (both sides): per-step numbers after warm-up, and the process's peak RSS. */
interface Measured {
  ms: number[];
  cpuMs: number[];
  faults: number[];
  peakRssBytes: number;
  note: string;
  threads?: number | string;
  /** Ours only: the buffer pool over the timed steps, and live tensors after each step. */
  pool?: { hits: number; misses: number; missBytes: number; peakPooledBytes: number };
  numTensors?: number[];
  /** GPT-2 sampling: wall and CPU ms per new token after the first. */
  sampleMsPerToken?: number;
  sampleCpuMsPerToken?: number;
}

interface Plan {
  nano: Job;
  baby: Job;
  gpt2: Job;
}

function plan(quick: boolean): Plan {
  const nano = { vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0, bias: false };
  const baby = { vocabSize: 65, blockSize: 256, nLayer: 6, nHead: 6, nEmbd: 384, dropout: 0.2, bias: false };
  return quick
    ? {
      nano: { kind: "train", model: nano, batchSize: 12, steps: 3, warmup: 1 },
      baby: { kind: "train", model: baby, batchSize: 2, steps: 1, warmup: 1 },
      gpt2: { kind: "gpt2", t: 64, steps: 1, warmup: 1, sampleTokens: 8, prompt: 16 },
    }
    : {
      nano: { kind: "train", model: nano, batchSize: 12, steps: 30, warmup: 5 },
      baby: { kind: "train", model: baby, batchSize: 64, steps: 2, warmup: 1 },
      gpt2: { kind: "gpt2", t: 1024, steps: 3, warmup: 1, sampleTokens: 256, prompt: 64 },
    };
}

runCli(async () => {
  const { values: flags, help } = parseFlags(process.argv.slice(2), schema);
  if (help) return void console.log(formatHelp("npx tsx bench/cpu.ts [flags]", schema));
  if (flags.worker) return void console.log(JSON.stringify(await ours(JSON.parse(flags.worker) as Job)));
  const rows = flags.rows.split(",") as Row[];
  const unknown = rows.find((r) => !ROWS.includes(r));
  if (unknown !== undefined) throw new UsageError(`--rows: no row "${unknown}" (there are ${ROWS.join(", ")})`);
  const cores = availableParallelism();
  const counts = flags.threads ? flags.threads.split(",").map(Number) : [...new Set([1, cores])];
  if (counts.some((n) => !Number.isInteger(n) || n < 1)) throw new UsageError(`--threads: "${flags.threads}" is not a list of positive integers`);
  const quick = flags.quick || currentProfile() === "ci";
  const jobs = plan(quick);
  const started = Date.now();
  console.log(`${cores} cores; load average ${loadavg().map((l) => l.toFixed(2)).join(" ")} at the start${quick ? "; --quick: tiny shapes, numbers mean nothing" : ""}`);

  const results = new Map<string, { ours: Measured | string; torch: Measured | string }>();
  for (const n of counts) {
    for (const row of rows) {
      const pair = { ours: measure("ours", jobs[row], n), torch: measure("torch", jobs[row], n) };
      results.set(`${row}@${n}`, pair);
      console.log(`  ${row} at ${n} thread${n > 1 ? "s" : ""}: ours ${brief(pair.ours)}, PyTorch ${brief(pair.torch)}`);
    }
  }
  // The scaling line: the nanoGPT step at every count up to the cores, reusing the table's runs.
  const scaling = new Map<number, { ours: Measured | string; torch: Measured | string }>();
  if (rows.includes("nano")) {
    for (let n = 1; n <= cores; n++) {
      scaling.set(n, results.get(`nano@${n}`) ?? { ours: measure("ours", jobs.nano, n), torch: measure("torch", jobs.nano, n) });
    }
  }
  report(jobs, rows, counts, results, scaling);
  console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(" ")} at the end; ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
});

/** Runs one job of ours or of PyTorch at n threads in a child process. */
function measure(side: "ours" | "torch", job: Job, n: number): Measured | string {
  const env: NodeJS.ProcessEnv = { ...process.env, COURSE_NATIVE_THREADS: String(n), OPENBLAS_NUM_THREADS: String(n) };
  delete env.OMP_NUM_THREADS;
  delete env.OMP_WAIT_POLICY;
  if (n === 1) env.OMP_NUM_THREADS = "1";
  else env.OMP_WAIT_POLICY = "PASSIVE";
  if (side === "ours") return spawnJson<Measured>(process.execPath, ["--import", "tsx", "bench/cpu.ts", "--worker", JSON.stringify(job)], env);
  const counts = ["--steps", String(job.steps), "--warmup", String(job.warmup), "--threads", String(n)];
  if (job.kind === "train") {
    return spawnJson<Measured>("/usr/bin/python3", ["bench/torch_cpu.py", "train", JSON.stringify({ model: job.model, batchSize: job.batchSize }), ...counts], env);
  }
  const forward = spawnJson<Measured>("/usr/bin/python3", ["bench/torch_cpu.py", "gpt2", JSON.stringify({ t: job.t }), ...counts], env);
  if (typeof forward === "string") return forward;
  const sampled = spawnJson<{ runs: { cache: boolean; tokensPerS: number; cpuMsPerToken: number }[] }>("/usr/bin/python3", ["bench/torch_gpt2_sample.py",
    "--contexts", String(job.prompt), "--tokens", String(job.sampleTokens), "--uncached-tokens", "2", "--threads", String(n)], env);
  if (typeof sampled === "string") return sampled;
  const cached = sampled.runs.find((r) => r.cache)!;
  return { ...forward, sampleMsPerToken: 1000 / cached.tokensPerS, sampleCpuMsPerToken: cached.cpuMsPerToken };
}

/** Our side of a job, in this process. */
async function ours(job: Job): Promise<Measured> {
  await useBackend("cpu");
  const out: Measured = { ms: [], cpuMs: [], faults: [], peakRssBytes: 0, note: describeEngine(), threads: ourThreads(), numTensors: [] };
  const timed = async (body: () => Promise<void>) => {
    for (let step = 0; step < job.warmup + job.steps; step++) {
      if (step === job.warmup) pool.resetPoolStats?.();
      const faults = process.resourceUsage().minorPageFault;
      const start = performance.now();
      const cpu = process.cpuUsage();
      await body();
      if (step < job.warmup) continue;
      const used = process.cpuUsage(cpu);
      out.ms.push(performance.now() - start);
      out.cpuMs.push((used.user + used.system) / 1000);
      out.faults.push(process.resourceUsage().minorPageFault - faults);
      out.numTensors!.push(tf.memory().numTensors);
    }
    const stats = pool.poolStats?.(); // (absent from older pools, which a before/after comparison runs)
    if (stats) out.pool = { hits: stats.hits, misses: stats.misses, missBytes: stats.missBytes, peakPooledBytes: stats.peakPooledBytes };
  };
  if (job.kind === "train") {
    const model = new GPT(job.model, { seed: 1337 });
    const rng = new Rng(1);
    const tokens = Uint16Array.from({ length: 200_000 }, () => rng.randint(0, job.model.vocabSize));
    // nanoGPT's shakespeare-char optimizer settings; clipping at 1.0 (the Trainer's default).
    const trainer = new Trainer(model, { train: tokens, val: tokens }, {
      batchSize: job.batchSize, maxIters: 1_000_000, learningRate: 1e-3, beta2: 0.99, warmupIters: 100, lrDecayIters: 5000, minLr: 1e-4,
    });
    await timed(async () => void (await trainer.step()));
  } else {
    const model = new GPT(GPT2_PRESETS.gpt2, { seed: 1337 });
    const rng = new Rng(1);
    const prompt = (n: number) => Array.from({ length: n }, () => rng.randint(0, model.config.vocabSize));
    const idx = tf.tensor2d(prompt(job.t), [1, job.t], "int32");
    await timed(async () => {
      const { logits } = model.forward(idx);
      await logits.data();
      logits.dispose();
    });
    await timeSampling(model, prompt(8), 4, true); // warm-up
    const run = await timeSampling(model, prompt(job.prompt), job.sampleTokens, true);
    out.sampleMsPerToken = 1000 / run.tokensPerS;
    out.sampleCpuMsPerToken = run.cpuMsPerToken;
  }
  out.peakRssBytes = peakRss();
  return out;
}

/** The thread count our kernels run with: the addon's own answer where it has one, else the variable. */
function ourThreads(): number | string {
  const fromAddon = (native as Record<string, unknown>).nativeThreads;
  if (typeof fromAddon === "function") return (fromAddon as () => number)();
  return `${process.env.COURSE_NATIVE_THREADS ?? 1} (COURSE_NATIVE_THREADS: OpenBLAS only)`;
}

function peakRss(): number {
  const hwm = readFileSync("/proc/self/status", "utf8").match(/^VmHWM:\s+(\d+) kB/m);
  return hwm ? Number(hwm[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
}

function brief(m: Measured | string): string {
  return typeof m === "string" ? m : `${median(m.ms).toFixed(1)} ms (k=${m.ms.length})`;
}


function report(jobs: Plan, rows: Row[], counts: number[], results: Map<string, { ours: Measured | string; torch: Measured | string }>,
  scaling: Map<number, { ours: Measured | string; torch: Measured | string }>): void {
  const line = (cells: string[]) => console.log(cells.map((c, i) => (i === 0 ? c.padEnd(54) : c.padStart(i === 1 ? 8 : 11))).join(""));
  const fmt = (x: number | undefined, digits = 1) => (x === undefined || !Number.isFinite(x) ? "-" : x.toFixed(digits));
  const num = (m: Measured | string, of: (m: Measured) => number | undefined) => (typeof m === "string" ? undefined : of(m));
  const nano = jobs.nano as Extract<Job, { kind: "train" }>;
  const baby = jobs.baby as Extract<Job, { kind: "train" }>;
  const gpt2 = jobs.gpt2 as Extract<Job, { kind: "gpt2" }>;
  const label: Record<string, string> = {
    nano: `nanoGPT CPU-config train step, ms (B=${nano.batchSize}, T=${nano.model.blockSize})`,
    baby: `baby-GPT train step, ms (B=${baby.batchSize}, T=${baby.model.blockSize}, dropout ${baby.model.dropout})`,
    babyRss: "baby-GPT peak RSS, GiB",
    forward: `GPT-2 124M forward, ms (T=${gpt2.t}, B=1)`,
    sample: `GPT-2 124M sampling, ms/token (${gpt2.sampleTokens} tokens)`,
  };
  const goal: Record<string, string> = { nano: "≤ 0.8", baby: "≤ 0.9", babyRss: "≤ 1.1", forward: "≤ 1.0", sample: "≤ 1.0" };
  console.log("\nOurs against PyTorch at the same thread count (ratio: ours / PyTorch; lower is better)");
  // CPU time (all threads) beside wall time: other load on a shared machine disturbs it less.
  line(["work", "threads", "ours", "PyTorch", "ratio", "goal", "k", "ours cpu", "torch cpu", "cpu ratio"]);
  for (const n of counts) {
    for (const row of rows) {
      const r = results.get(`${row}@${n}`)!;
      const steps = String(num(r.ours, (m) => m.ms.length) ?? "-");
      const cell = (key: string, of: (m: Measured) => number | undefined, digits = 1, k = steps, cpu?: (m: Measured) => number) => {
        const [a, b] = [num(r.ours, of), num(r.torch, of)];
        const [ca, cb] = cpu ? [num(r.ours, cpu), num(r.torch, cpu)] : [undefined, undefined];
        const ratio = (x?: number, y?: number) => fmt(x !== undefined && y !== undefined ? x / y : undefined, 2);
        line([label[key], String(n), fmt(a, digits), fmt(b, digits), ratio(a, b), goal[key], k, fmt(ca, 0), fmt(cb, 0), ratio(ca, cb)]);
      };
      const cpuMs = (m: Measured) => median(m.cpuMs);
      if (row === "gpt2") {
        cell("forward", (m) => median(m.ms), 1, steps, cpuMs);
        cell("sample", (m) => m.sampleMsPerToken, 1, `${gpt2.sampleTokens - 1} tok`, (m) => m.sampleCpuMsPerToken ?? NaN);
      } else {
        cell(row, (m) => median(m.ms), 1, steps, cpuMs);
        if (row === "baby") cell("babyRss", (m) => m.peakRssBytes / GiB, 2, "-");
      }
    }
  }
  console.log("\nMemory per timed step (minor page faults; our buffer pool's hits over all outputs it served)");
  for (const [key, r] of results) {
    const o = typeof r.ours === "string" ? null : r.ours;
    const t = typeof r.torch === "string" ? null : r.torch;
    const pool = o?.pool;
    const hitRate = pool && pool.hits + pool.misses > 0 ? `${((100 * pool.hits) / (pool.hits + pool.misses)).toFixed(1)} %` : "-";
    console.log(`  ${key.padEnd(8)} faults/step ours ${fmt(o ? median(o.faults) : undefined, 0)}, PyTorch ${fmt(t ? median(t.faults) : undefined, 0)};` +
      ` pool hits ${hitRate}, fresh ${pool ? (pool.missBytes / 2 ** 20).toFixed(0) : "-"} MiB, pooled at most ${pool ? (pool.peakPooledBytes / GiB).toFixed(2) : "-"} GiB;` +
      ` live tensors ${o?.numTensors?.join(", ") ?? "-"}; peak RSS ours ${fmt(o ? o.peakRssBytes / GiB : undefined, 2)} GiB, PyTorch ${fmt(t ? t.peakRssBytes / GiB : undefined, 2)} GiB`);
  }
  if (scaling.size > 0) {
    console.log("\nThread scaling, nanoGPT CPU-config train step (ms; speed-up over 1 thread)");
    const base = scaling.get(1)!;
    for (const [n, r] of scaling) {
      const side = (m: Measured | string, b: Measured | string) => {
        const [ms, ms1] = [num(m, (x) => median(x.ms)), num(b, (x) => median(x.ms))];
        return ms === undefined ? "failed" : `${ms.toFixed(1)} (${ms1 ? (ms1 / ms).toFixed(2) : "-"}×)`;
      };
      console.log(`  ${String(n).padStart(3)} threads: ours ${side(r.ours, base.ours)}, PyTorch ${side(r.torch, base.torch)}`);
    }
  }
  const notes = new Set<string>();
  for (const r of results.values()) for (const m of [r.ours, r.torch]) if (typeof m !== "string") notes.add(`${m.note}; threads ${m.threads ?? "-"}`);
  for (const note of notes) console.log(`  ${note}`);
  for (const [key, r] of results) for (const [side, m] of Object.entries(r)) if (typeof m === "string") console.log(`  ${key} ${side}: ${m}`);
}
