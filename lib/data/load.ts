import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { repoRoot } from "../util/paths.js";
import { datasetInfo, type DatasetInfo } from "./registry.js";

/** Where datasets are kept: `COURSE_DATA_DIR`, else `<repo>/data`. */
export function dataDir(): string {
  return resolve(process.env.COURSE_DATA_DIR ?? join(repoRoot(), "data"));
}

/** A local mirror to copy from before downloading: `COURSE_DATA_MIRROR`, else `../shared/data`. */
export function mirrorDir(): string | null {
  const configured = process.env.COURSE_DATA_MIRROR;
  if (configured) return resolve(configured);
  const sibling = resolve(repoRoot(), "..", "shared", "data");
  return existsSync(sibling) ? sibling : null;
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

/** Make sure the dataset's file is in `dataDir()` with the right checksum; returns its path. */
export async function ensureDataset(name: string, options: { quiet?: boolean } = {}): Promise<string> {
  const info = datasetInfo(name);
  const dir = dataDir();
  const path = join(dir, info.file);
  if (existsSync(path) && info.sha256 && sha256(readFileSync(path)) === info.sha256) return path;
  mkdirSync(dir, { recursive: true });
  const mirror = mirrorDir();
  const mirrored = mirror ? join(mirror, info.file) : null;
  if (mirrored && existsSync(mirrored)) {
    copyFileSync(mirrored, path);
  } else {
    await download(info, path, options.quiet ?? false);
  }
  verify(info, path);
  return path;
}

/** The dataset's text (UTF-8), fetched on first use. */
export async function loadText(name: string): Promise<string> {
  return readFileSync(await ensureDataset(name), "utf8");
}

function verify(info: DatasetInfo, path: string): void {
  const actual = sha256(readFileSync(path));
  if (actual !== info.sha256) {
    rmSync(path, { force: true });
    throw new Error(
      `${info.file}: sha256 mismatch (expected ${info.sha256}, got ${actual}); the file was removed. ` +
        `Fetch it again with \`npm run data -- ${info.name}\`.`,
    );
  }
}

async function download(info: DatasetInfo, path: string, quiet: boolean): Promise<void> {
  let response: Response;
  try {
    response = await fetch(info.url);
  } catch (cause) {
    throw offlineError(info, cause);
  }
  if (!response.ok || !response.body) throw offlineError(info, `HTTP ${response.status}`);
  const total = Number(response.headers.get("content-length") ?? info.bytes);
  const chunks: Uint8Array[] = [];
  let received = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    if (!quiet) process.stderr.write(`\r${progressBar(info.file, received, total)}`);
  }
  if (!quiet) process.stderr.write("\n");
  const tmp = `${path}.part`;
  writeFileSync(tmp, Buffer.concat(chunks));
  renameSync(tmp, path);
}

export function progressBar(label: string, done: number, total: number, width = 30): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(fraction * width);
  const bar = "#".repeat(filled) + "-".repeat(width - filled);
  return `${label} [${bar}] ${(fraction * 100).toFixed(0).padStart(3)}% ${(done / 1e6).toFixed(2)} MB`;
}

function offlineError(info: DatasetInfo, cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new Error(
    `Cannot get dataset "${info.name}" (${info.file}): download from ${info.url} failed (${reason}) ` +
      `and no local mirror has it (set COURSE_DATA_MIRROR to a folder holding ${info.file}). ` +
      `When online, run \`npm run data -- ${info.name}\`, or place the file in ${dataDir()}.`,
  );
}
