#!/usr/bin/env node
// Builds the native cpu kernels (native/ -> native/build/Release/course_native.node) when they
// are missing or their sources, Node or the CPU changed. Never fails the caller: on any error
// it prints one warning line and exits 0, and lib/native falls back to the stock JS kernels.
// Usage: node scripts/build-native.mjs [--force] [--quiet] [--dir <folder with binding.gyp and src/>]
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dirFlag = process.argv.indexOf("--dir");
const nativeDir = dirFlag >= 0 ? resolve(process.argv[dirFlag + 1]) : join(root, "native");
const output = join(nativeDir, "build", "Release", "course_native.node");
const stampFile = join(nativeDir, "build", "stamp.txt");
// The CPU features the addon was compiled for (-march=native): lib/native refuses to load it on a
// CPU that lacks any of them, instead of crashing on an illegal instruction.
const cpuFlagsFile = join(nativeDir, "build", "cpu-flags.txt");
// The built file's size and sha256: lib/native checks them before dlopen, since a truncated or
// corrupted .node file crashes the process (SIGBUS, SIGSEGV) instead of failing to load.
const recordFile = `${output}.sha256.json`;
const force = process.argv.includes("--force");
const quiet = process.argv.includes("--quiet");

function log(message) {
  if (!quiet) console.log(message);
}

function sourceFiles() {
  const src = join(nativeDir, "src");
  return ["binding.gyp", ...readdirSync(src).sort().map((f) => join("src", f))];
}

// -march=native code is only valid on the CPU it was built for, so the CPU is part of the stamp.
function cpuInfo() {
  try {
    const cpu = readFileSync("/proc/cpuinfo", "utf8");
    return { model: cpu.match(/^model name.*$/m)?.[0] ?? "", flags: cpu.match(/^flags\s*:(.*)$/m)?.[1]?.trim() ?? "" };
  } catch {
    return { model: "", flags: "" }; // not Linux: rebuilds rely on sources only
  }
}

function stamp() {
  const hash = createHash("sha256");
  for (const file of sourceFiles()) hash.update(file).update(readFileSync(join(nativeDir, file)));
  hash.update(process.version).update(process.arch);
  const cpu = cpuInfo();
  hash.update(cpu.model).update(cpu.flags);
  return hash.digest("hex");
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: nativeDir, encoding: "utf8", stdio: "pipe" });
  return { ok: result.status === 0, output: `${result.stdout ?? ""}${result.stderr ?? ""}${result.error?.message ?? ""}` };
}

// Node's own headers (Debian's nodejs ships them in <prefix>/include/node), so node-gyp needs no download.
function nodePrefix() {
  const prefix = resolve(dirname(process.execPath), "..");
  return existsSync(join(prefix, "include", "node", "node_api.h")) ? prefix : null;
}

function nodeGypScript() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
    join(dirname(process.execPath), "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
  ];
  return candidates.find((c) => c && existsSync(c)) ?? null;
}

function buildWithNodeGyp() {
  const script = nodeGypScript();
  if (!script) return { ok: false, output: "node-gyp not found" };
  const prefix = nodePrefix();
  return run(process.execPath, [script, "rebuild", ...(prefix ? [`--nodedir=${prefix}`] : [])]);
}

// Same flags as binding.gyp, for machines where node-gyp (or its Python) is missing.
function buildWithCompiler() {
  const prefix = nodePrefix();
  if (!prefix) return { ok: false, output: "node headers not found" };
  mkdirSync(dirname(output), { recursive: true });
  const sources = sourceFiles().filter((f) => f.endsWith(".cc"));
  return run(process.env.CXX ?? "g++", [
    "-O3", "-std=c++17", "-fno-trapping-math", "-fno-math-errno", "-march=native", "-fPIC", "-shared",
    "-DNAPI_VERSION=8", "-DNODE_GYP_MODULE_NAME=course_native", `-I${join(prefix, "include", "node")}`,
    ...sources, "-o", output, "-ldl", "-lpthread",
  ]);
}

function fileRecord(path) {
  return { file: basename(path), bytes: statSync(path).size, sha256: createHash("sha256").update(readFileSync(path)).digest("hex") };
}

/** Whether the built file is still the one the build recorded (not truncated or overwritten since). */
function matchesRecord() {
  try {
    const recorded = JSON.parse(readFileSync(recordFile, "utf8"));
    const actual = fileRecord(output);
    return recorded.bytes === actual.bytes && recorded.sha256 === actual.sha256;
  } catch {
    return false;
  }
}

function main() {
  const wanted = stamp();
  const stamped = existsSync(output) && existsSync(stampFile) && readFileSync(stampFile, "utf8").trim() === wanted;
  if (!force && stamped && matchesRecord()) {
    log("native kernels: up to date");
    return;
  }
  log("native kernels: building (node-gyp)...");
  let result = buildWithNodeGyp();
  if (!result.ok) {
    log("native kernels: node-gyp failed, trying the compiler directly...");
    result = buildWithCompiler();
  }
  if (!result.ok || !existsSync(output)) {
    const reason = result.output.trim().split("\n").filter((l) => /error/i.test(l))[0] ?? result.output.trim().split("\n").pop();
    console.warn(`warning: native cpu kernels not built (${reason}); tfjs cpu uses its stock JS kernels`);
    return;
  }
  writeFileSync(recordFile, `${JSON.stringify(fileRecord(output), null, 2)}\n`);
  writeFileSync(stampFile, `${wanted}\n`);
  writeFileSync(cpuFlagsFile, `${cpuInfo().flags}\n`);
  log(`native kernels: built ${output}`);
}

try {
  main();
} catch (error) {
  console.warn(`warning: native cpu kernels not built (${error.message}); tfjs cpu uses its stock JS kernels`);
}
