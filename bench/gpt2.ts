/**
 * GPT-2 sampling speed: the 124M shape (random weights: vocab 50257, 12 layers, 12 heads, 768 wide),
 * one sequence, top-k 50, in new tokens per second at a context of 64 and of 512, with the KV cache
 * and without (useCache: false), on tfjs cpu with the native kernels, next to PyTorch doing the same
 * in the same run (bench/torch_gpt2_sample.py: its own KV cache, float32, no_grad), both on
 * --threads threads. Printed as ratios: cache over no cache, and ours over PyTorch.
 *
 *   npm run bench -- gpt2
 *   npx tsx bench/gpt2.ts [--tokens N] [--uncached_tokens N] [--rounds N] [--threads N] [--variants ours,torch]
 *
 * tokens/s is the steady state: the intervals between new tokens after the first (the first one
 * pays for the prompt, shown as "prompt ms"). The context grows by the tokens drawn, so it is
 * 512 to 512 + N. Each variant runs in its own process, alternating round by round.
 */
import { spawnJson } from "./support/spawn.js";
import { describeEngine, useBackend } from "../lib/engine/index.js";
import { GPT, GPT2_PRESETS } from "../lib/models/gpt/index.js";
import { generate } from "../lib/sample/index.js";
import { parseFlags, formatHelp, type FlagSchema } from "../lib/train/index.js";
import { UsageError, runCli } from "../lib/util/cli.js";
import { Rng } from "../lib/util/random.js";
import { median } from "./support/stats.js";
import { timeSampling, type SamplingRun } from "./support/sampling.js";

const CONTEXTS = [64, 512];
const VARIANTS = ["ours", "torch"] as const;
type Variant = (typeof VARIANTS)[number];

const schema = {
  tokens: { type: "integer", min: 2, default: 12, help: "new tokens per run with the cache" },
  uncachedTokens: { type: "integer", min: 2, default: 3, help: "new tokens per run without it (about a second each at 512 on 2 cores)" },
  rounds: { type: "integer", min: 1, default: 1, help: "runs of each variant, alternating" },
  threads: { type: "integer", min: 1, default: 2, help: "threads for both: OpenBLAS's (COURSE_NATIVE_THREADS) and torch.set_num_threads" },
  variants: { type: "string", default: "ours,torch", help: "which to run, comma-separated: ours, torch" },
  worker: { type: "boolean", default: false, help: "(internal) run ours in this process and print JSON" },
} satisfies FlagSchema;

type RunResult = SamplingRun;
interface WorkerOutput {
  runs: RunResult[];
  note: string;
}

runCli(async () => {
  const { values: flags, help } = parseFlags(process.argv.slice(2), schema);
  if (help) return void console.log(formatHelp("npx tsx bench/gpt2.ts [flags]", schema));
  if (flags.worker) return void console.log(JSON.stringify(await ours(flags.tokens, flags.uncachedTokens)));
  const variants = flags.variants.split(",") as Variant[];
  const unknown = variants.find((v) => !VARIANTS.includes(v));
  if (unknown !== undefined) throw new UsageError(`--variants: no variant "${unknown}" (there are ${VARIANTS.join(", ")})`);

  const results = new Map<Variant, { runs: RunResult[]; note: string }>();
  for (let round = 0; round < flags.rounds; round++) {
    for (const variant of variants) {
      const out = spawnRun(variant, flags);
      if (typeof out === "string") {
        console.log(`${variant}: ${out}`);
        continue;
      }
      const entry = results.get(variant) ?? { runs: [], note: out.note };
      entry.runs.push(...out.runs);
      results.set(variant, entry);
      const brief = out.runs.map((r) => `${r.context}${r.cache ? "" : " no cache"} ${r.tokensPerS.toFixed(2)}`).join(", ");
      console.log(`round ${round + 1}/${flags.rounds} ${variant}: tokens/s ${brief}`);
    }
  }
  report(results);
});

