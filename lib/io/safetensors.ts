/**
 * The safetensors format (https://github.com/huggingface/safetensors), read and written by hand:
 *
 *   [8 bytes: header length N, little-endian u64][N bytes: JSON header][raw tensor bytes]
 *
 * The header maps each tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets into the
 * raw bytes) and may hold a "__metadata__" object of string → string. Tensors are little-endian
 * and row-major. PyTorch, JAX and the `safetensors` package all read what this writes.
 *
 * The reader applies the reference implementation's rules and names the file and the tensor when a
 * rule is broken: the header is at most 100 MB and is a JSON object; every entry has a known dtype,
 * a shape of non-negative integers and data_offsets [begin, end] with begin ≤ end; sorted by begin,
 * the tensors tile the data section exactly (from 0, no gaps, no overlaps, nothing after the last);
 * each byte length is product(shape) × the dtype's size.
 *
 * F16 and BF16 tensors are read as their raw 16-bit patterns (a Uint16Array); asFloat32() widens
 * them, and F32, to float32 values. That widening is exact (every half and bfloat16 value is a
 * float32 value); nothing else is converted: F64 → F32 would round, integers are not weights.
 */

export type DType = "F64" | "F32" | "F16" | "BF16" | "I64" | "I32" | "I16" | "I8" | "U32" | "U16" | "U8";
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

/** A file that breaks its format's rules; the message starts with the file's name and is one line. */
export class FileFormatError extends Error {
  constructor(readonly file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.name = "FileFormatError";
  }
}

/** The reference implementation's limit on the JSON header. */
export const MAX_HEADER_BYTES = 100_000_000;

type ArrayClass = { new (buffer: ArrayBuffer, offset: number, length: number): TensorArray; BYTES_PER_ELEMENT: number };

const ARRAY_OF: Record<DType, ArrayClass> = {
  F64: Float64Array,
  F32: Float32Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  I64: BigInt64Array,
  I32: Int32Array,
  I16: Int16Array,
  I8: Int8Array,
  U32: Uint32Array,
  U16: Uint16Array,
  U8: Uint8Array,
};

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
    const ctor = ARRAY_OF[t.dtype] as unknown as typeof Float32Array | undefined;
    if (!ctor || !(t.data instanceof ctor)) throw new TypeError(`safetensors: "${name}" is not ${t.dtype} data`);
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

interface Entry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Check one header entry against the format's rules (not yet against its neighbours). */
function readEntry(file: string, name: string, entry: unknown): Entry {
  const fail = (detail: string) => new FileFormatError(file, `tensor ${JSON.stringify(name)} ${detail}`);
  if (!isPlainObject(entry)) throw fail("is not an object of dtype, shape and data_offsets");
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== "string" || !Object.prototype.hasOwnProperty.call(ARRAY_OF, dtype)) {
    throw fail(`has unsupported dtype ${JSON.stringify(dtype)} (known: ${Object.keys(ARRAY_OF).join(", ")})`);
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) throw fail(`has shape ${JSON.stringify(shape)}, not a list of non-negative integers`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
    throw fail(`has data_offsets ${JSON.stringify(offsets)}, not [begin, end] with 0 ≤ begin ≤ end`);
  }
  let bytes = ARRAY_OF[dtype as DType].BYTES_PER_ELEMENT;
  for (const n of shape as number[]) {
    bytes *= n;
    if (!Number.isSafeInteger(bytes)) throw fail(`has shape [${shape}], too large`);
  }
  const [begin, end] = offsets as number[];
  if (end - begin !== bytes) {
    throw fail(`has ${end - begin} bytes at [${begin}, ${end}], but shape [${shape}] of ${dtype} needs ${bytes}`);
  }
  return { name, dtype: dtype as DType, shape: shape as number[], begin, end };
}

