// writeFileAtomic's order of operations, observed through node:fs: the temp file is written and
// fsynced before it is renamed over the target, and the folder is fsynced after the rename.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";

const events: string[] = [];
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  const opened = new Map<number, string>();
  return {
    ...fs,
    openSync: (path: string, flags: string) => {
      const fd = fs.openSync(path, flags);
      opened.set(fd, String(path));
      return fd;
    },
    fsyncSync: (fd: number) => {
      events.push(`fsync ${opened.get(fd)}`);
      fs.fsyncSync(fd);
    },
    renameSync: (from: string, to: string) => {
      events.push(`rename ${from} → ${to}`);
      fs.renameSync(from, to);
    },
  };
});

const { writeFileAtomic } = await import("../lib/io/index.js");

describe("writeFileAtomic", () => {
  it("fsyncs the temp file, renames it, then fsyncs the folder", () => {
    const dir = mkdtempSync(join(tmpdir(), "fsync-"));
    const target = join(dir, "ckpt.safetensors");
    const temp = `${target}.tmp-${process.pid}`;
    writeFileAtomic(target, "x".repeat(100_000));
    expect(events).toEqual([`fsync ${temp}`, `rename ${temp} → ${target}`, `fsync ${dir}`]);
    expect(readFileSync(target, "utf8")).toHaveLength(100_000);
  });
});