/** Our sampler in this process: a warm-up, then each context with and without the cache. */
async function ours(tokens: number, uncachedTokens: number): Promise<WorkerOutput> {
  await useBackend("cpu");
  const model = new GPT(GPT2_PRESETS.gpt2, { seed: 1337 });
  const rng = new Rng(1);
  const prompt = (n: number) => Array.from({ length: n }, () => rng.randint(0, model.config.vocabSize));
  await generate(model, prompt(8), { maxNewTokens: 4, topK: 50 }); // warm-up: the first steps compile code paths
  const runs: RunResult[] = [];
  for (const context of CONTEXTS) {
    for (const cache of [true, false]) runs.push(await timeSampling(model, prompt(context), cache ? tokens : uncachedTokens, cache));
  }
  model.dispose();
  return { runs, note: describeEngine() };
}

function spawnRun(variant: Variant, flags: { tokens: number; uncachedTokens: number; threads: number }): WorkerOutput | string {
  const counts = ["--tokens", String(flags.tokens), variant === "torch" ? "--uncached-tokens" : "--uncached_tokens", String(flags.uncachedTokens)];
  const [command, args] = variant === "torch"
    ? ["/usr/bin/python3", ["bench/torch_gpt2_sample.py", "--contexts", CONTEXTS.join(","), "--threads", String(flags.threads), ...counts]]
    : [process.execPath, ["--import", "tsx", "bench/gpt2.ts", "--worker", ...counts]];
  // Passive OpenMP waiting, as bench/native.ts: spinning threads make 2-thread PyTorch crawl on a busy machine.
  const env = { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? "PASSIVE", COURSE_NATIVE_THREADS: String(flags.threads) };
  return spawnJson<WorkerOutput>(command, args, env, 3);
}

function report(results: Map<Variant, { runs: RunResult[]; note: string }>): void {
  const pick = (variant: Variant, context: number, cache: boolean) => {
    const runs = results.get(variant)?.runs.filter((r) => r.context === context && r.cache === cache) ?? [];
    return runs.length ? { tokensPerS: median(runs.map((r) => r.tokensPerS)), prefillMs: median(runs.map((r) => r.prefillMs)), cpuMs: median(runs.map((r) => r.cpuMsPerToken)) } : null;
  };
  const fmt = (x: number | undefined, digits = 2) => (x === undefined || !Number.isFinite(x) ? "-" : x.toFixed(digits));
  console.log(`\nGPT-2 124M shape (random weights), 1 sequence, top-k 50: new tokens per second (prompt: ms to the first token)`);
  const row = (cells: string[]) => console.log(cells.map((c, i) => (i < 2 ? c.padEnd(i === 0 ? 8 : 11) : c.padStart(13))).join(""));
  row(["context", "", "ours tok/s", "torch tok/s", "ours/torch", "ours cpu ms", "torch cpu ms", "ours prompt", "torch prompt"]);
  for (const context of CONTEXTS) {
    for (const cache of [true, false]) {
      const a = pick("ours", context, cache);
      const t = pick("torch", context, cache);
      row([String(context), cache ? "cache" : "no cache", fmt(a?.tokensPerS), fmt(t?.tokensPerS), fmt(a && t ? a.tokensPerS / t.tokensPerS : undefined),
        fmt(a?.cpuMs, 0), fmt(t?.cpuMs, 0), fmt(a?.prefillMs, 0), fmt(t?.prefillMs, 0)]);
    }
    // How many times faster the cache makes a token: by wall time, and by CPU time (which load from
    // other processes disturbs less).
    const speedup = (v: Variant, of: (r: { tokensPerS: number; cpuMs: number }) => number) => {
      const [c, n] = [pick(v, context, true), pick(v, context, false)];
      return c && n ? `${(of(c) / of(n)).toFixed(1)}×` : "-";
    };
    const wall = (r: { tokensPerS: number }) => r.tokensPerS;
    const cpu = (r: { cpuMs: number }) => 1 / r.cpuMs;
    row(["", "cache/none", speedup("ours", wall), speedup("torch", wall), "", speedup("ours", cpu), speedup("torch", cpu)]);
  }
  for (const [variant, r] of results) console.log(`  ${variant}: ${r.note}`);
  console.log("Goal (issue 14): cache ≥ 5× no cache at 512, ours ≥ PyTorch. On a shared machine compare ratios.");
}