/** Parse safetensors bytes; `file` names them in errors. Every tensor gets its own (copied, aligned) typed array. */
export function decodeSafetensors(bytes: Uint8Array, file = "safetensors data"): SafetensorsContent {
  const read = (at: number, length: number) => {
    // A fresh buffer (not bytes.slice: on a Node Buffer that is a view into a shared pool).
    const copy = new Uint8Array(length);
    copy.set(bytes.subarray(at, at + length));
    return copy;
  };
  return readSafetensors({ length: bytes.length, read }, file);
}

/** Bytes a reader takes by offset: a file's content in memory, or reads from a file too large to hold whole (lib/io/files.ts). */
export interface ByteSource {
  length: number;
  /** `length` bytes from `at` (within the source), in a new buffer of their own. */
  read(at: number, length: number): Uint8Array;
}

/** decodeSafetensors over any ByteSource: the same rules, each tensor read once into its own typed array. */
export function readSafetensors(source: ByteSource, file = "safetensors data"): SafetensorsContent {
  if (source.length < 8) throw new FileFormatError(file, `${source.length} bytes, shorter than the 8-byte header length`);
  const headerLength = new DataView(source.read(0, 8).buffer).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw new FileFormatError(file, `header length ${headerLength} exceeds the format's limit of ${MAX_HEADER_BYTES} bytes`);
  }
  const dataStart = 8 + Number(headerLength);
  if (dataStart > source.length) {
    throw new FileFormatError(file, `header length ${headerLength} runs past the end of the file (${source.length} bytes)`);
  }
  let header: unknown;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(source.read(8, dataStart - 8));
    if (!text.startsWith("{")) throw new Error("it does not start with {");
    header = JSON.parse(text);
  } catch (error) {
    throw new FileFormatError(file, `header is not a JSON object (${(error as Error).message})`);
  }
  if (!isPlainObject(header)) throw new FileFormatError(file, "header is not a JSON object");

  const entries: Entry[] = [];
  const metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name !== "__metadata__") {
      entries.push(readEntry(file, name, entry));
      continue;
    }
    if (!isPlainObject(entry)) throw new FileFormatError(file, "__metadata__ is not an object of strings");
    for (const [key, value] of Object.entries(entry)) {
      if (typeof value !== "string") throw new FileFormatError(file, `__metadata__ ${JSON.stringify(key)} is not a string`);
      define(metadata, key, value);
    }
  }

  // Sorted by offset, the tensors must tile the data section: each begins where the previous ended.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const e of entries) {
    if (e.begin !== covered) {
      const what = e.begin < covered ? "overlaps the tensor before it" : `leaves a gap after byte ${covered}`;
      throw new FileFormatError(file, `tensor ${JSON.stringify(e.name)} at [${e.begin}, ${e.end}] ${what}`);
    }
    covered = e.end;
  }
  const dataLength = source.length - dataStart;
  if (covered !== dataLength) {
    throw new FileFormatError(file, `tensors cover ${covered} bytes but the data section has ${dataLength} (truncated or extended file?)`);
  }

  const tensors: Record<string, StoredTensor> = {};
  for (const { name, dtype, shape, begin, end } of entries) {
    const ctor = ARRAY_OF[dtype];
    const copy = source.read(dataStart + begin, end - begin);
    define(tensors, name, { dtype, shape, data: new ctor(copy.buffer as ArrayBuffer, 0, (end - begin) / ctor.BYTES_PER_ELEMENT) });
  }
  return { tensors, metadata };
}

/** An own property even when the key is "__proto__" (a plain assignment would set the prototype). */
function define<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Float32 values of an F32, F16 or BF16 tensor (widened exactly); undefined for any other dtype. */
export function asFloat32(t: StoredTensor): Float32Array | undefined {
  if (t.dtype === "F32") return t.data as Float32Array;
  const bits = t.data as Uint16Array;
  if (t.dtype === "BF16") {
    // bfloat16 is the top half of a float32.
    const wide = new Uint32Array(bits.length);
    for (let i = 0; i < bits.length; i++) wide[i] = bits[i] << 16;
    return new Float32Array(wide.buffer);
  }
  if (t.dtype === "F16") return Float32Array.from(bits, halfToNumber);
  return undefined;
}

/** IEEE 754 binary16 → number: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits. */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
