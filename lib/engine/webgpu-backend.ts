import * as tf from "@tensorflow/tfjs-core";
// Not named webgpu.ts: tslab resolves a bare import("webgpu") next to the importing file first.
import { firstLine } from "./modules.js";
import { engineState } from "./state.js";
import { BackendUnavailable, type AdapterDescription, type EngineInfo, type UseBackendOptions } from "./types.js";

/**
 * WebGPU in Node through Dawn (the `webgpu` package), running tfjs's WebGPU backend.
 * We pick the adapter ourselves, so that we can say what it is and refuse software ones
 * unless asked, and we keep hold of the device so shutdownWebGpu() can release it.
 */

// The slice of the WebGPU API we touch (the full types come from @webgpu/types).
interface GpuAdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface GpuDevice {
  destroy(): void;
}
interface GpuAdapter {
  info?: GpuAdapterInfo;
  isFallbackAdapter?: boolean;
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  requestDevice(descriptor?: object): Promise<GpuDevice>;
}
interface Gpu {
  requestAdapter(options?: object): Promise<GpuAdapter | null>;
}
interface Dawn {
  create(options: string[]): Gpu;
  globals: object;
}

// Dawn's GPU object, the device and the backend's EngineInfo live in engineState().webgpu.
const webgpu = () => engineState().webgpu as { gpu?: Gpu; device?: GpuDevice; info?: EngineInfo };

export async function setupWebGpu(options: UseBackendOptions = {}): Promise<EngineInfo> {
  const current = webgpu().info;
  if (current != null && tf.findBackend("webgpu") != null) {
    if (!current.adapter?.software || allowSoftware(options)) {
      await tf.setBackend("webgpu");
      return current;
    }
  }
  await shutdownWebGpu();
  const { adapter, description } = await findAdapter(options);
  if (description.software && !allowSoftware(options)) {
    releaseGpu();
    throw new BackendUnavailable(
      "webgpu",
      `only a software adapter was found (${describeAdapter(description)}), slower than the cpu backends; ` +
        "pass { allowSoftware: true } or set COURSE_WEBGPU_SOFTWARE=1 to use it anyway",
    );
  }
  const { WebGPUBackend } = await import("@tensorflow/tfjs-backend-webgpu");
  if (tf.findBackendFactory("webgpu") != null) tf.removeBackend("webgpu"); // the package's own, if it registered one
  tf.registerBackend("webgpu", async () => {
    const device = await adapter.requestDevice(deviceDescriptor(adapter));
    webgpu().device = device;
    return explainSyncReads(new WebGPUBackend(device as never, adapter.info as never));
  });
  try {
    if (!(await tf.setBackend("webgpu"))) throw new Error("tf.setBackend('webgpu') returned false");
  } catch (error) {
    await shutdownWebGpu();
    throw new BackendUnavailable("webgpu", `the device failed to start: ${firstLine(error)}`);
  }
  const info: EngineInfo = {
    backend: "webgpu",
    gpu: !description.software,
    device: describeAdapter(description),
    adapter: description,
    notes: description.software ? ["webgpu: software adapter, for testing the WebGPU kernels only"] : [],
  };
  webgpu().info = info;
  return info;
}

/**
 * Looks for a WebGPU adapter without starting a backend (auto uses it to skip software
 * adapters). Releases the GPU object again, so it keeps nothing alive.
 */
export async function probeWebGpu(options: UseBackendOptions = {}): Promise<AdapterDescription> {
  const current = webgpu().info;
  if (current?.adapter != null) return current.adapter;
  try {
    return (await findAdapter(options)).description;
  } finally {
    if (webgpu().device == null) releaseGpu();
  }
}

/** Disposes the backend, destroys the device and drops the GPU object (a live one can keep Node from exiting). */
export async function shutdownWebGpu(): Promise<void> {
  if (tf.findBackendFactory("webgpu") != null) tf.removeBackend("webgpu");
  const state = webgpu();
  state.device?.destroy();
  state.device = undefined;
  state.info = undefined;
  releaseGpu();
}

/**
 * tfjs reads GPU tensors synchronously (dataSync, arraySync) through an OffscreenCanvas,
 * which Node does not have: say so plainly instead of "OffscreenCanvas is not defined".
 */
