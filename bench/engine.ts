/**
 * The wasm backend's transposed matrix products, before and after the engine's fix
 * (lib/engine/wasm-kernels.ts), in one run. The shapes are a small GPT's training step
 * (B·T = 2048 rows, C = 128): the forward product, its two gradients and attention's q·kᵀ.
 * Reference: the same product without transpose flags, timed alongside.
 */
import * as tf from "@tensorflow/tfjs-core";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { dirname } from "node:path";
import { projectRequire } from "../lib/engine/modules.js";
import { installWasmKernelFixes } from "../lib/engine/wasm-kernels.js";

interface Case {
  name: string;
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
}

const rows = 2048, width = 128, hidden = 512;
const cases: Case[] = [
  { name: "dY·Wᵀ  (grad of x in x·W)", a: [rows, hidden], b: [width, hidden], transposeA: false, transposeB: true },
  { name: "xᵀ·dY  (grad of W in x·W)", a: [rows, width], b: [rows, hidden], transposeA: true, transposeB: false },
  { name: "q·kᵀ   (attention scores)", a: [16, 4, 64, 32], b: [16, 4, 64, 32], transposeA: false, transposeB: true },
  { name: "attᵀ·dY (grad of v)      ", a: [16, 4, 64, 64], b: [16, 4, 64, 32], transposeA: true, transposeB: false },
];

function swapLast(rank: number): number[] {
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return perm;
}

function millis(run: () => tf.Tensor): number {
  const start = performance.now();
  const out = run();
  out.dataSync();
  out.dispose();
  return performance.now() - start;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
}

function useKernel(config: tf.KernelConfig): void {
  tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
}

setWasmPaths(dirname(projectRequire().resolve("@tensorflow/tfjs-backend-wasm")) + "/");
await tf.setBackend("wasm");
const original = tf.getKernel(tf.BatchMatMul, "wasm");
installWasmKernelFixes();
const fixed = tf.getKernel(tf.BatchMatMul, "wasm");

console.log("wasm BatchMatMul, median of 7 interleaved rounds (the CPU may be shared: compare ratios)");
console.log("  product                      tfjs    fixed   no flags  tfjs/no flags  fixed/no flags  speedup");
for (const c of cases) {
  const a = tf.randomNormal(c.a, 0, 1, "float32", 1);
  const b = tf.randomNormal(c.b, 0, 1, "float32", 2);
  // The reference multiplies the same numbers laid out so that no flag is needed.
  const a2 = c.transposeA ? tf.transpose(a, swapLast(a.rank)) : a;
  const b2 = c.transposeB ? tf.transpose(b, swapLast(b.rank)) : b;
  const flagged = () => tf.matMul(a, b, c.transposeA, c.transposeB);
  const plain = () => tf.matMul(a2, b2);
  const times = { tfjs: [] as number[], fixed: [] as number[], plain: [] as number[] };
  for (let round = 0; round < 8; round++) {
    useKernel(original);
    const t = millis(flagged);
    useKernel(fixed);
    const f = millis(flagged);
    const p = millis(plain);
    if (round > 0) (times.tfjs.push(t), times.fixed.push(f), times.plain.push(p)); // round 0 warms up
  }
  const [t, f, p] = [median(times.tfjs), median(times.fixed), median(times.plain)];
  console.log(
    `  ${c.name}  ${t.toFixed(1).padStart(6)}  ${f.toFixed(1).padStart(6)}  ${p.toFixed(1).padStart(8)}` +
      `  ${(t / p).toFixed(1).padStart(12)}x  ${(f / p).toFixed(2).padStart(13)}x  ${(t / f).toFixed(1).padStart(6)}x`,
  );
  tf.dispose([a, b, a2, b2]);
}
