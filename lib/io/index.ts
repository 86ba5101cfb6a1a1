/**
 * File formats.
 *
 *   encodeSafetensors(tensors, metadata?) → Uint8Array      decodeSafetensors(bytes) → { tensors, metadata }
 *   saveSafetensors(path, tensors, metadata?)  (atomic)     loadSafetensors(path) → { tensors, metadata }
 *   writeFileAtomic(path, data)                              temp file + rename
 *
 * A StoredTensor is { dtype: "F32" | "I32" | ..., shape: number[], data: TypedArray } (row-major).
 */
export * from "./safetensors.js";
export * from "./files.js";
