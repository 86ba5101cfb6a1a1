#!/usr/bin/env node
/**
 * `npm run notebooks [-- <filter>...] [--profile ci|full] [--timeout S]`: executes the course's
 * notebooks headlessly (see run_notebooks.py) with the project kernel. --timeout sets the default
 * seconds per cell (ci 300, full 3600 otherwise; a notebook can ask for more in its metadata).
 * A filter that names an .ipynb file runs that file (wherever it is); --out DIR writes there instead of
 * out/notebooks/. Ctrl-C stops the kernel and exits 130.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { jupyterEnv, jupyterPython } from "./jupyter-python.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function parseArgs(argv) {
  const options = { filters: [], profile: process.env.COURSE_PROFILE ?? "full", timeout: null, out: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.split("=", 2);
    const value = () => inline ?? argv[++i];
    if (flag === "--profile") options.profile = value();
    else if (flag === "--timeout") options.timeout = value();
    else if (flag === "--out") options.out = value();
    else if (arg.startsWith("--")) fail(`unknown option ${arg} (known: --profile ci|full, --timeout S, --out DIR)`);
    else options.filters.push(arg);
  }
  if (!["ci", "full"].includes(options.profile)) fail(`--profile must be ci or full, got ${options.profile}`);
  return options;
}

function fail(message) {
  console.error(`npm run notebooks: ${message}`);
  process.exit(1);
}

function findNotebooks(dir) {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    if (name.startsWith(".")) return [];
    if (statSync(path).isDirectory()) return findNotebooks(path);
    return name.endsWith(".ipynb") ? [path] : [];
  });
}

const options = parseArgs(process.argv.slice(2));
// A filter that is an .ipynb file runs that notebook, wherever it is; others pick from notebooks/.
const files = options.filters.filter((f) => f.endsWith(".ipynb") && existsSync(f)).map((f) => resolve(f));
const filters = options.filters.filter((f) => !files.includes(resolve(f)));
const notebooks = [
  ...files,
  ...(filters.length || !files.length ? findNotebooks(join(root, "notebooks")).map((path) => relative(root, path)) : [])
    .filter((path) => filters.length === 0 || filters.some((f) => path.includes(f))),
];
if (notebooks.length === 0) {
  console.error(`no notebook matches ${options.filters.join(", ") || "(any)"}`);
  process.exit(1);
}
const python = jupyterPython();
if (!python) {
  console.error("Jupyter is not installed: run `npm run setup` (Debian: jupyter-nbconvert python3-nbclient jupyter-client).");
  process.exit(1);
}
if (options.timeout !== null && !/^[1-9]\d*$/.test(options.timeout ?? "")) {
  fail(`--timeout must be a whole number of seconds, got ${options.timeout}`);
}
const env = jupyterEnv(root, { COURSE_PROFILE: options.profile });
const runnerArgs = [join(root, "scripts", "run_notebooks.py"), "--profile", options.profile];
if (options.timeout !== null) runnerArgs.push("--timeout", options.timeout);
if (options.out !== null) runnerArgs.push("--out", resolve(options.out));
const child = spawn(python, [...runnerArgs, ...notebooks], { cwd: root, stdio: "inherit", env });
// Ctrl-C reaches the runner too (same process group): it stops the kernel and exits 130; we wait for
// it. A SIGTERM sent to this process alone is passed on.
process.on("SIGINT", () => {});
process.on("SIGTERM", () => child.kill("SIGTERM"));
child.on("exit", (code, signal) => process.exit(code ?? 128 + (signal === "SIGTERM" ? 15 : 2)));
