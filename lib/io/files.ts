import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { FileFormatError, encodeSafetensors, readSafetensors, type SafetensorsContent, type StoredTensor } from "./safetensors.js";

/**
 * Write a file so that readers see either the old or the new content, never half of it:
 * write `<path>.tmp-<pid>`, flush it to disk (fsync), rename it over the target (atomic on POSIX),
 * then flush the folder so the rename itself survives a crash. Temp files that interrupted writes
 * of dead processes left next to the target are removed first.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const folder = dirname(path);
  mkdirSync(folder, { recursive: true });
  removeStaleTempFiles(path);
  const temp = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(temp, "w");
    try {
      const bytes = typeof data === "string" ? Buffer.from(data) : data;
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  syncFolder(folder);
}

/** Remove `<path>.tmp-<pid>` files whose process no longer exists (a live writer's file is left alone). */
export function removeStaleTempFiles(path: string): string[] {
  const prefix = `${basename(path)}.tmp-`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = name.slice(prefix.length);
    if (!/^[1-9]\d*$/.test(pid) || isAlive(Number(pid))) continue;
    const stale = join(dirname(path), name);
    rmSync(stale, { force: true });
    removed.push(stale);
  }
  return removed;
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0); // signal 0: only checks that the process exists
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // exists, but belongs to another user
  }
}

/** fsync a folder (makes a rename in it durable); some systems cannot open folders: then nothing. */
function syncFolder(folder: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(folder, "r");
    fsyncSync(fd);
  } catch {
    // Windows and some file systems refuse; the rename is still atomic, only its durability is weaker.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Save tensors and string metadata as a .safetensors file, atomically. */
export function saveSafetensors(
  path: string,
  tensors: Record<string, StoredTensor>,
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/**
 * Load a .safetensors file; a file that breaks the format throws a FileFormatError naming it.
 * The header and then each tensor are read from the file into their own buffers, so memory is the
 * tensors' size once (not the file and a copy), and files over Node's 2 GiB readFileSync limit load
 * too (GPT-2 large, 3.2 GB; GPT-2 XL, 6.4 GB).
 */
export function loadSafetensors(path: string): SafetensorsContent {
  const fd = openSync(path, "r");
  try {
    const length = fstatSync(fd).size;
    const read = (at: number, count: number) => {
      const bytes = new Uint8Array(count);
      for (let done = 0; done < count; ) {
        const n = readSync(fd, bytes, done, Math.min(count - done, 2 ** 30), at + done);
        if (n === 0) throw new FileFormatError(path, `ended at byte ${at + done} while being read (the file shrank?)`);
        done += n;
      }
      return bytes;
    };
    return readSafetensors({ length, read }, path);
  } finally {
    closeSync(fd);
  }
}
