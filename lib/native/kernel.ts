import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { NativeAddon } from "./addon.js";
import type { KernelArgs } from "./tensors.js";

/**
 * A native replacement for one cpu kernel. `run` returns null for inputs it does not handle
 * (other dtypes, empty tensors, exotic attributes), and the stock JS kernel runs instead.
 */
export interface NativeKernel {
  name: string;
  run(args: KernelArgs, addon: NativeAddon): TensorInfo | TensorInfo[] | null;
}

export function input(args: KernelArgs, name: string): TensorInfo | undefined {
  return (args.inputs as Record<string, TensorInfo>)[name];
}
