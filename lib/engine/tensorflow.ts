import * as tf from "@tensorflow/tfjs-core";
import { importOptional } from "./modules.js";
import { cpuModel } from "./cpu.js";
import { BackendUnavailable, type EngineInfo } from "./types.js";

const packages = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"];

/** TensorFlow's C library through tfjs-node(-gpu): optional, installed by `npm run gpu:install` (CUDA) or `npm run tf:install` (CPU). */
export async function setupTensorflow(): Promise<EngineInfo> {
  const failures: string[] = [];
  for (const name of packages) {
    const { module, error } = await importOptional(name);
    if (module == null) {
      failures.push(error ?? `${name}: unknown error`);
      continue;
    }
    if (!(await tf.setBackend("tensorflow"))) {
      failures.push(`${name} loaded but tf.setBackend('tensorflow') failed`);
      continue;
    }
    const backend = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
    const gpu = backend.isUsingGpuDevice === true;
    return {
      backend: "tensorflow",
      gpu,
      device: gpu ? `TensorFlow C library on a CUDA GPU (${name})` : `${cpuModel()}, TensorFlow C library (${name})`,
      notes: name.endsWith("-gpu") && !gpu ? ["tensorflow: tfjs-node-gpu found no CUDA GPU, running on CPU"] : [],
    };
  }
  throw new BackendUnavailable(
    "tensorflow",
    `${failures.join("; ")}. Install it with \`npm run gpu:install\` (NVIDIA GPU with CUDA) ` +
      "or `npm run tf:install` (CPU)",
  );
}
