import * as tf from "@tensorflow/tfjs-core";
import { setupCpu } from "./cpu.js";
import { registerGradients } from "./gradients.js";
import { firstLine } from "./modules.js";
import { noGpuDeviceReason } from "./gpu-devices.js";
import { setupTensorflow } from "./tensorflow.js";
import {
  BackendUnavailable,
  backendChoices,
  type BackendChoice,
  type BackendName,
  type EngineInfo,
  type UseBackendOptions,
} from "./types.js";
import { engineState } from "./state.js";
import { setupWasm } from "./wasm.js";
import { probeWebGpu, setupWebGpu, shutdownWebGpu } from "./webgpu-backend.js";

registerGradients();

const setups: Record<BackendName, (options: UseBackendOptions) => Promise<EngineInfo>> = {
  tensorflow: setupTensorflow,
  webgpu: setupWebGpu,
  wasm: setupWasm,
  cpu: setupCpu,
};

/**
 * Picks the tensor backend every later tf call runs on, and says what it is.
 *
 *   const engine = await useBackend();          // COURSE_BACKEND, else "auto"
 *   console.log(describeEngine());
 *
 * "auto" takes the first that works: TensorFlow's C library (tfjs-node-gpu, tfjs-node; only
 * if installed), WebGPU on a hardware adapter, the cpu backend with the course's native
 * kernels, WebAssembly, plain cpu. An explicit choice that cannot run throws, saying why
 * and what to install. Calling it again with the same choice costs nothing.
 */
export function useBackend(choice?: BackendChoice, options: UseBackendOptions = {}): Promise<EngineInfo> {
  const state = engineState();
  const run = state.queue.then(() => switchTo(choice ?? defaultChoice(), options));
  state.queue = run.catch(() => undefined);
  return run;
}

/** The backend chosen by the last useBackend, or undefined before the first one. */
export function engineInfo(): EngineInfo | undefined {
  const { current } = engineState();
  return current != null && tf.getBackend() === current.info.backend ? current.info : undefined;
}

/** One line for printing: "wasm on Intel Xeon (2 cores), WebAssembly SIMD, 1 thread". */
export function describeEngine(): string {
  const info = engineInfo();
  if (info == null) return `no backend chosen yet (tfjs default: ${tf.getBackend() ?? "none"})`;
  return `${info.backend} on ${info.device}`;
}

/** Releases the WebGPU device so Node can exit; later tf calls need a new useBackend. */
export async function shutdownEngine(): Promise<void> {
  const state = engineState();
  await state.queue;
  await shutdownWebGpu();
  state.current = undefined;
}

function defaultChoice(): BackendChoice {
  const value = process.env.COURSE_BACKEND?.trim().toLowerCase();
  if (value == null || value === "") return "auto";
  if (!(backendChoices as readonly string[]).includes(value)) {
    throw new Error(`COURSE_BACKEND must be one of ${backendChoices.join(", ")}; got "${value}"`);
  }
  return value as BackendChoice;
}

async function switchTo(choice: BackendChoice, options: UseBackendOptions): Promise<EngineInfo> {
  if (!(backendChoices as readonly string[]).includes(choice)) {
    throw new Error(`useBackend: unknown backend "${choice}"; choose one of ${backendChoices.join(", ")}`);
  }
  registerGradients();
  const state = engineState();
  const key = JSON.stringify([choice, options.allowSoftware ?? process.env.COURSE_WEBGPU_SOFTWARE, options.dawnOptions]);
  if (state.current?.key === key && tf.getBackend() === state.current.info.backend) return state.current.info;
  const info = choice === "auto" ? await pickAutomatically(options) : await setups[choice](options);
  state.current = { key, info };
  return info;
}

async function pickAutomatically(options: UseBackendOptions): Promise<EngineInfo> {
  const skipped: string[] = [];
  const attempt = async (name: BackendName, setup: () => Promise<EngineInfo | undefined>) => {
    try {
      return await setup();
    } catch (error) {
      skipped.push(`auto: skipped ${name}: ${error instanceof BackendUnavailable ? error.reason : firstLine(error)}`);
      return undefined;
    }
  };
  const withSkipped = (info: EngineInfo): EngineInfo => ({ ...info, notes: [...skipped, ...info.notes] });

  const tensorflow = await attempt("tensorflow", setupTensorflow);
  if (tensorflow) return withSkipped(tensorflow);

  const webgpu = await attempt("webgpu", async () => {
    const noDevice = noGpuDeviceReason();
    if (noDevice) throw new BackendUnavailable("webgpu", noDevice);
    const adapter = await probeWebGpu(options);
    if (adapter.software) throw new BackendUnavailable("webgpu", `only a software adapter (${adapter.description || adapter.device})`);
    return setupWebGpu(options);
  });
  if (webgpu) return withSkipped(webgpu);

  const cpu = await attempt("cpu", setupCpu);
  if (cpu?.native) return withSkipped(cpu);
  if (cpu) skipped.push("auto: native cpu kernels not loaded, trying wasm");

  const wasm = await attempt("wasm", setupWasm);
  if (wasm) return withSkipped(wasm);
  return withSkipped(await setupCpu());
}
