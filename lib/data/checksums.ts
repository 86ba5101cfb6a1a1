import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DatasetInfo } from "./registry.js";

/** A file's expected checksum: pinned in the registry, or recorded on first download (trust on first use). */
export interface Expected {
  sha256: string;
  bytes?: number;
  source: "pinned" | "recorded";
}

interface Recorded {
  sha256: string;
  bytes: number;
  url: string;
  recordedAt: string;
}

/** The record of checksums taken on first download, kept beside the datasets. */
export function checksumsPath(dir: string): string {
  return join(dir, "checksums.json");
}

function readRecords(dir: string): Record<string, Recorded> {
  const path = checksumsPath(dir);
  if (!existsSync(path)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (cause) {
    throw new Error(`${path}: not valid JSON (${(cause as Error).message}); fix or delete it to record checksums again.`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${path}: expected a JSON object of file name → { sha256, bytes }; fix or delete it.`);
  }
  return parsed as Record<string, Recorded>;
}

export function expectedChecksum(info: DatasetInfo, dir: string): Expected | null {
  if (info.sha256) return { sha256: info.sha256, bytes: info.bytes, source: "pinned" };
  const record = readRecords(dir)[info.file];
  if (!record) return null;
  if (typeof record.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(record.sha256)) {
    throw new Error(`${checksumsPath(dir)}: the entry for ${info.file} has no valid sha256; fix or delete it.`);
  }
  return { sha256: record.sha256, bytes: record.bytes, source: "recorded" };
}

export function recordChecksum(info: DatasetInfo, dir: string, sha256: string, bytes: number, url: string): void {
  const records = readRecords(dir);
  records[info.file] = { sha256, bytes, url, recordedAt: new Date().toISOString() };
  const path = checksumsPath(dir);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(records, null, 2) + "\n", { mode: 0o644 });
  renameSync(tmp, path);
}
