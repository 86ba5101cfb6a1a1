import * as tf from "@tensorflow/tfjs-core";
import { dirname } from "node:path";
import { firstLine, projectRequire } from "./modules.js";
import { BackendUnavailable, type EngineInfo } from "./types.js";
import { installWasmKernelFixes } from "./wasm-kernels.js";
import { cpuModel } from "./cpu.js";

/** tfjs's WebAssembly backend (XNNPACK, SIMD), with the kernel fixes in wasm-kernels.ts. */
export async function setupWasm(): Promise<EngineInfo> {
  try {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    // The .wasm binaries sit next to the package's Node bundle.
    wasm.setWasmPaths(dirname(projectRequire().resolve("@tensorflow/tfjs-backend-wasm")) + "/");
    const fixed = installWasmKernelFixes();
    if (!(await tf.setBackend("wasm"))) throw new Error("tf.setBackend('wasm') returned false");
    const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
    const threads = wasm.getThreadsCount();
    return {
      backend: "wasm",
      gpu: false,
      device: `${cpuModel()}, WebAssembly${simd ? " SIMD" : ""}, ${threads} thread${threads === 1 ? "" : "s"}`,
      notes: [
        "wasm: one thread (tfjs runs no wasm threads under Node)",
        `wasm: patched kernels ${fixed.join(", ")}`,
      ],
    };
  } catch (error) {
    throw new BackendUnavailable("wasm", `${firstLine(error)} (is @tensorflow/tfjs-backend-wasm installed?)`);
  }
}
