/**
 * Seeded dropout: tf.dropout (random numbers drawn one by one in JavaScript, then uploaded)
 * against the engine's hash kernels (lib/engine/random-kernels.ts), in one run, on the attention
 * matrix of the baby-GPT config with dropout 0.2: B=64, 6 heads, T=256 (25M elements), forward only.
 * On cpu and, when an adapter is found, WebGPU (a software one here unless a GPU is present).
 * Each time includes reading back one number (a sum), so the "sum alone" row is the floor.
 * COURSE_PROFILE=ci uses B=8.
 */
import { BackendUnavailable, seededDropout, shutdownEngine, tf, useBackend, type BackendName } from "../lib/engine/index.js";
import { byProfile } from "../lib/util/profile.js";
import { median } from "./support/stats.js";

const shape = [byProfile({ ci: 8, full: 64 }), 6, 256, 256];
const rate = 0.2;
const rounds = 3;

async function millis(run: () => tf.Tensor): Promise<number> {
  const start = performance.now();
  const total = tf.tidy(() => tf.sum(run()));
  await total.data();
  total.dispose();
  return performance.now() - start;
}

async function benchOn(backend: BackendName): Promise<void> {
  const info = await useBackend(backend, { allowSoftware: true });
  const x = tf.randomNormal(shape, 0, 1, "float32", 1);
  const runs = {
    "sum alone": () => x,
    "tf.dropout": () => tf.dropout(x, rate, undefined, 7),
    seededDropout: () => seededDropout(x, rate, 7),
  };
  const times: Record<string, number[]> = {};
  for (let round = 0; round <= rounds; round++) {
    for (const [name, run] of Object.entries(runs)) {
      const ms = await millis(run);
      if (round > 0) (times[name] ??= []).push(ms); // round 0 warms up (shader compiles)
    }
  }
  x.dispose();
  const [floor, theirs, ours] = Object.keys(runs).map((name) => median(times[name]));
  console.log(`${backend} on ${info.device}`);
  for (const [name, ms] of [["sum alone", floor], ["tf.dropout", theirs], ["seededDropout", ours]] as const) {
    console.log(`  ${name.padEnd(14)} ${ms.toFixed(0).padStart(8)} ms`);
  }
  console.log(`  speedup (tf.dropout / seededDropout): ${(theirs / ours).toFixed(1)}x; without the sum: ${((theirs - floor) / Math.max(ours - floor, 1e-3)).toFixed(1)}x`);
}

console.log(`dropout(${rate}) over [${shape.join(", ")}] (${shape.reduce((a, b) => a * b)} elements), median of ${rounds} rounds (the CPU may be shared)`);
await benchOn("cpu");
try {
  await benchOn("webgpu");
} catch (error) {
  if (!(error instanceof BackendUnavailable)) throw error;
  console.log(`webgpu: skipped (${error.reason})`);
}
await shutdownEngine();
