/**
 * What hooks cost: milliseconds per forward pass of nanoGPT's CPU config (4 layers, 4 heads,
 * n_embd 128) on 4 sequences of 32 tokens on the cpu backend, as the plain model (fused native kernels
 * where built), HookedGPT with no hooks (which calls the plain model), the composite hooked path
 * with no hooks, with an identity hook on every point, and runWithCache of every activation;
 * ratios to the plain model measured in the same run (variants alternate round by round). Then the
 * same table in a child process with COURSE_NATIVE=0, where the plain model runs its own composite
 * ops too: the hooked path against the plain composite path.
 *
 *   npm run bench -- interp
 */
import { spawnSync } from "node:child_process";
import * as tf from "@tensorflow/tfjs-core";
import { describeEngine, useBackend } from "../lib/engine/index.js";
import { HookedGPT } from "../lib/interp/index.js";
import { GPT } from "../lib/models/gpt/index.js";
import { byProfile } from "../lib/util/profile.js";
import { Rng } from "../lib/util/random.js";
import { median } from "./support/stats.js";

await useBackend("cpu");
const model = new GPT({ vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0, bias: false });
const lens = new HookedGPT(model);
const rng = new Rng(1);
const idx = tf.tensor2d(Array.from({ length: 4 }, () => Array.from({ length: 32 }, () => rng.randint(0, 65))), undefined, "int32");

const variants: Record<string, () => tf.Tensor[]> = {
  "model.forward": () => [model.forward(idx).logits],
  "hooked, no hooks": () => [lens.runWithHooks(idx)],
  "composite, no hooks": () => [lens.runWithHooks(idx, { composite: true })],
  "identity hook on all": () => [lens.runWithHooks(idx, { fwdHooks: [[() => true, (x) => x]] })],
  "runWithCache (all)": () => {
    const { logits, cache } = lens.runWithCache(idx);
    cache.dispose();
    return [logits];
  },
};
const native = process.env.COURSE_NATIVE !== "0";
// The pure-JavaScript kernels are slow: fewer rounds without the native ones.
const rounds = native ? byProfile({ ci: 3, full: 15 }) : 5;
const times: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let round = -1; round < rounds; round++) {
  for (const [name, run] of Object.entries(variants)) {
    const start = performance.now();
    const out = run();
    await out[0].data();
    if (round >= 0) times[name].push(performance.now() - start);
    tf.dispose(out);
  }
}
console.log(`${describeEngine()}; batch 4 × 32 tokens, ${rounds} rounds, medians`);
const plain = median(times["model.forward"]);
for (const [name, values] of Object.entries(times)) {
  const ms = median(values);
  console.log(`${name.padEnd(22)} ${ms.toFixed(1).padStart(7)} ms   ×${(ms / plain).toFixed(2)}`);
}
if (native) {
  console.log("\nwithout the native kernels (COURSE_NATIVE=0): the plain model's composite path");
  const child = spawnSync(process.execPath, ["--import", "tsx", "bench/interp.ts"], { stdio: "inherit", env: { ...process.env, COURSE_NATIVE: "0" } });
  process.exitCode = child.status ?? 1;
}
