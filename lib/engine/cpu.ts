import * as tf from "@tensorflow/tfjs-core";
import { cpus } from "node:os";
import { installNativeCpuKernels, type NativeInstallResult } from "../native/index.js";
import type { EngineInfo } from "./types.js";

export function cpuModel(): string {
  const all = cpus();
  const model = all[0]?.model?.trim() || "unknown CPU";
  return `${model} (${all.length} core${all.length === 1 ? "" : "s"})`;
}

/** tfjs's JavaScript CPU backend, with the course's native C kernels when they are built. */
export async function setupCpu(): Promise<EngineInfo> {
  await import("@tensorflow/tfjs-backend-cpu");
  if (!(await tf.setBackend("cpu"))) throw new Error("tf.setBackend('cpu') returned false");
  // We choose backends ourselves: silence tfjs's "install tfjs-node" banner.
  (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  const nativeKernels = installNative(); // cheap when repeated: lib/native remembers
  const notes = nativeKernels.loaded
    ? [`cpu: native C kernels for ${nativeKernels.kernels.length} ops: ${nativeKernels.kernels.join(", ")}`]
    : [`cpu: JavaScript kernels only (native: ${nativeKernels.reason ?? "not loaded"})`];
  return {
    backend: "cpu",
    gpu: false,
    device: `${cpuModel()}, ${nativeKernels.loaded ? "native" : "JavaScript"} kernels`,
    native: nativeKernels.loaded,
    notes,
  };
}

function installNative(): NativeInstallResult {
  try {
    return installNativeCpuKernels();
  } catch (error) {
    return { loaded: false, reason: error instanceof Error ? error.message : String(error), kernels: [] };
  }
}
