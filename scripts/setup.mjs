#!/usr/bin/env node
/**
 * Sets up whatever is missing, idempotently (quick the second time):
 *   node modules, the native CPU kernels, Jupyter (Debian packages), the course kernel, datasets.
 * With --for-tests it also installs what the test suite compares against or exercises:
 *   PyTorch (python3-torch) with OpenBLAS, a software Vulkan driver for the WebGPU tests, and
 *   Debian's chromium for the headless-browser checks (tests/browser/), and redis-server for the BullMQ
 *   sweep tests (which start their own server on loopback; no system service is enabled).
 * Plain Node with no dependencies: it runs before node_modules exists.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { jupyterPython } from "./jupyter-python.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = new Set(process.argv.slice(2));
const quiet = args.has("--quiet");
const forTests = args.has("--for-tests");
const isRoot = process.getuid?.() === 0;
const hasApt = existsSync("/usr/bin/apt-get");

const JUPYTER_DEBS = ["jupyter-nbconvert", "python3-nbclient", "jupyter-client", "jupyter-notebook"];
const TEST_DEBS = ["python3-torch", "python3-sklearn", "libopenblas0-pthread", "chromium", "redis-server"];

function log(message) {
  if (!quiet) console.log(`[setup] ${message}`);
}

function run(command, commandArgs, options = {}) {
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: "inherit", ...options });
  return result.status === 0;
}

function mtime(path) {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

function ensureNodeModules() {
  const stamp = join(root, "node_modules", ".course-setup-stamp");
  const newest = Math.max(mtime(join(root, "package-lock.json")), mtime(join(root, "package.json")));
  if (existsSync(stamp) && mtime(stamp) >= newest) return;
  log("installing node modules (npm install)");
  // `npm install`, not `npm ci`: npm 11 leaves nodejs-polars' other-platform optional packages out of
  // the lock file, which `npm ci` then rejects as out of sync.
  if (!run("npm", ["install", "--no-audit", "--no-fund"])) {
    throw new Error("npm install failed: see the messages above");
  }
  writeFileSync(stamp, new Date().toISOString() + "\n");
}

function ensureNative() {
  const script = join(root, "scripts", "build-native.mjs");
  if (existsSync(script)) run(process.execPath, [script, ...(quiet ? ["--quiet"] : [])]);
}

function aptInstall(packages, extraArgs = []) {
  const missing = packages.filter((p) => !isInstalled(p));
  if (missing.length === 0) return true;
  if (!isRoot || !hasApt) {
    console.warn(`[setup] missing Debian packages: ${missing.join(" ")}\n` +
      `        install them with: sudo apt-get install --no-install-recommends ${missing.join(" ")}`);
    return false;
  }
  log(`apt-get install ${missing.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const apt = ["-o", "DPkg::Lock::Timeout=600"];
  if (!existsSync("/var/lib/apt/lists/lock") || !hasAptLists()) run("apt-get", [...apt, "update", "-qq"], { env });
  if (run("apt-get", ["install", "-y", "-qq", ...apt, "--no-install-recommends", ...extraArgs, ...missing], { env })) return true;
  run("apt-get", [...apt, "update", "-qq"], { env });
  return run("apt-get", ["install", "-y", "-qq", ...apt, "--no-install-recommends", ...extraArgs, ...missing], { env });
}

/** False too for an unknown package (dpkg-query prints nothing) or where there is no dpkg-query. */
function isInstalled(debPackage) {
  const query = spawnSync("dpkg-query", ["-W", "-f=${Status}", debPackage], { encoding: "utf8" });
  return (query.stdout ?? "").includes("install ok installed");
}

function hasAptLists() {
  return spawnSync("bash", ["-c", "ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1"]).status === 0;
}

function ensureJupyter() {
  if (jupyterPython()) return;
  aptInstall(JUPYTER_DEBS);
  if (!jupyterPython()) console.warn("[setup] Jupyter is not available: notebooks cannot run (see the README).");
}

function ensureTestExtras() {
  aptInstall(TEST_DEBS);
  const vulkan = join(root, "scripts", "install-vulkan.sh");
  if (existsSync(vulkan)) run("bash", [vulkan, ...(quiet ? ["--quiet"] : [])]);
}

/** The project kernelspec, under <repo>/.jupyter (JUPYTER_PATH points there). */
function ensureKernelspec() {
  const dir = join(root, ".jupyter", "share", "jupyter", "kernels", "gpt-from-scratch");
  const spec = {
    argv: ["bash", join(root, "scripts", "kernel.sh"), "{connection_file}"],
    display_name: "TypeScript (gpt-from-scratch)",
    language: "typescript",
  };
  const path = join(dir, "kernel.json");
  const text = JSON.stringify(spec, null, 2) + "\n";
  if (existsSync(path) && readFileSync(path, "utf8") === text) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(path, text);
  log(`kernel "${spec.display_name}" registered in ${dir}`);
}

function ensureDatasets() {
  const tsx = join(root, "node_modules", ".bin", "tsx");
  if (!run(tsx, [join(root, "scripts", "data.ts"), ...(quiet ? ["--quiet"] : [])])) {
    console.warn("[setup] some datasets are missing (offline?): `npm run data` fetches them later.");
  }
}

ensureNodeModules();
ensureNative();
ensureJupyter();
if (forTests) ensureTestExtras();
ensureKernelspec();
ensureDatasets();
