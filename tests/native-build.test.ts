/**
 * The native addon's fallbacks: the build script never fails its caller, and the installer
 * reports why native kernels are off (switched off, or not built) instead of throwing.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const repo = resolve(".");
const builtAddon = join(repo, "native", "build", "Release", "course_native.node");
const scratch = mkdtempSync(join(tmpdir(), "native-build-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs a TypeScript snippet in a fresh Node process (tsx) from `cwd`; returns its JSON output. */
function runSnippet(code: string, cwd: string, env: Record<string, string>): unknown {
  const result = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    cwd, encoding: "utf8", env: { ...process.env, ...env },
  });
  // A crash in dlopen shows as a signal (SIGBUS, SIGSEGV), not an exit status.
  expect(result.signal, result.stderr).toBeNull();
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

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const builtRecord = `${builtAddon}.sha256.json`;

const required = process.env.COURSE_REQUIRE_NATIVE === "1";
describe.skipIf(!required && !existsSync(builtAddon))("the addon's build record (size and sha256)", () => {
  type Loaded = { first: { loaded: boolean; reason?: string; kernels: string[] }; sum: number };
  let copies = 0;
  /** A checkout whose addon is a copy of the built one, changed by `damage` before loading it in a child. */
  function loadCopy(damage: (addon: string) => void): Loaded {
    const root = join(scratch, `addon-copy-${copies++}`);
    cpSync(join(repo, "package.json"), join(root, "package.json"));
    symlinkSync(join(repo, "node_modules"), join(root, "node_modules"), "dir");
    const release = join(root, "native", "build", "Release");
    cpSync(builtAddon, join(release, "course_native.node"));
    cpSync(builtRecord, join(release, "course_native.node.sha256.json"));
    damage(join(release, "course_native.node"));
    return runSnippet(installSnippet(join(repo, "lib", "native", "index.ts")), root, { COURSE_NATIVE: "1" }) as Loaded;
  }

  it("records the built file's size and sha256 beside it", () => {
    const record = JSON.parse(readFileSync(builtRecord, "utf8"));
    expect(record).toEqual({ file: "course_native.node", bytes: statSync(builtAddon).size, sha256: sha256(builtAddon) });
  });

  it("loads an intact copy (the check passes a good file)", () => {
    const out = loadCopy(() => {});
    expect(out.first.loaded).toBe(true);
    expect(out.first.kernels.length).toBeGreaterThan(10);
    expect(out.sum).toBe(2);
  });

  it("refuses a truncated addon with the reason instead of crashing (SIGBUS before)", () => {
    const out = loadCopy((addon) => truncateSync(addon, Math.floor(statSync(addon).size / 2)));
    expect(out.first.loaded).toBe(false);
    expect(out.first.reason).toMatch(/^addon file is damaged \(\d+ bytes, the build recorded \d+; truncated\?\); rebuild with node scripts\/build-native\.mjs$/);
    expect(out.first.kernels).toEqual([]);
    expect(out.sum).toBe(2);
  });

  it("refuses an addon with flipped code bytes (same size) instead of crashing (SIGSEGV before)", () => {
    const out = loadCopy((addon) => {
      const bytes = readFileSync(addon);
      // Past the ELF headers, in .text: 0xff bytes there are bad instructions.
      for (let i = 0x3000; i < 0x3000 + 4096; i += 7) bytes[i] ^= 0xff;
      writeFileSync(addon, bytes);
    });
    expect(out.first.loaded).toBe(false);
    expect(out.first.reason).toMatch(/^addon file is damaged \(sha256 [0-9a-f]{12}… differs from the build's record\); rebuild/);
    expect(out.sum).toBe(2);
  });

  it("refuses an addon without a build record", () => {
    const out = loadCopy((addon) => rmSync(`${addon}.sha256.json`));
    expect(out.first.loaded).toBe(false);
    expect(out.first.reason).toMatch(/^addon has no valid build record \(.*course_native\.node\.sha256\.json missing\); rebuild/);
    expect(out.sum).toBe(2);
  });
});

describe("the build script's record", () => {
  // A stand-in compiler that writes a small file to every -o target: node-gyp and the direct
  // compile both "succeed" quickly, so the record-keeping can be checked without a real build.
  function fakeBuild(name: string, content: string) {
    const dir = join(scratch, name);
    cpSync(join(repo, "native", "src"), join(dir, "src"), { recursive: true });
    cpSync(join(repo, "native", "binding.gyp"), join(dir, "binding.gyp"));
    const cxx = join(scratch, `${name}-cxx.sh`);
    writeFileSync(cxx, `#!/bin/sh\nwhile [ $# -gt 0 ]; do if [ "$1" = -o ]; then printf '${content}' > "$2"; fi; shift; done\n`);
    chmodSync(cxx, 0o755);
    const build = () =>
      spawnSync(process.execPath, [join(repo, "scripts", "build-native.mjs"), "--dir", dir], {
        encoding: "utf8", env: { ...process.env, CXX: cxx, CC: cxx, LINK: cxx },
      });
    return { build, addon: join(dir, "build", "Release", "course_native.node") };
  }

  it("writes size and sha256 after a build, and rebuilds when the file no longer matches them", () => {
    const { build, addon } = fakeBuild("fake-build", "not really ELF");
    expect(build().stdout).toMatch(/native kernels: built/);
    const record = JSON.parse(readFileSync(`${addon}.sha256.json`, "utf8"));
    expect(record).toEqual({ file: "course_native.node", bytes: 14, sha256: sha256(addon) });
    expect(build().stdout).toMatch(/native kernels: up to date/);
    truncateSync(addon, 5);
    expect(build().stdout).toMatch(/native kernels: built/);
    expect(statSync(addon).size).toBe(14);
  });
});
