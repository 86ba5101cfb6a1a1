/**
 * The engine: which tensor backend runs the course's code, and TensorFlow.js itself.
 *   import { tf, useBackend, describeEngine } from "./lib";
 *   await useBackend();            // or "cpu" | "wasm" | "webgpu" | "tensorflow"
 *   console.log(describeEngine());
 */
export * as tf from "@tensorflow/tfjs-core";
export { useBackend, engineInfo, describeEngine, shutdownEngine } from "./engine.js";
export { registerGradients } from "./gradients.js";
export { seededDropout, dropoutMask, randomUniform, randomBits, lowbias32, installRandomKernels, dropoutKernelName } from "./random-kernels.js";
export {
  BackendUnavailable,
  backendChoices,
  type AdapterDescription,
  type BackendChoice,
  type BackendName,
  type EngineInfo,
  type UseBackendOptions,
} from "./types.js";
