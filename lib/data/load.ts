import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { repoRoot } from "../util/paths.js";
import { checksumsPath, expectedChecksum, recordChecksum, type Expected } from "./checksums.js";
import { datasetInfo, type DatasetInfo } from "./registry.js";

/** Where datasets are kept: `COURSE_DATA_DIR`, else `<repo>/data`. */
export function dataDir(): string {
  return resolve(process.env.COURSE_DATA_DIR ?? join(repoRoot(), "data"));
}

/** A local mirror to copy from before downloading: `COURSE_DATA_MIRROR` (`none`: no mirror), else `../shared/data`. */
export function mirrorDir(): string | null {
  const configured = process.env.COURSE_DATA_MIRROR;
  if (configured === "none") return null;
  if (configured) return resolve(configured);
  const sibling = resolve(repoRoot(), "..", "shared", "data");
  return existsSync(sibling) ? sibling : null;
}

/** Where a dataset is downloaded from: its registry URL, or `$COURSE_DATA_BASE_URL/<file>` when that is set. */
export function downloadUrl(info: DatasetInfo): string {
  const base = process.env.COURSE_DATA_BASE_URL;
  return base ? `${base.replace(/\/+$/, "")}/${info.file}` : info.url;
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Whether the dataset's file is already in `dataDir()` or the mirror (nothing is downloaded or verified). */
export function datasetPresent(name: string): boolean {
  const file = datasetInfo(name).file;
  const mirror = mirrorDir();
  return existsSync(join(dataDir(), file)) || (mirror !== null && existsSync(join(mirror, file)));
}

/**
 * Make sure the dataset's file is in `dataDir()` with the right checksum; returns its path.
 * A missing or corrupt file is copied from the mirror, else downloaded. A dataset without a pinned
 * checksum has its checksum recorded on first download and verified against that afterwards.
 */
export async function ensureDataset(name: string, options: { quiet?: boolean } = {}): Promise<string> {
  const info = datasetInfo(name);
  const quiet = options.quiet ?? false;
  const dir = dataDir();
  const path = join(dir, info.file);
  const expected = expectedChecksum(info, dir);
  let localProblem: string | null = null;
  if (existsSync(path)) {
    const local = readFileSync(path);
    if (!expected) {
      record(info, dir, local, path, quiet);
      return path;
    }
    localProblem = mismatch(expected, local);
    if (!localProblem) return path;
  }
  const fresh = await freshCopy(info, expected, path, localProblem, quiet);
  mkdirSync(dir, { recursive: true });
  writeContents(path, fresh.bytes);
  if (!expected) record(info, dir, fresh.bytes, fresh.from, quiet);
  else if (localProblem && !quiet) console.error(`${path}: ${localProblem}; replaced with a good copy from ${fresh.from}.`);
  return path;
}

/** The dataset's text (UTF-8), fetched on first use. */
export async function loadText(name: string): Promise<string> {
  return readFileSync(await ensureDataset(name), "utf8");
}

async function freshCopy(
  info: DatasetInfo,
  expected: Expected | null,
  path: string,
  localProblem: string | null,
  quiet: boolean,
): Promise<{ bytes: Buffer; from: string }> {
  const mirror = mirrorDir();
  const mirrored = mirror ? join(mirror, info.file) : null;
  if (mirrored && existsSync(mirrored)) {
    const bytes = readFileSync(mirrored);
    const problem = expected && mismatch(expected, bytes);
    if (problem) {
      throw new Error(
        `The mirror's copy ${mirrored} is corrupt: ${problem}. Replace that file with a good copy, ` +
          `or set COURSE_DATA_MIRROR to another folder (COURSE_DATA_MIRROR=none downloads instead).`,
      );
    }
    return { bytes, from: mirrored };
  }
  const url = downloadUrl(info);
  const bytes = await download(info, url, path, localProblem, quiet);
  const problem = expected && mismatch(expected, bytes);
  if (problem) {
    const recorded =
      expected.source === "recorded"
        ? ` The expected checksum was recorded on first download in ${checksumsPath(dataDir())}; if the file ` +
          `changed upstream on purpose, delete its entry there to record the new one.`
        : "";
    throw new Error(`${info.file} downloaded from ${url}: ${problem}; nothing was saved.${recorded}`);
  }
  return { bytes, from: url };
}

/** What is wrong with `bytes` against the expected checksum, or null when they match. */
function mismatch(expected: Expected, bytes: Uint8Array): string | null {
  if (expected.bytes !== undefined && bytes.length !== expected.bytes) {
    return `checksum mismatch (expected ${expected.bytes} bytes, got ${bytes.length})`;
  }
  const actual = sha256(bytes);
  return actual === expected.sha256 ? null : `checksum mismatch (sha256 expected ${expected.sha256}, got ${actual})`;
}

/** Write the contents only, never the source's mode (a read-only mirror must not make data/ read-only). */
function writeContents(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.part-${process.pid}`;
  rmSync(tmp, { force: true });
  writeFileSync(tmp, bytes, { mode: 0o644 });
  renameSync(tmp, path);
}

function record(info: DatasetInfo, dir: string, bytes: Uint8Array, from: string, quiet: boolean): void {
  const digest = sha256(bytes);
  recordChecksum(info, dir, digest, bytes.length, from);
  if (!quiet) {
    console.error(
      `${info.file}: no pinned checksum, so its sha256 ${digest} and size ${bytes.length} bytes were recorded ` +
        `in ${checksumsPath(dir)} (trust on first use); later loads are verified against them.`,
    );
  }
}

async function download(
  info: DatasetInfo,
  url: string,
  path: string,
  localProblem: string | null,
  quiet: boolean,
): Promise<Buffer> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (cause) {
    throw fetchError(info, url, path, localProblem, cause);
  }
  if (!response.ok || !response.body) throw fetchError(info, url, path, localProblem, `HTTP ${response.status}`);
  const total = Number(response.headers.get("content-length") ?? info.bytes ?? 0);
  const chunks: Uint8Array[] = [];
  let received = 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.length;
      if (!quiet) process.stderr.write(`\r${progressBar(info.file, received, total)}`);
    }
  } catch (cause) {
    throw fetchError(info, url, path, localProblem, cause);
  } finally {
    if (!quiet && received > 0) process.stderr.write("\n");
  }
  return Buffer.concat(chunks);
}

/** One line of progress; without a known total it shows only the megabytes received. */
export function progressBar(label: string, done: number, total: number, width = 30): string {
  const megabytes = `${(done / 1e6).toFixed(2)} MB`;
  if (!(total > 0)) return `${label} ${megabytes}`;
  const fraction = Math.min(1, done / total);
  const filled = Math.round(fraction * width);
  const bar = "#".repeat(filled) + "-".repeat(width - filled);
  return `${label} [${bar}] ${(fraction * 100).toFixed(0).padStart(3)}% ${megabytes}`;
}

function fetchError(info: DatasetInfo, url: string, path: string, localProblem: string | null, cause: unknown): Error {
  const reason = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause);
  const retry =
    `When online, run \`npm run data -- ${info.name}\`, or set COURSE_DATA_MIRROR to a folder holding a good ${info.file}.`;
  if (localProblem) {
    return new Error(`${path}: ${localProblem}, and a fresh copy could not be downloaded from ${url} (${reason}). ${retry}`);
  }
  return new Error(
    `Cannot get dataset "${info.name}" (${info.file}): download from ${url} failed (${reason}) ` +
      `and no local mirror has it. ${retry} Or place the file in ${dataDir()}.`,
  );
}
