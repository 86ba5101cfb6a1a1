/**
 * A sweep: a grid (or list) of configs × seeds, each run identified by a hash of what it is, so
 * that a restarted sweep knows which runs are done.
 *
 *   const spec: SweepSpec = { name: "mlp", task: "teacher-mse", grid: { width: [8, 16, 32] }, seeds: [0, 1] };
 *   expandSweep(spec)   // 6 RunSpecs, ids like "3f9c2a…"
 */
import { createHash } from "node:crypto";
import type { RunOutcome } from "./runs.js";

export type ConfigValue = string | number | boolean | null | ConfigValue[] | { [key: string]: ConfigValue };
export type RunConfig = Record<string, ConfigValue>;

export interface SweepSpec {
  name: string;
  /** A built-in task's name (see tasks.ts) or a module path exporting `run`. */
  task: string;
  /** Every combination of these values. */
  grid?: Record<string, ConfigValue[]>;
  /** Explicit configs (each combined with every grid point when both are given). */
  configs?: RunConfig[];
  /** Values shared by every run (a run's own values win). */
  base?: RunConfig;
  /** Seeds; every config runs once per seed (default [0]). */
  seeds?: number[];
}

export interface RunSpec {
  /** Hash of task, config and seed: the same run always has the same id. */
  id: string;
  sweep: string;
  task: string;
  config: RunConfig;
  seed: number;
}

/** JSON with object keys sorted, so equal configs hash equally whatever their key order. */
export function canonicalJson(value: ConfigValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  if (typeof value === "number" && !Number.isFinite(value)) throw new Error(`sweep config values must be finite numbers, got ${value}`);
  return JSON.stringify(value);
}

export function runId(task: string, config: RunConfig, seed: number): string {
  return createHash("sha256").update(canonicalJson({ task, config, seed })).digest("hex").slice(0, 16);
}

function gridPoints(grid: Record<string, ConfigValue[]>): RunConfig[] {
  let points: RunConfig[] = [{}];
  for (const [key, values] of Object.entries(grid)) {
    if (!Array.isArray(values) || values.length === 0) throw new Error(`sweep grid "${key}" must be a non-empty list of values`);
    points = points.flatMap((point) => values.map((value) => ({ ...point, [key]: value })));
  }
  return points;
}

/** Every run of the sweep, in a fixed order; duplicate runs (same id) appear once. */
export function expandSweep(spec: SweepSpec): RunSpec[] {
  checkSweepSpec(spec);
  const grid = gridPoints(spec.grid ?? {});
  const configs = spec.configs ?? [{}];
  const seeds = spec.seeds ?? [0];
  const runs = new Map<string, RunSpec>();
  for (const listed of configs) {
    for (const point of grid) {
      const config = { ...(spec.base ?? {}), ...listed, ...point };
      for (const seed of seeds) {
        const id = runId(spec.task, config, seed);
        if (!runs.has(id)) runs.set(id, { id, sweep: spec.name, task: spec.task, config, seed });
      }
    }
  }
  return [...runs.values()];
}

/** Throws one line naming what is wrong with a sweep spec (read from a file, so anything goes). */
export function checkSweepSpec(spec: unknown, where = "sweep"): asserts spec is SweepSpec {
  const s = spec as Partial<SweepSpec> | null;
  const fail = (what: string) => {
    throw new Error(`${where}: ${what}`);
  };
  if (s === null || typeof s !== "object" || Array.isArray(s)) fail("expected an object with name, task and grid or configs");
  if (typeof s!.name !== "string" || !/^[A-Za-z0-9._-]+$/.test(s!.name)) fail(`"name" must be a string of letters, digits, . _ - (got ${JSON.stringify(s!.name)})`);
  if (typeof s!.task !== "string" || s!.task === "") fail(`"task" must be a task name or module path (got ${JSON.stringify(s!.task)})`);
  if (s!.grid !== undefined && (typeof s!.grid !== "object" || s!.grid === null || Array.isArray(s!.grid))) fail(`"grid" must be an object of value lists`);
  if (s!.configs !== undefined && (!Array.isArray(s!.configs) || s!.configs.some((c) => typeof c !== "object" || c === null || Array.isArray(c)))) {
    fail(`"configs" must be a list of objects`);
  }
  if (s!.seeds !== undefined && (!Array.isArray(s!.seeds) || s!.seeds.length === 0 || s!.seeds.some((x) => !Number.isInteger(x)))) {
    fail(`"seeds" must be a non-empty list of integers`);
  }
}

export interface TaskContext {
  seed: number;
  /** The run's id (for tasks that keep files of their own). */
  id: string;
  /** Report a step's loss (shown in progress bars and as BullMQ's job progress). */
  progress(step: number, loss: number): void;
}

/** Trains and evaluates one run. */
export type RunTask = (config: RunConfig, context: TaskContext) => Promise<RunOutcome>;
