/**
 * tfjs's wasm matrix products before and after the engine's fix (lib/engine/wasm-matmul.ts),
 * in one run, on the shapes of a small GPT's training step (B=16, T=64, C=128, 4 heads):
 * the linear layer on a 3-D input, its two gradients (transpose flags), and attention's
 * batched products. Reference: tfjs's own kernel on the same numbers laid out so that no
 * transpose flag is needed, timed alongside ("tfjs/plain" is the cost of the flags).
 */
import * as tf from "@tensorflow/tfjs-core";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { dirname } from "node:path";
import { projectRequire } from "../lib/engine/modules.js";
import { installWasmKernelFixes } from "../lib/engine/wasm-kernels.js";
import { median } from "./support/stats.js";

interface Case {
  name: string;
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
}

const [B, T, C, H, nh, hs] = [16, 64, 128, 512, 4, 32];
const cases: Case[] = [
  { name: "x·W      x[B,T,C]  ", a: [B, T, C], b: [C, H], transposeA: false, transposeB: false },
  { name: "dY·Wᵀ    grad of x ", a: [B * T, H], b: [C, H], transposeA: false, transposeB: true },
  { name: "xᵀ·dY    grad of W ", a: [B * T, C], b: [B * T, H], transposeA: true, transposeB: false },
  { name: "q·kᵀ     attention ", a: [B, nh, T, hs], b: [B, nh, T, hs], transposeA: false, transposeB: true },
  { name: "att·v    attention ", a: [B, nh, T, T], b: [B, nh, T, hs], transposeA: false, transposeB: false },
  { name: "attᵀ·dY  grad of v ", a: [B, nh, T, T], b: [B, nh, T, hs], transposeA: true, transposeB: false },
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

function useKernel(config: tf.KernelConfig): void {
  tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
}

setWasmPaths(dirname(projectRequire().resolve("@tensorflow/tfjs-backend-wasm")) + "/");
await tf.setBackend("wasm");
const tfjsKernel = tf.getKernel(tf.BatchMatMul, "wasm");
installWasmKernelFixes();
const fixedKernel = tf.getKernel(tf.BatchMatMul, "wasm");

const rounds = 7;
console.log(`wasm BatchMatMul, ms (median of ${rounds} interleaved rounds; the CPU may be shared, so read the ratios)`);
console.log("  product                 tfjs    plain    fixed   tfjs/plain  fixed/plain  speedup");
for (const c of cases) {
  const a = tf.randomNormal(c.a, 0, 1, "float32", 1);
  const b = tf.randomNormal(c.b, 0, 1, "float32", 2);
  const a2 = c.transposeA ? tf.transpose(a, swapLast(a.rank)) : a;
  const b2 = c.transposeB ? tf.transpose(b, swapLast(b.rank)) : b;
  const flagged = () => tf.matMul(a, b, c.transposeA, c.transposeB);
  const plain = () => tf.matMul(a2, b2);
  const times = { tfjs: [] as number[], plain: [] as number[], fixed: [] as number[] };
  for (let round = 0; round <= rounds; round++) {
    useKernel(tfjsKernel);
    const t = millis(flagged);
    const p = millis(plain);
    useKernel(fixedKernel);
    const f = millis(flagged);
    if (round > 0) (times.tfjs.push(t), times.plain.push(p), times.fixed.push(f)); // round 0 warms up
  }
  const [t, p, f] = [median(times.tfjs), median(times.plain), median(times.fixed)];
  const cell = (v: number, width: number) => v.toFixed(1).padStart(width);
  console.log(`  ${c.name} ${cell(t, 7)} ${cell(p, 8)} ${cell(f, 8)} ${cell(t / p, 11)}x ${(f / p).toFixed(2).padStart(11)}x ${cell(t / f, 7)}x`);
  tf.dispose([a, b, a2, b2]);
}
