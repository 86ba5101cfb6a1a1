import * as tf from "@tensorflow/tfjs-core";
import { fastBatchMatMul, untransposedFusedMatMul } from "./wasm-matmul.js";
import { unsortedSegmentSum } from "./wasm-segment-sum.js";

/**
 * The engine's fixes to tfjs's wasm backend for training transformers (see wasm-matmul.ts
 * and wasm-segment-sum.ts). Returns the names of the kernels it replaced or added.
 * Safe to call again: kernels it registered are marked and left alone.
 */
export function installWasmKernelFixes(): string[] {
  replace(tf.BatchMatMul, fastBatchMatMul);
  replace(tf._FusedMatMul, untransposedFusedMatMul);
  if (tf.getKernel(tf.UnsortedSegmentSum, "wasm") == null) {
    tf.registerKernel(marked({ kernelName: tf.UnsortedSegmentSum, backendName: "wasm", kernelFunc: unsortedSegmentSum }));
  }
  return tf.getKernelsForBackend("wasm").filter(isMarked).map((config) => config.kernelName);
}

function replace(kernelName: string, wrap: (original: tf.KernelFunc) => tf.KernelFunc): void {
  const original = tf.getKernel(kernelName, "wasm");
  if (original == null || isMarked(original)) return;
  tf.unregisterKernel(kernelName, "wasm");
  // Keeping setupFunc: it binds the C function the original kernelFunc calls.
  tf.registerKernel(marked({ ...original, kernelFunc: wrap(original.kernelFunc) }));
}

const mark = "courseEngineFix";

function marked(config: tf.KernelConfig): tf.KernelConfig {
  return { ...config, [mark]: true } as tf.KernelConfig;
}

function isMarked(config: tf.KernelConfig): boolean {
  return (config as unknown as Record<string, unknown>)[mark] === true;
}
