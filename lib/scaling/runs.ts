/**
 * A sweep's runs folder: one JSON per finished run (`<id>.json`, written atomically, never
 * rewritten), and the combined table of every run through nodejs-polars.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import pl from "nodejs-polars";
import { writeFileAtomic } from "../io/files.js";
import { FileFormatError } from "../io/safetensors.js";
import type { ConfigValue, RunSpec } from "./sweep.js";

/** What a task reports when its run finishes. */
export interface RunOutcome {
  /** Parameters as nanoGPT counts them (what the fits use as N). */
  params: number;
  /** Kaplan's non-embedding count, where the model has embeddings. */
  nonEmbeddingParams?: number;
  /** Training tokens (or examples) seen: D. */
  tokens: number;
  /** 6·N·D. */
  flops: number;
  /** Chinchilla's exact count where the task can give it. */
  flopsExact?: number;
  finalLoss: number;
  bestLoss: number;
  /** Evaluation loss over training. */
  curve: { step: number; loss: number }[];
  /** The tensor backend that ran it. */
  backend: string;
  /** Anything else the task wants kept. */
  extra?: Record<string, unknown>;
}

export interface RunRecord extends RunSpec, RunOutcome {
  wallSeconds: number;
  finishedAt: string;
  /** Who ran it: "pid@host" of the process. */
  worker: string;
}

export class RunStore {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  path(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  has(id: string): boolean {
    return existsSync(this.path(id));
  }

  read(id: string): RunRecord {
    const path = this.path(id);
    let record: RunRecord;
    try {
      record = JSON.parse(readFileSync(path, "utf8")) as RunRecord;
    } catch (error) {
      throw new FileFormatError(path, `not a run record (${(error as Error).message})`);
    }
    if (record.id !== id || typeof record.finalLoss !== "number") throw new FileFormatError(path, `not the record of run ${id}`);
    return record;
  }

  /** Record a finished run once: false (and nothing written) when it is already recorded. */
  write(record: RunRecord): boolean {
    if (this.has(record.id)) return false;
    writeFileAtomic(this.path(record.id), JSON.stringify(record, null, 1) + "\n");
    return true;
  }

  /** Every finished run in the folder. */
  list(): RunRecord[] {
    return readdirSync(this.dir)
      .filter((name) => /^[0-9a-f]{16}\.json$/.test(name))
      .sort()
      .map((name) => this.read(name.slice(0, -5)));
  }
}

/**
 * One row per run: id, seed, every config key (prefixed "config."), the counts and losses, wall
 * time and backend. The loss curve stays in the JSON.
 */
export function runsTable(records: RunRecord[]): pl.DataFrame {
  const configKeys = [...new Set(records.flatMap((r) => Object.keys(r.config)))].sort();
  const rows = records.map((r) => {
    const row: Record<string, string | number | boolean | null> = { id: r.id, sweep: r.sweep, task: r.task, seed: r.seed };
    for (const key of configKeys) {
      const value: ConfigValue | undefined = r.config[key];
      if (value === undefined || value === null) row[key] = null;
      else if (typeof value === "object") row[key] = JSON.stringify(value);
      else row[key] = value;
    }
    Object.assign(row, {
      params: r.params,
      nonEmbeddingParams: r.nonEmbeddingParams ?? null,
      tokens: r.tokens,
      flops: r.flops,
      flopsExact: r.flopsExact ?? null,
      finalLoss: r.finalLoss,
      bestLoss: r.bestLoss,
      wallSeconds: r.wallSeconds,
      backend: r.backend,
    });
    return row;
  });
  return rows.length === 0 ? pl.DataFrame({}) : pl.readRecords(rows);
}

/** Write `runs.csv` or `runs.parquet` next to the run files; returns its path. */
export function writeRunsTable(store: RunStore, format: "csv" | "parquet" = "csv"): string {
  const path = join(store.dir, `runs.${format}`);
  const df = runsTable(store.list());
  const bytes = format === "csv" ? df.writeCSV() : df.writeParquet();
  writeFileAtomic(path, bytes);
  return path;
}
