/**
 * Inputs and calls for tests/native-threads.test.ts: every native kernel on sizes large enough to
 * be split among the pool's threads (and not multiples of any chunk), on inputs drawn from a
 * fixed seed. Run as a script it loads the addon (COURSE_NATIVE_THREADS picks the thread count),
 * runs each case and writes its outputs as raw float32 files into the folder given, then trains a
 * small GPT for three steps and prints its losses and the sha256 of its weights:
 *
 *   COURSE_NATIVE_THREADS=3 node --import tsx tests/support/native-thread-cases.ts <dir>
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { NativeAddon } from "../../lib/native/addon.js";
import { Rng } from "../../lib/util/random.js";

export interface ThreadCase {
  name: string;
  /** Runs the kernel and returns its outputs (fresh arrays each call). */
  run(addon: NativeAddon): Float32Array[];
}

export interface CaseInputs {
  [name: string]: Float32Array | Int32Array;
}

/** The inputs, the same in every process (seeded). */
export function caseInputs(): CaseInputs {
  const rng = new Rng(2024);
  const normal = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  return {
    a: normal(300_001),
    b: normal(300_001),
    wide: normal(601 * 1537),
    row: normal(1537),
    column: normal(601),
    positive: Float32Array.from({ length: 100_003 }, () => 0.5 + rng.random()),
    logits: normal(5001 * 67),
    tall: normal(20_011 * 97),
    long: normal(3 * 50_000),
    nearOne: Float32Array.from({ length: 400 * 300 }, () => 1 + 0.01 * rng.normal()),
    heads: normal(64 * 37 * 6 * 29),
    table: normal(70 * 150),
    indices: Int32Array.from({ length: 4001 }, () => rng.randint(0, 70)),
    segmentRows: normal(20_000 * 150),
    segmentIds: Int32Array.from({ length: 20_000 }, () => rng.randint(0, 50)),
    ln: normal(3001 * 385),
    lnGain: normal(385),
    lnDy: normal(3001 * 385),
    qkv: normal(3 * 100 * 3 * 64),
    attnDy: normal(3 * 100 * 64),
    p: normal(100_003),
    m: normal(100_003),
    v: Float32Array.from({ length: 100_003 }, () => rng.random()),
    g: normal(100_003),
    ma: normal(513 * 257),
    mb: normal(257 * 301),
  };
}

const i32 = (...xs: number[]) => Int32Array.from(xs);

export function threadCases(inputs: CaseInputs): ThreadCase[] {
  const f = (name: string) => inputs[name] as Float32Array;
  const ids = (name: string) => inputs[name] as Int32Array;
  const out = (n: number) => new Float32Array(n);
  const n = f("a").length;
  return [
    { name: "binary add (same shape)", run: (x) => { const o = out(n); x.binary(0, f("a"), f("b"), o, i32(n), i32(1), i32(1)); return [o]; } },
    { name: "binary mul (row broadcast)", run: (x) => { const o = out(601 * 1537); x.binary(2, f("wide"), f("row"), o, i32(601, 1537), i32(1537, 1), i32(0, 1)); return [o]; } },
    { name: "binary sub (column broadcast)", run: (x) => { const o = out(601 * 1537); x.binary(1, f("wide"), f("column"), o, i32(601, 1537), i32(1537, 1), i32(1, 0)); return [o]; } },
    { name: "binary pow", run: (x) => { const o = out(100_003); x.binary(7, f("positive"), f("a"), o, i32(100_003), i32(1), i32(1)); return [o]; } },
    { name: "unary exp", run: (x) => { const o = out(n); x.unary(0, f("a"), o); return [o]; } },
    { name: "unary neg", run: (x) => { const o = out(n); x.unary(5, f("a"), o); return [o]; } },
    { name: "softmax", run: (x) => { const o = out(5001 * 67); x.softmax(f("logits"), o, 5001, 67); return [o]; } },
    { name: "sum over a long middle axis", run: (x) => { const o = out(97); x.reduce(0, f("tall"), o, 1, 20_011, 97); return [o]; } },
    { name: "sum over a long last axis", run: (x) => { const o = out(3); x.reduce(0, f("long"), o, 3, 50_000, 1); return [o]; } },
    { name: "mean over rows", run: (x) => { const o = out(1000); x.reduce(1, f("tall").subarray(0, 300_000), o, 1000, 300, 1); return [o]; } },
    { name: "max", run: (x) => { const o = out(7 * 33); x.reduce(2, f("tall").subarray(0, 7 * 8000 * 33), o, 7, 8000, 33); return [o]; } },
    { name: "prod", run: (x) => { const o = out(400); x.reduce(4, f("nearOne"), o, 400, 300, 1); return [o]; } },
    {
      name: "transpose (strided copy)",
      run: (x) => { const o = out(64 * 37 * 6 * 29); x.stridedCopy(f("heads"), o, i32(64, 6, 37, 29), i32(37 * 6 * 29, 29, 6 * 29, 1), 0); return [o]; },
    },
    {
      name: "pad (strided scatter)",
      run: (x) => { const o = out(64 * 40 * 6 * 29); x.stridedScatter(f("heads"), o, i32(64, 37, 6, 29), i32(40 * 6 * 29, 6 * 29, 29, 1), 2 * 6 * 29); return [o]; },
    },
    { name: "concat (copy2d)", run: (x) => { const o = out(601 * 3074); x.copy2d(f("wide"), 0, 1537, o, 1537, 3074, 601, 1537); return [o]; } },
    { name: "gather", run: (x) => { const o = out(4001 * 150); x.gather(f("table"), ids("indices"), o, 1, 70, 150); return [o]; } },
    { name: "segment sum", run: (x) => { const o = out(50 * 150); x.segmentSum(f("segmentRows"), ids("segmentIds"), o, 150, 50); return [o]; } },
    {
      name: "layerNorm",
      run: (x) => { const [y, mean, rstd] = [out(3001 * 385), out(3001), out(3001)]; x.layerNorm(f("ln"), f("lnGain"), y, mean, rstd, 3001, 385, 1e-5); return [y, mean, rstd]; },
    },
    {
      name: "layerNorm grad",
      run: (x) => {
        const [y, mean, rstd, dx, dgain] = [out(3001 * 385), out(3001), out(3001), out(3001 * 385), out(385)];
        x.layerNorm(f("ln"), f("lnGain"), y, mean, rstd, 3001, 385, 1e-5);
        x.layerNormGrad(f("lnDy"), f("ln"), mean, rstd, f("lnGain"), dx, dgain, 3001, 385);
        return [dx, dgain];
      },
    },
    { name: "gelu", run: (x) => { const o = out(n); x.gelu(f("a"), o); return [o]; } },
    { name: "gelu grad", run: (x) => { const o = out(n); x.geluGrad(f("b"), f("a"), o); return [o]; } },
    {
      name: "attention",
      run: (x) => { const [y, stats] = [out(3 * 100 * 64), out(3 * 4 * 100 * 2)]; x.attention(f("qkv"), y, stats, 3, 100, 4, 64, 0.25); return [y, stats]; },
    },
    {
      name: "attention grad",
      run: (x) => {
        const [y, stats, dqkv] = [out(3 * 100 * 64), out(3 * 4 * 100 * 2), out(3 * 100 * 3 * 64)];
        x.attention(f("qkv"), y, stats, 3, 100, 4, 64, 0.25);
        x.attentionGrad(f("attnDy"), f("qkv"), stats, dqkv, 3, 100, 4, 64, 0.25);
        return [dqkv];
      },
    },
    {
      name: "adamW",
      run: (x) => {
        const [p, m, v] = [Float32Array.from(f("p")), Float32Array.from(f("m")), Float32Array.from(f("v"))];
        x.adamW(p, m, v, f("g"), 0.9, 0.95, 1e-8, 0.999, 1e-3, 1.05, 0.7);
        return [p, m, v];
      },
    },
    { name: "matMul (OpenBLAS)", run: (x) => { const o = out(513 * 301); x.matMul(f("ma"), f("mb"), o, 1, 1, 1, 513, 301, 257, false, false); return [o]; } },
  ];
}

