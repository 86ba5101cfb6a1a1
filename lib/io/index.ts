/**
 * File formats.
 *
 *   encodeSafetensors(tensors, metadata?) → Uint8Array      decodeSafetensors(bytes, file?) → { tensors, metadata }
 *   saveSafetensors(path, tensors, metadata?)  (atomic)     loadSafetensors(path) → { tensors, metadata }  (tensor by tensor: any size)
 *   readSafetensors(source, file?)                           the same reader over any { length, read(at, n) } ByteSource
 *   writeFileAtomic(path, data)                              temp file, fsync, rename; clears dead writers' temp files
 *   asFloat32(tensor)                                        F32, or F16/BF16 widened exactly; else undefined
 *
 * A StoredTensor is { dtype: "F32" | "I32" | ..., shape: number[], data: TypedArray } (row-major).
 * A file that breaks the format throws FileFormatError, its one-line message starting with the file.
 */
export * from "./safetensors.js";
export * from "./files.js";
