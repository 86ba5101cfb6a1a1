// `auto` on a machine with no GPU device node never loads Dawn, so Dawn's adapter warnings
// ("... artificially reduced ...") do not reach a CPU user's stderr; COURSE_WEBGPU_PROBE=1 asks
// Dawn anyway, which shows the check is what keeps them away.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { noGpuDeviceReason } from "../lib/engine/gpu-devices.js";

const gpuNodes = existsSync("/dev/dri") || existsSync("/dev/nvidia0") || existsSync("/dev/dxg");
const lavapipe = existsSync("/usr/share/vulkan/icd.d/lvp_icd.json") || existsSync("/usr/share/vulkan/icd.d/lvp_icd.x86_64.json");

function autoInChild(env: Record<string, string>): { stderr: string; notes: string } {
  const dir = mkdtempSync(join(tmpdir(), "auto-"));
  const script = join(dir, "auto.mts");
  const lib = resolve("lib/engine/index.ts");
  writeFileSync(script, `import { useBackend, shutdownEngine } from ${JSON.stringify(lib)};\n` +
    `const info = await useBackend("auto");\nconsole.log(info.notes.join("\\n"));\nawait shutdownEngine();\n`);
  const run = spawnSync(process.execPath, ["--import", "tsx", script], {
    encoding: "utf8",
    env: { ...process.env, COURSE_BACKEND: "", ...env },
    timeout: 120_000,
  });
  expect(run.status).toBe(0);
  return { stderr: run.stderr, notes: run.stdout };
}

describe.runIf(process.platform === "linux" && !gpuNodes)("auto on a machine without a GPU", () => {
  it("names the missing device nodes", () => {
    expect(noGpuDeviceReason()).toMatch(/no GPU device node/);
  });

  it("skips WebGPU without loading Dawn: no adapter warnings on stderr", () => {
    const { stderr, notes } = autoInChild({});
    expect(notes).toMatch(/auto: skipped webgpu: no GPU device node/);
    expect(stderr).not.toMatch(/Warning|artificially/);
  });

  it.runIf(lavapipe)("with COURSE_WEBGPU_PROBE=1 it asks Dawn, which finds only the software adapter", () => {
    const { notes } = autoInChild({ COURSE_WEBGPU_PROBE: "1" });
    expect(notes).toMatch(/auto: skipped webgpu: only a software adapter/);
  });
});