function explainSyncReads<B extends tf.KernelBackend>(backend: B): B {
  const readSync = backend.readSync.bind(backend);
  (backend as unknown as { hasReadSyncWarned: boolean }).hasReadSyncWarned = true; // its warning only says "slow"
  backend.readSync = (dataId) => {
    try {
      return readSync(dataId);
    } catch (error) {
      if (!(error instanceof ReferenceError) || !/OffscreenCanvas/.test(error.message)) throw error;
      throw new Error(
        "The webgpu backend cannot read a GPU tensor synchronously under Node (dataSync, arraySync, bufferSync): " +
          "use `await tensor.data()` or `await tensor.array()`",
      );
    }
  };
  return backend;
}

function allowSoftware(options: UseBackendOptions): boolean {
  return options.allowSoftware ?? process.env.COURSE_WEBGPU_SOFTWARE === "1";
}

async function findAdapter(options: UseBackendOptions): Promise<{ adapter: GpuAdapter; description: AdapterDescription }> {
  let dawn: Dawn;
  try {
    dawn = (await import("webgpu")) as unknown as Dawn;
  } catch (error) {
    throw new BackendUnavailable("webgpu", `the webgpu (Dawn) package failed to load: ${firstLine(error)}`);
  }
  // tfjs's WebGPU backend reads navigator.gpu and the GPU* constants (GPUBufferUsage...) from globals.
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create(options.dawnOptions ?? dawnOptionsFromEnv());
  webgpu().gpu = gpu;
  setNavigatorGpu(gpu);
  let adapter: GpuAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (error) {
    releaseGpu();
    throw new BackendUnavailable("webgpu", `Dawn could not list adapters: ${firstLine(error)}`);
  }
  if (adapter == null) {
    releaseGpu();
    throw new BackendUnavailable(
      "webgpu",
      "Dawn found no WebGPU adapter (it needs a Vulkan, Metal or D3D12 driver; on Debian/Ubuntu without a GPU, " +
        "`sudo scripts/install-vulkan.sh` installs Mesa's software Vulkan driver)",
    );
  }
  return { adapter, description: describe(adapter) };
}

function dawnOptionsFromEnv(): string[] {
  const value = process.env.COURSE_DAWN_OPTIONS;
  return value ? value.split(";").filter((option) => option.length > 0) : [];
}

function describe(adapter: GpuAdapter): AdapterDescription {
  const info = adapter.info ?? {};
  const vendor = info.vendor ?? "";
  const architecture = info.architecture ?? "";
  const deviceName = info.device ?? "";
  const description = info.description ?? "";
  const software =
    info.isFallbackAdapter === true ||
    adapter.isFallbackAdapter === true ||
    architecture === "software" ||
    /llvmpipe|lavapipe|swiftshader|software|microsoft basic render/i.test(`${vendor} ${deviceName} ${description}`);
  return { vendor, architecture, device: deviceName, description, software };
}

/** "nvidia-h200 (nvidia, NVIDIA: 580.159.04)", "llvmpipe-... (mesa, software, llvmpipe: Mesa 25.0.7 ...)". */
function describeAdapter(adapter: AdapterDescription): string {
  const name = adapter.device || adapter.description || "unnamed adapter";
  const software = adapter.software && adapter.architecture !== "software" ? "software" : "";
  const details = [adapter.vendor, adapter.architecture, software, adapter.description === name ? "" : adapter.description];
  const said = details.filter((part) => part.length > 0).join(", ");
  return said ? `${name} (${said})` : name;
}

/** The device tfjs itself would request: the adapter's full limits for big buffers and workgroups. */
function deviceDescriptor(adapter: GpuAdapter): object {
  const limits = adapter.limits;
  return {
    requiredFeatures: adapter.features.has("timestamp-query") ? ["timestamp-query"] : [],
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    },
  };
}

function setNavigatorGpu(value: Gpu): void {
  const global = globalThis as unknown as { navigator?: Record<string, unknown> };
  if (global.navigator == null) {
    Object.defineProperty(globalThis, "navigator", { value: {}, writable: true, configurable: true });
  }
  try {
    global.navigator!.gpu = value;
  } catch {
    // ignored: checked below
  }
  if (global.navigator!.gpu !== value) {
    // Node 21+ has a built-in navigator that may refuse new properties: replace it.
    Object.defineProperty(globalThis, "navigator", { value: { gpu: value }, writable: true, configurable: true });
  }
}

/** Drops every reference to Dawn's GPU object: Node cannot exit while one is reachable. */
function releaseGpu(): void {
  const global = globalThis as unknown as { navigator?: Record<string, unknown> };
  const state = webgpu();
  if (global.navigator != null && global.navigator.gpu === state.gpu) delete global.navigator.gpu;
  state.gpu = undefined;
}
