/**
 * The safetensors format (https://github.com/huggingface/safetensors), read and written by hand:
 *
 *   [8 bytes: header length N, little-endian u64][N bytes: JSON header][raw tensor bytes]
 *
 * The header maps each tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets into the
 * raw bytes) and may hold a "__metadata__" object of string → string. Tensors are little-endian
 * and row-major. PyTorch, JAX and the `safetensors` package all read what this writes.
 */

export type DType = "F64" | "F32" | "I64" | "I32" | "I16" | "I8" | "U32" | "U16" | "U8";
export type TensorArray =
  | Float64Array
  | Float32Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint32Array
  | Uint16Array
  | Uint8Array;

/** One tensor as stored: its dtype, its shape and its values in row-major order. */
export interface StoredTensor {
  dtype: DType;
  shape: number[];
  data: TensorArray;
}

export interface SafetensorsContent {
  tensors: Record<string, StoredTensor>;
  metadata: Record<string, string>;
}

const ARRAY_OF: Record<DType, { new (buffer: ArrayBuffer, offset: number, length: number): TensorArray; BYTES_PER_ELEMENT: number }> = {
  F64: Float64Array,
  F32: Float32Array,
  I64: BigInt64Array,
  I32: Int32Array,
  I16: Int16Array,
  I8: Int8Array,
  U32: Uint32Array,
  U16: Uint16Array,
  U8: Uint8Array,
};

/** The dtype whose typed array is `data`'s class. */
export function dtypeOf(data: TensorArray): DType {
  for (const [dtype, ctor] of Object.entries(ARRAY_OF)) {
    if (data instanceof (ctor as unknown as typeof Float32Array)) return dtype as DType;
  }
  throw new TypeError("safetensors: unsupported typed array");
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Serialise tensors (in the given order) and string metadata to safetensors bytes. */
export function encodeSafetensors(
  tensors: Record<string, StoredTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (sizeOf(t.shape) !== t.data.length) {
      throw new RangeError(`safetensors: "${name}" has shape [${t.shape}] but ${t.data.length} values`);
    }
    if (dtypeOf(t.data) !== t.dtype) throw new TypeError(`safetensors: "${name}" is not ${t.dtype} data`);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces so the tensor data starts 8-byte aligned, as the reference writer does.
  const headerBytes = new Uint8Array(json.length + ((8 - (json.length % 8)) % 8)).fill(0x20);
  headerBytes.set(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of Object.values(tensors)) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

/** Parse safetensors bytes. Every tensor gets its own (copied, aligned) typed array. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsContent {
  if (bytes.length < 8) throw new RangeError("safetensors: file shorter than its 8-byte header length");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.length) throw new RangeError("safetensors: header runs past the end of the file");
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, unknown>;
  const dataStart = 8 + headerLength;
  const tensors: Record<string, StoredTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets } = entry as { dtype: DType; shape: number[]; data_offsets: [number, number] };
    const ctor = ARRAY_OF[dtype];
    if (!ctor) throw new TypeError(`safetensors: "${name}" has unsupported dtype ${dtype}`);
    const [begin, end] = data_offsets;
    const length = sizeOf(shape);
    if (end - begin !== length * ctor.BYTES_PER_ELEMENT || dataStart + end > bytes.length) {
      throw new RangeError(`safetensors: "${name}" offsets [${begin}, ${end}] do not fit shape [${shape}] ${dtype}`);
    }
    // A fresh buffer (not bytes.slice: on a Node Buffer that is a view into a shared pool).
    const copy = new Uint8Array(end - begin);
    copy.set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors[name] = { dtype, shape, data: new ctor(copy.buffer, 0, length) };
  }
  return { tensors, metadata };
}
