/**
 * The native addon's fallbacks: the build script never fails its caller, and the installer
 * reports why native kernels are off (switched off, or not built) instead of throwing.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const repo = resolve(".");
const scratch = mkdtempSync(join(tmpdir(), "native-build-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs a TypeScript snippet in a fresh Node process (tsx) from `cwd`; returns its JSON output. */
function runSnippet(code: string, cwd: string, env: Record<string, string>): unknown {
  const result = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    cwd, encoding: "utf8", env: { ...process.env, ...env },
  });
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout.trim().split("\n").pop()!);
}

const installSnippet = (lib: string) => `
  import "@tensorflow/tfjs-backend-cpu";
  import * as tf from "@tensorflow/tfjs-core";
  import { installNativeCpuKernels } from ${JSON.stringify(lib)};
  await tf.setBackend("cpu");
  const first = installNativeCpuKernels();
  console.log(JSON.stringify({ first, again: installNativeCpuKernels() === first, sum: tf.add(tf.ones([3]), 1).dataSync()[0] }));
`;

describe("native kernels' fallbacks", () => {
  it("a failing build prints one warning line and exits 0", () => {
    const dir = join(scratch, "native");
    cpSync(join(repo, "native", "src"), join(dir, "src"), { recursive: true });
    cpSync(join(repo, "native", "binding.gyp"), join(dir, "binding.gyp"));
    const result = spawnSync(process.execPath, [join(repo, "scripts", "build-native.mjs"), "--dir", dir, "--quiet"], {
      encoding: "utf8",
      env: { ...process.env, CXX: "/bin/false", CC: "/bin/false" },
    });
    expect(result.status).toBe(0);
    const warnings = result.stderr.trim().split("\n").filter((l) => l.length > 0);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^warning: native cpu kernels not built \(.*\); tfjs cpu uses its stock JS kernels$/);
    expect(existsSync(join(dir, "build", "Release", "course_native.node"))).toBe(false);
  });

  it("COURSE_NATIVE=0 leaves the stock kernels and says so", () => {
    const out = runSnippet(installSnippet(join(repo, "lib", "native", "index.ts")), repo, { COURSE_NATIVE: "0" }) as {
      first: { loaded: boolean; reason: string; kernels: string[] };
      again: boolean;
      sum: number;
    };
    expect(out.first).toEqual({ loaded: false, reason: "disabled by COURSE_NATIVE=0", kernels: [] });
    expect(out.again).toBe(true);
    expect(out.sum).toBe(2);
  });

  it("a missing addon is reported with the command that builds it", () => {
    // A checkout without native/build: repoRoot() finds this folder by its package.json.
    const root = join(scratch, "checkout");
    cpSync(join(repo, "package.json"), join(root, "package.json"));
    symlinkSync(join(repo, "node_modules"), join(root, "node_modules"), "dir");
    const out = runSnippet(installSnippet(join(repo, "lib", "native", "index.ts")), root, { COURSE_NATIVE: "1" }) as { first: { loaded: boolean; reason: string; kernels: string[] }; sum: number };
    expect(out.first.loaded).toBe(false);
    expect(out.first.reason).toMatch(/addon not built .*node scripts\/build-native\.mjs/);
    expect(out.first.kernels).toEqual([]);
    expect(out.sum).toBe(2);
  });

  const builtAddon = join(repo, "native", "build", "Release", "course_native.node");
  it.skipIf(!existsSync("/proc/cpuinfo") || !existsSync(builtAddon))("an addon compiled for a CPU with other instruction sets is not loaded", () => {
    const root = join(scratch, "other-cpu");
    cpSync(join(repo, "package.json"), join(root, "package.json"));
    symlinkSync(join(repo, "node_modules"), join(root, "node_modules"), "dir");
    cpSync(join(repo, "native", "build", "Release"), join(root, "native", "build", "Release"), { recursive: true });
    writeFileSync(join(root, "native", "build", "cpu-flags.txt"), "sse2 avx9000\n");
    const out = runSnippet(installSnippet(join(repo, "lib", "native", "index.ts")), root, { COURSE_NATIVE: "1" }) as {
      first: { loaded: boolean; reason: string };
      sum: number;
    };
    expect(out.first.loaded).toBe(false);
    expect(out.first.reason).toMatch(/built for another CPU \(this one lacks avx9000; run node scripts\/build-native\.mjs\)/);
    expect(out.sum).toBe(2);
  });
});
