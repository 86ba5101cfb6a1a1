export {
  installNativeCpuKernels, nativeStatus, setNativeKernelsEnabled, nativeAddon, nativeKernels, nativeKernelStats,
  resetNativeKernelStats,
} from "./install.js";
export type { NativeInstallResult, NativeStatus, KernelStats } from "./install.js";
export type { NativeAddon } from "./addon.js";
export { setBufferPooling, pooledBytes } from "./pool.js";
export { fusedLayerNorm, fusedGelu, fusedCausalSelfAttention, fusedAdamWStep, fusedOpsAvailable } from "./fused.js";
export type { FusedAdamWOptions } from "./fused.js";
