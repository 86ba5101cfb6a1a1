/** The native kernels' process-wide state. */
import type * as tf from "@tensorflow/tfjs-core";
import type { NativeAddon } from "./addon.js";

export interface NativeInstallResult {
  loaded: boolean;
  reason?: string;
  kernels: string[];
}

/** How often each installed kernel ran natively and how often it fell back to the stock kernel. */
export interface KernelStats {
  native: number;
  fallback: number;
}

export interface State {
  result: NativeInstallResult | null;
  addon: NativeAddon | null;
  enabled: boolean;
  originals: Map<string, tf.KernelFunc>;
  stats: Map<string, KernelStats>;
}

// Kept on globalThis: tslab and ESM can load these modules twice, and the kernel registry is global too.
const stateKey = Symbol.for("gpt-from-scratch.native");

export function state(): State {
  const g = globalThis as unknown as Record<symbol, State>;
  g[stateKey] ??= { result: null, addon: null, enabled: true, originals: new Map(), stats: new Map() };
  return g[stateKey];
}
