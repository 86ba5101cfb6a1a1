#!/usr/bin/env node
/**
 * `npm run notebooks [-- <filter>...] [--profile ci|full] [--timeout S]`: executes the course's
 * notebooks headlessly (see run_notebooks.py) with the project kernel.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { jupyterEnv, jupyterPython } from "./jupyter-python.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function parseArgs(argv) {
  const options = { filters: [], profile: process.env.COURSE_PROFILE ?? "full", timeout: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.split("=", 2);
    const value = () => inline ?? argv[++i];
    if (flag === "--profile") options.profile = value();
    else if (flag === "--timeout") options.timeout = value();
    else if (arg.startsWith("--")) throw new Error(`unknown option ${arg}`);
    else options.filters.push(arg);
  }
  if (!["ci", "full"].includes(options.profile)) throw new Error(`--profile must be ci or full, got ${options.profile}`);
  return options;
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
const notebooks = findNotebooks(join(root, "notebooks"))
  .map((path) => relative(root, path))
  .filter((path) => options.filters.length === 0 || options.filters.some((f) => path.includes(f)));
if (notebooks.length === 0) {
  console.error(`no notebook matches ${options.filters.join(", ") || "(any)"}`);
  process.exit(1);
}
const python = jupyterPython();
if (!python) {
  console.error("Jupyter is not installed: run `npm run setup` (Debian: jupyter-nbconvert python3-nbclient jupyter-client).");
  process.exit(1);
}
const timeout = options.timeout ?? (options.profile === "ci" ? "900" : "14400");
const env = jupyterEnv(root, { COURSE_PROFILE: options.profile });
const result = spawnSync(python, [join(root, "scripts", "run_notebooks.py"), "--timeout", timeout, ...notebooks], {
  cwd: root,
  stdio: "inherit",
  env,
});
process.exit(result.status ?? 1);
