import { existsSync, readdirSync } from "node:fs";

/**
 * On Linux a hardware WebGPU adapter needs a GPU device node: a DRM render node (Mesa's Intel,
 * AMD, virtio drivers), NVIDIA's /dev/nvidia*, or WSL's /dev/dxg. Where there is none, only a
 * software Vulkan driver can answer, so `auto` need not load Dawn at all — loading it there costs
 * half a second and prints Dawn's adapter warnings (limits "artificially reduced") on stderr.
 * Returns why no hardware adapter can exist, or null when one may (and on other systems).
 */
export function noGpuDeviceReason(): string | null {
  if (process.platform !== "linux" || process.env.COURSE_WEBGPU_PROBE === "1") return null;
  if (renderNodes().length > 0 || existsSync("/dev/nvidia0") || existsSync("/dev/nvidiactl") || existsSync("/dev/dxg")) {
    return null;
  }
  return "no GPU device node (/dev/dri/renderD*, /dev/nvidia*, /dev/dxg), so no hardware adapter (COURSE_WEBGPU_PROBE=1 asks Dawn anyway)";
}

function renderNodes(): string[] {
  try {
    return readdirSync("/dev/dri").filter((name) => name.startsWith("renderD"));
  } catch {
    return [];
  }
}
