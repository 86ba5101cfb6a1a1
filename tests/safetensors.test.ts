// The safetensors reader: the reference implementation's rules (huggingface/safetensors,
// safetensors/src/tensor.rs), each broken once by a hand-built file; F16/BF16 widening against
// Python's struct module; atomic writes and the clean-up of dead writers' temp files.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  FileFormatError,
  asFloat32,
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  saveSafetensors,
  writeFileAtomic,
} from "../lib/io/index.js";

const PYTHON = "/usr/bin/python3";

/** A file from a header object (or raw header text) and data bytes, with no checks of our own. */
function file(header: unknown, data: number[] | Uint8Array = [], headerLength?: number): Uint8Array {
  const json = header instanceof Uint8Array ? header : new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const bytes = (n: number) => Array.from({ length: n }, (_, i) => i);
const f32 = (shape: number[], begin: number, end: number) => ({ dtype: "F32", shape, data_offsets: [begin, end] });

/** The error decodeSafetensors throws for `data`, as "file: message". */
function rejection(data: Uint8Array): string {
  try {
    decodeSafetensors(data, "bad.safetensors");
  } catch (error) {
    expect(error).toBeInstanceOf(FileFormatError);
    const message = (error as Error).message;
    expect(message.startsWith("bad.safetensors: "), message).toBe(true);
    expect(message).not.toContain("\n");
    return message;
  }
  throw new Error("accepted a file that breaks the format");
}

describe("safetensors reader", () => {
  it("round-trips every dtype, with the header padded to 8 bytes as the reference writes it", () => {
    const tensors = {
      a: { dtype: "F32" as const, shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-30, 7]) },
      b: { dtype: "F64" as const, shape: [1], data: Float64Array.from([Math.PI]) },
      c: { dtype: "I64" as const, shape: [2], data: BigInt64Array.from([-5n, 1n << 40n]) },
      d: { dtype: "F16" as const, shape: [2], data: Uint16Array.from([0x3c00, 0xc000]) },
      e: { dtype: "BF16" as const, shape: [1], data: Uint16Array.from([0x3f80]) },
      f: { dtype: "U8" as const, shape: [0], data: new Uint8Array(0) },
      g: { dtype: "I32" as const, shape: [], data: Int32Array.from([-7]) },
    };
    const encoded = encodeSafetensors(tensors, { note: "x" });
    expect(Number(new DataView(encoded.buffer).getBigUint64(0, true)) % 8).toBe(0);
    const back = decodeSafetensors(encoded);
    expect(back.metadata).toEqual({ note: "x" });
    for (const [name, t] of Object.entries(tensors)) {
      expect(back.tensors[name].dtype, name).toBe(t.dtype);
      expect(back.tensors[name].shape, name).toEqual(t.shape);
      expect(Array.from(back.tensors[name].data as ArrayLike<unknown>), name).toEqual(Array.from(t.data as ArrayLike<unknown>));
    }
  });

  it("reads the reference implementation's own test file (tensor.rs test_serialization)", () => {
    // 64-byte header {"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}} + 0..5 as f32.
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    const data = new Uint8Array(Float32Array.from([0, 1, 2, 3, 4, 5]).buffer);
    const { tensors } = decodeSafetensors(file(header, data));
    expect(Array.from(tensors["attn.0"].data as Float32Array)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(decodeSafetensors(file("{}      ")).tensors).toEqual({}); // test_empty: "{}" padded with spaces
  });

  it("rejects offsets that do not tile the data section exactly, naming the file and the tensor", () => {
    // Negative begin: the old reader read the JSON header as weights.
    expect(rejection(file({ w: f32([2], -8, 0) }, bytes(8)))).toMatch(/"w" has data_offsets \[-8,0\]/);
    expect(rejection(file({ a: f32([2], 0, 8), b: f32([2], 4, 12) }, bytes(12)))).toMatch(/"b" at \[4, 12\] overlaps/);
    expect(rejection(file({ a: f32([2], 0, 8), b: f32([2], 0, 8) }, bytes(16)))).toMatch(/"[ab]" at \[0, 8\] overlaps/);
    expect(rejection(file({ a: f32([1], 0, 4), b: f32([1], 8, 12) }, bytes(12)))).toMatch(/"b" at \[8, 12\] leaves a gap after byte 4/);
    expect(rejection(file({ a: f32([1], 4, 8) }, bytes(8)))).toMatch(/"a" at \[4, 8\] leaves a gap after byte 0/);
    expect(rejection(file({ a: f32([2], 0, 8) }, bytes(12)))).toMatch(/cover 8 bytes but the data section has 12/);
    expect(rejection(file({ a: f32([2], 0, 8) }, bytes(6)))).toMatch(/cover 8 bytes but the data section has 6/);
    expect(rejection(file({ a: f32([2], 8, 0) }, bytes(8)))).toMatch(/"a" has data_offsets \[8,0\]/);
    expect(rejection(file({ a: f32([2], 0, 8.5) }, bytes(8)))).toMatch(/"a" has data_offsets/);
    expect(rejection(file({ a: { dtype: "F32", shape: [2], data_offsets: [0] } }, bytes(8)))).toMatch(/"a" has data_offsets \[0\]/);
    expect(rejection(file({ a: { dtype: "F32", shape: [2] } }, bytes(8)))).toMatch(/"a" has data_offsets undefined/);
  });

  it("rejects shapes, dtypes and byte lengths that disagree", () => {
    expect(rejection(file({ a: f32([-2], 0, 8) }, bytes(8)))).toMatch(/"a" has shape \[-2\]/);
    expect(rejection(file({ a: f32([1.5], 0, 6) }, bytes(6)))).toMatch(/"a" has shape \[1.5\]/);
    expect(rejection(file({ a: f32(["2"] as unknown as number[], 0, 8) }, bytes(8)))).toMatch(/"a" has shape \["2"\]/);
    expect(rejection(file({ a: f32([3], 0, 8) }, bytes(8)))).toMatch(/"a" has 8 bytes at \[0, 8\], but shape \[3\] of F32 needs 12/);
    expect(rejection(file({ a: f32([2 ** 30, 2 ** 30, 2 ** 30], 0, 8) }, bytes(8)))).toMatch(/"a" has shape .* too large/);
    expect(rejection(file({ a: { dtype: "F128", shape: [1], data_offsets: [0, 16] } }, bytes(16)))).toMatch(/"a" has unsupported dtype "F128"/);
    expect(rejection(file({ a: { dtype: "toString", shape: [1], data_offsets: [0, 1] } }, bytes(1)))).toMatch(/unsupported dtype "toString"/);
    expect(rejection(file({ a: 5 }))).toMatch(/"a" is not an object/);
  });

  it("rejects headers that are too long, cut short, not JSON objects, or metadata that is not string → string", () => {
    expect(rejection(new Uint8Array(5))).toMatch(/5 bytes, shorter than the 8-byte header length/);
    expect(rejection(file("{}", [], 100_000_001))).toMatch(/exceeds the format's limit of 100000000 bytes/);
    expect(rejection(file("{}", [], 2 ** 53 + 16))).toMatch(/exceeds the format's limit/);
    expect(rejection(file("{}", [], 40))).toMatch(/runs past the end of the file/);
    expect(rejection(file("[1, 2]"))).toMatch(/header is not a JSON object/);
    expect(rejection(file(' {"a": 1}'))).toMatch(/header is not a JSON object/); // the reference requires "{" first
    expect(rejection(file('{"a": '))).toMatch(/header is not a JSON object/);
    expect(rejection(file(new Uint8Array([0x7b, 0xff, 0x7d])))).toMatch(/header is not a JSON object/);
    expect(rejection(file({ __metadata__: { n: 5 } }))).toMatch(/__metadata__ "n" is not a string/);
    expect(rejection(file({ __metadata__: ["x"] }))).toMatch(/__metadata__ is not an object of strings/);
  });

  it("keeps a tensor named __proto__ as an own entry (no prototype pollution)", () => {
    const { tensors } = decodeSafetensors(file('{"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', [9]));
    expect(Object.keys(tensors)).toEqual(["__proto__"]);
    expect(Array.from(tensors.__proto__.data as Uint8Array)).toEqual([9]);
    expect(Object.getPrototypeOf(tensors)).toBe(Object.prototype);
  });

  it("loadSafetensors names the path in its errors", () => {
    const dir = mkdtempSync(join(tmpdir(), "st-"));
    const path = join(dir, "w.safetensors");
    writeFileSync(path, file({ w: f32([2], -8, 0) }, bytes(8)));
    expect(() => loadSafetensors(path)).toThrow(new RegExp(`^${path}: tensor "w"`));
  });
});

describe("F16 and BF16 → F32", () => {
  it("widens all 65536 half-precision values exactly as Python's struct 'e' decodes them", () => {
    const ran = spawnSync(PYTHON, ["-c", [
      "import struct, sys",
      "vals = [struct.unpack('<e', struct.pack('<H', h))[0] for h in range(65536)]",
      "sys.stdout.buffer.write(struct.pack('<65536d', *vals))",
    ].join("\n")], { maxBuffer: 1 << 20 });
    if (ran.status !== 0) throw new Error(String(ran.stderr));
    const reference = new Float64Array(new Uint8Array(ran.stdout).buffer);
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const ours = asFloat32({ dtype: "F16", shape: [65536], data: all })!;
    let mismatches = 0;
    for (let i = 0; i < 65536; i++) {
      const same = Number.isNaN(reference[i]) ? Number.isNaN(ours[i]) : Object.is(ours[i], reference[i]);
      if (!same) mismatches++;
    }
    expect(mismatches).toBe(0);
    // A few by hand: 1, -2, the largest half, the smallest subnormal, +Infinity.
    const some = asFloat32({ dtype: "F16", shape: [5], data: Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00]) })!;
    expect(Array.from(some)).toEqual([1, -2, 65504, 2 ** -24, Infinity]);
  });

  it("widens bfloat16 as the top half of a float32, and converts nothing else", () => {
    const values = asFloat32({ dtype: "BF16", shape: [4], data: Uint16Array.from([0x3f80, 0x4049, 0xc2f7, 0x0000]) })!;
    expect(Array.from(values)).toEqual([1, 3.140625, -123.5, 0]);
    expect(asFloat32({ dtype: "I32", shape: [1], data: Int32Array.from([1]) })).toBeUndefined();
    expect(asFloat32({ dtype: "F64", shape: [1], data: Float64Array.from([1]) })).toBeUndefined();
  });
});

