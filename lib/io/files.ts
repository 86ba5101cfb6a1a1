import { mkdirSync, readFileSync, renameSync, writeFileSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { decodeSafetensors, encodeSafetensors, type SafetensorsContent, type StoredTensor } from "./safetensors.js";

/**
 * Write a file so that readers see either the old or the new content, never half of it:
 * write a temporary file next to it, then rename it over the target (atomic on POSIX).
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(temp, data);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
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

/** Load a .safetensors file. */
export function loadSafetensors(path: string): SafetensorsContent {
  return decodeSafetensors(readFileSync(path));
}
