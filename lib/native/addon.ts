/**
 * Loading the compiled addon (native/build/Release/course_native.node, built by
 * scripts/build-native.mjs). `require` comes from createRequire so this file compiles to
 * both ESM and CommonJS (tslab).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { repoRoot } from "../util/paths.js";

/** The functions native/src/addon.cc exports; every output buffer is allocated by the caller. */
export interface NativeAddon {
  matMul(a: Float32Array, b: Float32Array, out: Float32Array, batch: number, batchA: number, batchB: number,
    m: number, n: number, k: number, transposeA: boolean, transposeB: boolean): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, shape: Int32Array,
    aStrides: Int32Array, bStrides: Int32Array): void;
  unary(op: number, x: Float32Array, out: Float32Array): void;
  softmax(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  reduce(op: number, x: Float32Array, out: Float32Array, pre: number, red: number, post: number): void;
  stridedCopy(x: Words, out: Words, shape: Int32Array, strides: Int32Array, offset: number): void;
  stridedScatter(x: Words, out: Words, shape: Int32Array, outStrides: Int32Array, offset: number): void;
  copy2d(src: Words, srcOffset: number, srcStride: number, dst: Words, dstOffset: number, dstStride: number,
    rows: number, cols: number): void;
  gather(x: Words, indices: Int32Array, out: Words, outer: number, axisDim: number, inner: number): boolean;
  segmentSum(x: Float32Array, ids: Int32Array, out: Float32Array, inner: number, numSegments: number): void;
  adamW(p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, beta1: number, beta2: number, eps: number,
    decay: number, stepSize: number, invSqrtCorrection2: number, gradScale: number): void;
  layerNorm(x: Float32Array, gain: Float32Array, y: Float32Array, mean: Float32Array, rstd: Float32Array, rows: number,
    cols: number, eps: number): void;
  layerNormGrad(dy: Float32Array, x: Float32Array, mean: Float32Array, rstd: Float32Array, gain: Float32Array,
    dx: Float32Array, dgain: Float32Array, rows: number, cols: number): void;
  gelu(x: Float32Array, y: Float32Array): void;
  geluGrad(dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  /**
   * A transformer block (native/src/block.cc): x, y, the six weights, the twelve saved tensors,
   * B, T, C, nHead, eps, scale, then key, threshold, scale for each of the three dropouts.
   */
  block(...args: (Float32Array | number)[]): void;
  /** Its backward pass: dy, x, weights, saved, dx, the six weight gradients, four work buffers, then as block. */
  blockGrad(...args: (Float32Array | number)[]): void;
  /** Mean cross-entropy of logits (rows, cols) against targets; lse gets each row's log-sum-exp. Throws on a target out of range. */
  crossEntropy(logits: Float32Array, targets: Int32Array, lse: Float32Array, rows: number, cols: number): number;
  /** dx = (softmax(logits) − onehot(targets)) · scale. */
  crossEntropyGrad(logits: Float32Array, targets: Int32Array, lse: Float32Array, dx: Float32Array, rows: number, cols: number,
    scale: number): void;
  /** Σ x² in double, the same for any number of threads. */
  sumOfSquares(x: Float32Array): number;
  /** out = x with seeded dropout (key, threshold, scale as lib/engine/random-kernels.ts makes them). */
  dropout(x: Float32Array, out: Float32Array, key: number, threshold: number, scale: number): void;
  /**
   * stats (B·nHead, T, 2): each attention row's max and 1 / sum, for attentionGrad. The optional
   * key, threshold, scale drop out attention weights (element index in (B·nHead, T, T)).
   */
  attention(qkv: Float32Array, y: Float32Array, stats: Float32Array, batch: number, t: number, nHead: number, c: number,
    scale: number, ...dropout: [] | [key: number, threshold: number, scale: number]): void;
  attentionGrad(dy: Float32Array, qkv: Float32Array, stats: Float32Array, dqkv: Float32Array, batch: number, t: number,
    nHead: number, c: number, scale: number, ...dropout: [] | [key: number, threshold: number, scale: number]): void;
  blasName(): "openblas" | "builtin";
  useOpenBlas(enable: boolean): boolean;
  /** The kernels' thread pool (1 to 1024 threads); OpenBLAS stays on one thread in each. */
  setThreads(n: number): void;
  threads(): number;
}

/** Any array of 4-byte elements: the layout kernels move words without looking at them. */
export type Words = Float32Array | Int32Array | Uint32Array;

function addonPath(): string {
  return join(repoRoot(), "native", "build", "Release", "course_native.node");
}

// `reason?` on the success branch too: tslab compiles without strictNullChecks, where `!loaded.addon` does not narrow.
export function loadAddon(): { addon: NativeAddon; reason?: string } | { addon: null; reason: string } {
  const path = addonPath();
  if (!existsSync(path)) return { addon: null, reason: `addon not built (${path} missing; run node scripts/build-native.mjs)` };
  const missing = missingCpuFeatures(join(path, "..", "..", "cpu-flags.txt"));
  if (missing.length > 0) {
    return { addon: null, reason: `addon built for another CPU (this one lacks ${missing.slice(0, 3).join(", ")}; run node scripts/build-native.mjs)` };
  }
  const damaged = integrityProblem(path);
  if (damaged) return { addon: null, reason: damaged };
  try {
    const require = createRequire(join(repoRoot(), "package.json"));
    return { addon: require(path) as NativeAddon };
  } catch (error) {
    return { addon: null, reason: `addon failed to load: ${(error as Error).message}` };
  }
}

/**
 * Why the addon file is not the one the build produced, or null when its size and sha256 match the
 * build's record. dlopen of a truncated or corrupted shared object crashes the process (SIGBUS,
 * SIGSEGV) rather than throwing, so this is checked first.
 */
function integrityProblem(path: string): string | null {
  const rebuild = "rebuild with node scripts/build-native.mjs";
  const recordPath = `${path}.sha256.json`;
  let recorded: { bytes?: unknown; sha256?: unknown };
  try {
    recorded = JSON.parse(readFileSync(recordPath, "utf8"));
  } catch (error) {
    const why = existsSync(recordPath) ? `unreadable: ${(error as Error).message}` : "missing";
    return `addon has no valid build record (${recordPath} ${why}); ${rebuild}`;
  }
  const bytes = statSync(path).size;
  if (bytes !== recorded.bytes) {
    return `addon file is damaged (${bytes} bytes, the build recorded ${String(recorded.bytes)}; truncated?); ${rebuild}`;
  }
  const digest = createHash("sha256").update(readFileSync(path)).digest("hex");
  if (digest !== recorded.sha256) {
    return `addon file is damaged (sha256 ${digest.slice(0, 12)}… differs from the build's record); ${rebuild}`;
  }
  return null;
}

/**
 * CPU features the addon was compiled for (-march=native, recorded by the build script) that this
 * CPU lacks: loading it here would crash on an illegal instruction. Empty when unknown (no record,
 * no /proc/cpuinfo).
 */
function missingCpuFeatures(recordPath: string): string[] {
  // Instruction-set flags only: the others (hypervisor, tsc details) differ harmlessly.
  const isa = /^(sse|ssse|avx|fma|f16c|bmi|popcnt|abm|lzcnt|movbe|adx|sha|aes|pclmul|vpclmul|gfni|vaes|amx)/;
  try {
    if (!existsSync(recordPath) || !existsSync("/proc/cpuinfo")) return [];
    const built = readFileSync(recordPath, "utf8").trim().split(/\s+/).filter((f: string) => isa.test(f));
    const cpuFlags = readFileSync("/proc/cpuinfo", "utf8").match(/^flags\s*:(.*)$/m)?.[1]?.trim().split(/\s+/) ?? [];
    const here = new Set(cpuFlags);
    return here.size === 0 ? [] : built.filter((f: string) => !here.has(f));
  } catch {
    return [];
  }
}