describe("atomic writes", () => {
  it("removes temp files of dead writers on the next save, and leaves a live writer's", () => {
    const dir = mkdtempSync(join(tmpdir(), "atomic-"));
    const target = join(dir, "ckpt.safetensors");
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    const deadPid = Number(dead.stdout);
    expect(deadPid).toBeGreaterThan(0);
    writeFileSync(`${target}.tmp-${deadPid}`, "half a checkpoint");
    writeFileSync(`${target}.tmp-${process.ppid}`, "a live writer's file"); // our parent is alive
    writeFileSync(join(dir, "other.safetensors.tmp-999999999"), "another target's: not ours to judge");
    saveSafetensors(target, { a: { dtype: "F32", shape: [1], data: Float32Array.from([1]) } });
    expect(readdirSync(dir).sort()).toEqual(["ckpt.safetensors", `ckpt.safetensors.tmp-${process.ppid}`, "other.safetensors.tmp-999999999"].sort());
    expect(Array.from(loadSafetensors(target).tensors.a.data as Float32Array)).toEqual([1]);
  });

  it("leaves the old file in place when the write fails, with no temp file behind", () => {
    const dir = mkdtempSync(join(tmpdir(), "atomic-"));
    const target = join(dir, "t.txt");
    writeFileAtomic(target, "old");
    expect(() => writeFileAtomic(join(target, "inside-a-file"), "x")).toThrow(); // parent is a file
    expect(readdirSync(dir)).toEqual(["t.txt"]);
    expect(existsSync(`${target}.tmp-${process.pid}`)).toBe(false);
  });
});
