#!/usr/bin/env node
/**
 * `npm start`: opens the course in Jupyter (JupyterLab where it is installed, else the classic
 * Notebook) with the project kernel, serving on localhost and printing the URL. The server's root is
 * the repository, so figures load plotly.js from it (<base>files/node_modules/plotly.js-dist/).
 */
import { spawn, spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { jupyterEnv, jupyterPython } from "./jupyter-python.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const python = jupyterPython();
if (!python) {
  console.error("Jupyter is not installed: run `npm run setup` (Debian: jupyter-notebook jupyter-nbconvert python3-nbclient).");
  process.exit(1);
}
const hasLab = spawnSync(python, ["-c", "import jupyterlab"], { stdio: "ignore" }).status === 0;
const app = hasLab ? "lab" : "notebook";
const port = process.env.COURSE_PORT ?? "8888";
const args = ["-m", hasLab ? "jupyterlab" : "notebook", "--ip=127.0.0.1", `--port=${port}`, `--notebook-dir=${root}`];
if (!process.env.DISPLAY || process.env.CI) args.push("--no-browser");
if (process.getuid?.() === 0) args.push("--allow-root");
console.log(`Starting Jupyter ${app === "lab" ? "Lab" : "Notebook"} on http://127.0.0.1:${port}/ (its URL with the token follows);`);
console.log(`open notebooks/ and pick the kernel "TypeScript (gpt-from-scratch)". Stop with Ctrl-C.`);
console.log(`Executed notebooks in out/notebooks/ open trusted (their plots draw); trust one from elsewhere with`);
console.log(`  ${python} -m nbformat.sign <notebook.ipynb>   (or File → Trust Notebook)`);
const child = spawn(python, args, { cwd: root, stdio: "inherit", env: jupyterEnv(root) });
child.on("exit", (code) => process.exit(code ?? 0));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
