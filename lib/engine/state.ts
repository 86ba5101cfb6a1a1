import type { EngineInfo } from "./types.js";

/**
 * The engine's mutable state. It lives on globalThis, like tfjs's own engine and kernel
 * registry, because a notebook kernel can load this module twice (tslab recompiles a changed
 * lib file; ESM and CommonJS copies can meet): both copies must see one WebGPU device and
 * one current choice.
 */
export interface EngineState {
  /** The last useBackend result and the request it answered. */
  current?: { key: string; info: EngineInfo };
  /** useBackend calls run one after another. */
  queue: Promise<unknown>;
  webgpu: {
    /** Dawn's GPU object (navigator.gpu while in use). */
    gpu?: unknown;
    /** The device tfjs's WebGPU backend runs on; destroyed by shutdownEngine. */
    device?: { destroy(): void };
    info?: EngineInfo;
  };
}

const stateKey = Symbol.for("gpt-from-scratch.engine");

export function engineState(): EngineState {
  const global = globalThis as unknown as Record<symbol, EngineState | undefined>;
  return (global[stateKey] ??= { queue: Promise.resolve(), webgpu: {} });
}
