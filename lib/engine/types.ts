/** What a caller may ask for. "auto" picks the fastest backend that works here. */
export type BackendChoice = "tensorflow" | "webgpu" | "wasm" | "cpu" | "auto";

/** The backend that actually runs (tfjs's own backend names). */
export type BackendName = Exclude<BackendChoice, "auto">;

export const backendChoices: readonly BackendChoice[] = ["tensorflow", "webgpu", "wasm", "cpu", "auto"];

export interface UseBackendOptions {
  /** Accept a software WebGPU adapter (lavapipe, SwiftShader) for an explicit "webgpu"
   * choice: slow, but it runs the real WebGPU kernels (tests, CI). Env: COURSE_WEBGPU_SOFTWARE=1. */
  allowSoftware?: boolean;
  /** Options passed to Dawn's `create()`, e.g. ["backend=vulkan"] or ["adapter=NAME"].
   * Env: COURSE_DAWN_OPTIONS, ";"-separated. */
  dawnOptions?: string[];
}

/** What a WebGPU adapter says about itself. */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation of the GPU API (lavapipe/llvmpipe, SwiftShader, WARP). */
  software: boolean;
}

export interface EngineInfo {
  backend: BackendName;
  /** The hardware it runs on, in words. */
  device: string;
  /** Whether the tensors live on a hardware GPU (WebGPU on a hardware adapter, tfjs-node-gpu on CUDA). */
  gpu: boolean;
  /** cpu only: whether the course's native C kernels replaced tfjs's JavaScript ones. */
  native?: boolean;
  /** webgpu only. */
  adapter?: AdapterDescription;
  /** Why other backends were passed over, and caveats of this one. */
  notes: string[];
}

/** A backend that could not be set up, with the reason and what to do about it. */
export class BackendUnavailable extends Error {
  constructor(
    readonly backend: BackendName,
    readonly reason: string,
  ) {
    super(`${backend} backend unavailable: ${reason}`);
    this.name = "BackendUnavailable";
  }
}
