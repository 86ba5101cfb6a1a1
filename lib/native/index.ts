/**
 * Native kernels for tfjs's cpu backend (the addon in native/, built by scripts/build-native.mjs).
 *
 *   installNativeCpuKernels()   // useBackend("cpu") calls it: { loaded, reason?, kernels }
 *   nativeStatus()              // also { enabled, blas: "openblas" | "builtin", threads }
 *   nativeThreads()             // threads the cpu kernels use: every core, or COURSE_NATIVE_THREADS
 *
 * Fused ops, each null/false where it cannot run natively (then run the composite form):
 *   fusedLayerNorm(x, gain, eps) ?? ...;  fusedGelu(x) ?? ...;
 *   fusedCausalSelfAttention(qkv, B, T, nHead) ?? ...;  fusedAdamWStep(p, m, v, g, options) || ...
 * Env: COURSE_NATIVE=0 keeps the stock JS kernels; COURSE_NATIVE_THREADS=n sets all native threads
 * (the kernels' pool and OpenBLAS's).
 */
export {
  installNativeCpuKernels, nativeStatus, setNativeKernelsEnabled, nativeAddon, nativeKernels, nativeKernelStats,
  resetNativeKernelStats, nativeThreads, setNativeThreads,
} from "./install.js";
export type { NativeInstallResult, NativeStatus, KernelStats } from "./install.js";
export type { NativeAddon } from "./addon.js";
export { setBufferPooling, pooledBytes } from "./pool.js";
export { fusedLayerNorm, fusedGelu, fusedCausalSelfAttention, fusedAdamWStep, fusedOpsAvailable, fusedSumOfSquares, fusedCrossEntropy } from "./fused.js";
export type { FusedAdamWOptions } from "./fused.js";
export { fusedBlock } from "./block.js";
export type { BlockWeights, BlockShape, BlockDropout } from "./block.js";
