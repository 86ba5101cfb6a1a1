/**
 * A task trains and evaluates one run of a sweep. Built-in tasks are named; any other task is a
 * module (path from the repository root, or absolute) exporting `run: RunTask`, which every
 * executor (in-process, worker pool, BullMQ workers on other machines) imports by that path.
 */
import { hostname } from "node:os";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { RunSpec, RunTask } from "./sweep.js";
import type { RunRecord } from "./runs.js";

/** The tasks in tasks/, by name. */
export const BUILTIN_TASK_NAMES = ["teacher-mse", "teacher-ce", "char-gpt"] as const;

const loaded = new Map<string, RunTask>();

export async function resolveTask(name: string, root = process.cwd()): Promise<RunTask> {
  if ((BUILTIN_TASK_NAMES as readonly string[]).includes(name)) {
    // Loaded when first used: they bring TensorFlow.js, which a sweep of other tasks does not need.
    const { BUILTIN_TASKS } = await import("./tasks/index.js");
    return (BUILTIN_TASKS as Record<string, RunTask>)[name];
  }
  const cached = loaded.get(name);
  if (cached) return cached;
  const path = isAbsolute(name) ? name : resolve(root, name);
  let module: { run?: unknown };
  try {
    module = (await import(pathToFileURL(path).href)) as { run?: unknown };
  } catch (error) {
    throw new Error(`task "${name}": not a built-in task (${BUILTIN_TASK_NAMES.join(", ")}) and ${path} did not load: ${(error as Error).message}`);
  }
  if (typeof module.run !== "function") throw new Error(`task "${name}": ${path} does not export a function "run"`);
  loaded.set(name, module.run as RunTask);
  return module.run as RunTask;
}

export function workerName(): string {
  return `${process.pid}@${hostname()}`;
}

/** Run one RunSpec to its record: resolve the task, time it, check what it returned. */
export async function executeRun(run: RunSpec, progress: (step: number, loss: number) => void = () => {}): Promise<RunRecord> {
  const task = await resolveTask(run.task);
  const start = performance.now();
  const outcome = await task(run.config, { seed: run.seed, id: run.id, progress });
  for (const key of ["params", "tokens", "flops", "finalLoss", "bestLoss"] as const) {
    if (typeof outcome[key] !== "number" || !Number.isFinite(outcome[key])) {
      throw new Error(`run ${run.id} (task ${run.task}): ${key} is ${outcome[key]}, expected a finite number`);
    }
  }
  return {
    ...run,
    ...outcome,
    wallSeconds: (performance.now() - start) / 1000,
    finishedAt: new Date().toISOString(),
    worker: workerName(),
  };
}
