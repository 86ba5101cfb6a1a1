/**
 * Swapping the cpu backend's hottest kernels for native ones. Each wrapper keeps the stock
 * kernelFunc and calls it for anything the native kernel declines (int32 math, complex,
 * empty tensors, unusual attributes), so results never depend on whether the addon loaded.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { availableParallelism } from "node:os";
import { type NativeAddon, loadAddon } from "./addon.js";
import { binaryKernels, softmaxKernel, unaryKernels } from "./elementwise.js";
import type { NativeKernel } from "./kernel.js";
import {
  concatKernel, gatherKernel, packKernel, padKernel, scatterNdKernel, sliceKernel, splitVKernel, transposeKernel,
  unsortedSegmentSumKernel,
} from "./layout.js";
import { batchMatMulKernel, fusedMatMulKernel } from "./matmul.js";
import { blockKernels } from "./block.js";
import { fusedKernels } from "./fused.js";
import { reduceKernels } from "./reduce.js";
import type { KernelArgs } from "./tensors.js";
import { type KernelStats, type NativeInstallResult, state } from "./state.js";

export type { KernelStats, NativeInstallResult };

export interface NativeStatus extends NativeInstallResult {
  /** Whether the installed wrappers currently use the native path (see setNativeKernelsEnabled). */
  enabled: boolean;
  /** Which sgemm BatchMatMul uses, when loaded. */
  blas?: "openblas" | "builtin";
  /** Threads the native kernels use (their pool and OpenBLAS alike), when loaded. */
  threads?: number;
}

/**
 * Threads for the native kernels and OpenBLAS together: every core (os.availableParallelism(),
 * which honours CPU affinity), or COURSE_NATIVE_THREADS.
 */
export function wantedThreads(env: string | undefined = process.env.COURSE_NATIVE_THREADS): number {
  if (env === undefined || env.trim() === "") return Math.max(1, availableParallelism());
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new Error(`COURSE_NATIVE_THREADS must be a whole number from 1 to 1024 (got "${env}")`);
  }
  return n;
}

export const nativeKernels: NativeKernel[] = [
  batchMatMulKernel, fusedMatMulKernel, ...binaryKernels, ...unaryKernels, softmaxKernel, ...reduceKernels,
  transposeKernel, sliceKernel, splitVKernel, concatKernel, packKernel, padKernel, gatherKernel, scatterNdKernel,
  unsortedSegmentSumKernel,
];

/** Loads the addon and re-registers the cpu kernels it covers. Safe to call repeatedly. */
export function installNativeCpuKernels(): NativeInstallResult {
  const s = state();
  if (s.result) return s.result;
  if (process.env.COURSE_NATIVE === "0") return (s.result = { loaded: false, reason: "disabled by COURSE_NATIVE=0", kernels: [] });
  const threads = wantedThreads();
  const loaded = loadAddon();
  if (!loaded.addon) return (s.result = { loaded: false, reason: loaded.reason, kernels: [] });
  const addon = loaded.addon;
  s.addon = addon;
  addon.setThreads(threads);
  const installed: string[] = [];
  for (const kernel of nativeKernels) {
    const config = tf.getKernel(kernel.name, "cpu");
    if (!config) continue;
    const original = config.kernelFunc;
    s.originals.set(kernel.name, original);
    const stats: KernelStats = { native: 0, fallback: 0 };
    s.stats.set(kernel.name, stats);
    tf.unregisterKernel(kernel.name, "cpu");
    tf.registerKernel({
      ...config,
      kernelFunc: (args) => {
        const result = s.enabled ? kernel.run(args as unknown as KernelArgs, addon) : null;
        if (result) {
          stats.native++;
          return result;
        }
        stats.fallback++;
        return original(args);
      },
    });
    installed.push(kernel.name);
  }
  // The fused ops' own kernels: new names, no stock kernel behind them.
  for (const kernel of [...fusedKernels, ...blockKernels]) {
    if (tf.getKernel(kernel.name, "cpu")) continue;
    tf.registerKernel({
      kernelName: kernel.name,
      backendName: "cpu",
      kernelFunc: (args) => kernel.run(args as unknown as KernelArgs, addon) as tf.TensorInfo | tf.TensorInfo[],
    });
    installed.push(kernel.name);
  }
  return (s.result = { loaded: true, kernels: installed });
}

export function nativeStatus(): NativeStatus {
  const s = state();
  const result = s.result ?? { loaded: false, reason: "installNativeCpuKernels() not called", kernels: [] };
  return {
    ...result, enabled: s.enabled && result.loaded, ...(s.addon ? { blas: s.addon.blasName(), threads: s.addon.threads() } : {}),
  };
}

/**
 * How many threads the cpu backend's kernels use: the native pool's size (COURSE_NATIVE_THREADS,
 * else every core), or 1 when the stock JavaScript kernels run.
 */
export function nativeThreads(): number {
  const s = state();
  return s.addon && s.enabled ? s.addon.threads() : 1;
}

/** Resizes the native kernels' thread pool (and OpenBLAS's threads) for the rest of the process; for benchmarks. */
export function setNativeThreads(n: number): void {
  const addon = state().addon;
  if (!addon) throw new Error("setNativeThreads: the native kernels are not loaded");
  addon.setThreads(wantedThreads(String(n)));
}

/** Routes the installed kernels to native (true) or stock JS (false) code; for tests and benchmarks. */
export function setNativeKernelsEnabled(enabled: boolean): void {
  state().enabled = enabled;
}

/** The loaded addon, or null; for benchmarks and tests that call kernels directly. */
export function nativeAddon(): NativeAddon | null {
  return state().addon;
}

/** Per-kernel counts of native and fallback runs since install (or the last reset). */
export function nativeKernelStats(): Record<string, KernelStats> {
  const out: Record<string, KernelStats> = {};
  for (const [name, stats] of state().stats) out[name] = { ...stats };
  return out;
}

export function resetNativeKernelStats(): void {
  for (const stats of state().stats.values()) stats.native = stats.fallback = 0;
}
