export { installNativeCpuKernels, nativeStatus, setNativeKernelsEnabled, nativeAddon, nativeKernels } from "./install.js";
export type { NativeInstallResult, NativeStatus } from "./install.js";
export type { NativeAddon } from "./addon.js";