/** A case's name as a file name. */
export function caseFile(name: string, output: number): string {
  return `${name.replace(/[^a-z0-9]+/gi, "-")}.${output}.f32`;
}

/** Three AdamW steps of a GPT big enough that its kernels are split among threads. */
async function gptSteps(): Promise<{ losses: number[]; weights: string }> {
  const tf = await import("@tensorflow/tfjs-core");
  const { GPT } = await import("../../lib/models/gpt/index.js");
  const { AdamW, lossAndGrads } = await import("../../lib/train/index.js");
  const hash = createHash("sha256");
  const losses: number[] = [];
  // With biases: op by op. Without, in training with dropout: each block one native op (lib/native/block.ts).
  for (const [bias, dropout] of [[true, 0], [false, 0.1]] as const) {
    const config = { vocabSize: 65, blockSize: 64, nLayer: 2, nHead: 4, nEmbd: 128, dropout, bias };
    const model = new GPT(config, { seed: 7 });
    const adamW = new AdamW(model.params, { learningRate: 1e-3, beta1: 0.9, beta2: 0.99, weightDecay: 0.1 });
    const rng = new Rng(5);
    const [B, T] = [8, 64];
    const ids = Int32Array.from({ length: B * T + 1 }, () => rng.randint(0, 65));
    const x = tf.tensor2d(ids.subarray(0, B * T), [B, T], "int32");
    const y = tf.tensor2d(ids.subarray(1), [B, T], "int32");
    for (let step = 0; step < 3; step++) {
      const { loss, grads } = lossAndGrads(model, x, y, { training: !bias, rng });
      adamW.step(grads);
      losses.push(loss.dataSync()[0]);
      tf.dispose([loss, ...Object.values(grads)]);
    }
    for (const name of Object.keys(model.params).sort()) hash.update(name).update(new Uint8Array(model.params[name].dataSync().buffer));
    tf.dispose([x, y]);
    model.dispose();
    adamW.dispose();
  }
  return { losses, weights: hash.digest("hex") };
}

async function main(dir: string): Promise<void> {
  const { useBackend } = await import("../../lib/engine/index.js");
  const { nativeAddon, nativeThreads } = await import("../../lib/native/index.js");
  await useBackend("cpu");
  const addon = nativeAddon();
  if (!addon) throw new Error("native addon not loaded");
  mkdirSync(dir, { recursive: true });
  for (const c of threadCases(caseInputs())) {
    c.run(addon).forEach((values, i) => writeFileSync(join(dir, caseFile(c.name, i)), new Uint8Array(values.buffer)));
  }
  console.log(JSON.stringify({ threads: nativeThreads(), gpt: await gptSteps() }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv[2]);
