import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DATASETS, datasetInfo, ensureDataset, loadText, sha256 } from "../lib/data/index.js";

const saved = { dir: process.env.COURSE_DATA_DIR, mirror: process.env.COURSE_DATA_MIRROR };
afterEach(() => {
  restore("COURSE_DATA_DIR", saved.dir);
  restore("COURSE_DATA_MIRROR", saved.mirror);
});

function restore(key: string, value: string | undefined) {
  if (value === undefined) delete process.env[key];
  else process.env[key] = value;
}

function emptyDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "course-data-"));
  process.env.COURSE_DATA_DIR = dir;
  return dir;
}

describe("datasets", () => {
  it("loads names.txt with the documented size and checksum", async () => {
    const text = await loadText("names");
    expect(Buffer.byteLength(text)).toBe(DATASETS.names.bytes);
    expect(text.split("\n").filter(Boolean)).toHaveLength(32033);
    expect(sha256(Buffer.from(text))).toBe(DATASETS.names.sha256);
  });

  it("copies from the mirror folder into an empty data dir", async () => {
    const dir = emptyDataDir();
    const mirror = mkdtempSync(join(tmpdir(), "course-mirror-"));
    writeFileSync(join(mirror, "names.txt"), readFileSync(await ensureDatasetFromRepo("names")));
    process.env.COURSE_DATA_MIRROR = mirror;
    const path = await ensureDataset("names", { quiet: true });
    expect(path).toBe(join(dir, "names.txt"));
    expect(sha256(readFileSync(path))).toBe(DATASETS.names.sha256);
  });

  it("rejects a corrupted mirror copy and removes it", async () => {
    const dir = emptyDataDir();
    const mirror = mkdtempSync(join(tmpdir(), "course-mirror-"));
    writeFileSync(join(mirror, "names.txt"), "emma\nolivia\n");
    process.env.COURSE_DATA_MIRROR = mirror;
    await expect(ensureDataset("names", { quiet: true })).rejects.toThrow(/sha256 mismatch/);
    expect(existsSync(join(dir, "names.txt"))).toBe(false);
  });

  it("names the file, the URL and the command when it cannot fetch", async () => {
    emptyDataDir();
    process.env.COURSE_DATA_MIRROR = mkdtempSync(join(tmpdir(), "course-empty-mirror-"));
    const info = datasetInfo("taylorswift");
    const error = await ensureDataset("taylorswift", { quiet: true }).catch((e: Error) => e);
    // Offline here; where the network works the download succeeds and the checksum holds.
    if (error instanceof Error) {
      expect(error.message).toContain(info.file);
      expect(error.message).toContain(info.url);
      expect(error.message).toContain("npm run data -- taylorswift");
    } else {
      expect(sha256(readFileSync(error))).toBe(info.sha256);
    }
  });

  it("refuses unknown names", () => {
    expect(() => datasetInfo("nope")).toThrow(/Unknown dataset "nope"/);
  });
});

async function ensureDatasetFromRepo(name: string): Promise<string> {
  const dir = process.env.COURSE_DATA_DIR;
  delete process.env.COURSE_DATA_DIR;
  try {
    return await ensureDataset(name, { quiet: true });
  } finally {
    if (dir !== undefined) process.env.COURSE_DATA_DIR = dir;
  }
}
