// Fuzzing the safetensors reader, loadCheckpoint and loadGPT with seeded mutations of one small,
// valid checkpoint: truncations, appended bytes, byte flips in the length prefix, the header and
// the data, and structured header edits (offsets, shapes, dtypes, names, config, metadata values).
//
// The rule for every case and every loader: it loads exactly the expected tensors, or it throws a
// FileFormatError whose one-line message starts with the file's path; never another error type,
// a crash or a hang, and memory stays bounded. "Expected" is the original tensors, except for a
// flipped data byte, where it is the original with that byte flipped (computed here from the
// header's offsets): a non-finite weight or moment, or a negative second moment, must be rejected,
// any other flipped value must load as flipped.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tf, useBackend } from "../lib/engine/index.js";
import { FileFormatError, loadSafetensors } from "../lib/io/index.js";
import { loadGPT } from "../lib/models/gpt/index.js";
import { loadCheckpoint } from "../lib/train/index.js";
import { Rng } from "../lib/util/random.js";
import { joinSafetensors, smallCheckpoint, splitSafetensors } from "./support/checkpoint-files.js";

const CASES = 4000;
const MAX_RSS_GROWTH_MB = 160;
const MAX_ARRAY_BUFFER_GROWTH_MB = 32;

interface Mutation {
  kind: string;
  bytes: Uint8Array;
  /** Data-section bytes overwritten, if any (then the expectation is the patched value), within one float. */
  dataPatch?: { at: number; bytes: Uint8Array };
  /** Must every loader reject it? */
  mustReject?: boolean;
}

let original: Uint8Array;
let header: Record<string, any>;
let dataBytes: Uint8Array;
let dataStart: number;
/** Original tensors by name, straight from the file's bytes at the header's offsets (not through the reader). */
const originalTensors = new Map<string, Float32Array>();

beforeAll(async () => {
  await useBackend("cpu");
  const path = await smallCheckpoint(mkdtempSync(join(tmpdir(), "fuzz-src-")));
  original = new Uint8Array(readFileSync(path));
  ({ header, data: dataBytes } = splitSafetensors(original));
  dataStart = original.length - dataBytes.length;
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const [begin, end] = entry.data_offsets as number[];
    originalTensors.set(name, new Float32Array(dataBytes.slice(begin, end).buffer));
  }
});

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.randint(0, items.length)];
const tensorNames = () => Object.keys(header).filter((k) => k !== "__metadata__");

const ODD_VALUES: unknown[] = [
  0, -1, 1, 2, 3, 7, 8, 1.5, -0.5, 1e9, 1e308, 100000, 2 ** 53, 2 ** 32, null, true, false, "", "abc", "8", "NaN", "Infinity", [], {}, [1, 2], { a: 1 },
];
const ODD_STRINGS = ["", "x", "3x", "-1", "1e3", "NaN", "Infinity", "-Infinity", "null", "{}", "[]", "[1,2,3]", '{"s":[1,2,3,4],"spareNormal":null}', "0", "007", " 1", "1.0", "9".repeat(30)];
const DTYPES: unknown[] = ["F16", "BF16", "I32", "U32", "F64", "I64", "I8", "U8", "I16", "U16", "BOOL", "F8_E4M3", "f32", "", null, 5, "F32"];

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** A structured edit of the header (JSON), keeping the data bytes. */
function headerEdit(rng: Rng): Mutation {
  const h = clone(header);
  const name = pick(rng, tensorNames());
  const entry = h[name];
  const meta = h.__metadata__ as Record<string, unknown>;
  const choice = rng.randint(0, 14);
  let data = dataBytes;
  let mustReject = false;
  let kind: string;
  switch (choice) {
    case 0: {
      kind = "offset";
      const i = rng.randint(0, 2);
      const by = pick(rng, [1, -1, 4, -4, 8, -8, 1e6, -1e6]);
      entry.data_offsets[i] = rng.random() < 0.7 ? entry.data_offsets[i] + by : pick(rng, ODD_VALUES);
      if (rng.random() < 0.2) entry.data_offsets = pick(rng, [[0], [0, 4, 8], "0,4", null, []]);
      break;
    }
    case 12: {
      // Both offsets moved together (the byte length stays right): overlaps, all at 0, before the data.
      kind = "tensor moved";
      const [begin, end] = entry.data_offsets as number[];
      const other = h[pick(rng, tensorNames())].data_offsets[0] as number;
      const to = pick(rng, [0, other, begin + 4, begin - 4, -8, -(begin + 8), dataBytes.length - (end - begin)]);
      entry.data_offsets = [to, to + end - begin];
      break;
    }
    case 13: {
      // Overlaps that still end exactly at the data's end (only the overlap rule can reject them):
      // every tensor at 0 with the data cut to the longest, or the last one moved back over its neighbour.
      kind = "overlap";
      const names = tensorNames();
      if (rng.random() < 0.5) {
        let longest = 0;
        for (const n of names) {
          const length = h[n].data_offsets[1] - h[n].data_offsets[0];
          h[n].data_offsets = [0, length];
          longest = Math.max(longest, length);
        }
        data = dataBytes.slice(0, longest);
      } else {
        const last = names.reduce((a, b) => (h[a].data_offsets[1] >= h[b].data_offsets[1] ? a : b));
        const back = 4 * rng.randint(1, 4);
        h[last].data_offsets = h[last].data_offsets.map((o: number) => o - back);
        data = dataBytes.slice(0, dataBytes.length - back);
      }
      mustReject = true;
      break;
    }
    case 1: {
      kind = "shape";
      const shape = entry.shape as unknown[];
      const how = rng.randint(0, 5);
      if (how === 0) shape[rng.randint(0, shape.length)] = pick(rng, ODD_VALUES);
      else if (how === 1) shape.push(1); // same bytes, different rank
      else if (how === 2) shape.reverse(); // same bytes, transposed
      else if (how === 3) shape.pop();
      else entry.shape = pick(rng, [null, "8", [[8]], {}]);
      break;
    }
    case 2:
      kind = "dtype";
      entry.dtype = pick(rng, DTYPES);
      break;
    case 3: {
      kind = "name";
      const how = rng.randint(0, 4);
      if (how === 0) {
        delete h[name];
        h[`${name}x`] = entry;
      } else if (how === 1) {
        delete h[name];
      } else if (how === 2) {
        h.__proto__renamed = entry; // placeholder key, renamed below to a real "__proto__" key
        delete h[name];
      } else {
        h[pick(rng, ["transformer.h.1.ln_1.weight", "lm_head.weight", "optimizer.m.extra"])] = { dtype: "F32", shape: [0], data_offsets: [0, 0] };
      }
      break;
    }
    case 4:
    case 5: {
      kind = "config";
      const key = pick(rng, ["gpt_config", "train_config"]);
      const config = JSON.parse(meta[key] as string);
      const field = pick(rng, Object.keys(config));
      const how = rng.random();
      if (how < 0.8) config[field] = pick(rng, ODD_VALUES);
      else if (how < 0.9) delete config[field];
      else config.unknownField = 1;
      meta[key] = JSON.stringify(config);
      break;
    }
    case 6: {
      kind = "rng/evals";
      const key = pick(rng, ["rng", "evals"]);
      const value = JSON.parse(meta[key] as string);
      if (key === "rng") {
        if (rng.random() < 0.5) value.s[rng.randint(0, 4)] = pick(rng, ODD_VALUES);
        else value.spareNormal = pick(rng, ODD_VALUES);
      } else if (value.length > 0 && rng.random() < 0.8) {
        value[rng.randint(0, value.length)][pick(rng, ["iter", "train", "val"])] = pick(rng, ODD_VALUES);
      } else {
        value.push(pick(rng, ODD_VALUES));
      }
      meta[key] = JSON.stringify(value);
      break;
    }
    case 7:
    case 8: {
      kind = "metadata value";
      const key = pick(rng, Object.keys(meta));
      meta[key] = rng.random() < 0.8 ? pick(rng, ODD_STRINGS) : pick(rng, ODD_VALUES);
      break;
    }
    case 9:
      kind = "metadata removed";
      delete meta[pick(rng, Object.keys(meta))];
      break;
    case 10:
      kind = "metadata shape";
      h.__metadata__ = pick(rng, [null, [], "x", 5, { ...meta, extra: 5 }]);
      break;
    default:
      kind = "header shape";
      return { kind, bytes: joinSafetensors(pick(rng, [[], null, "x", 1, [h]]), dataBytes), mustReject: true };
  }
  const json = JSON.stringify(h).replace('"__proto__renamed"', '"__proto__"');
  return { kind, bytes: withHeaderText(json, data), mustReject };
}

function withHeaderText(json: string, data: Uint8Array): Uint8Array {
  const text = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

function mutate(rng: Rng): Mutation {
  const bytes = Uint8Array.from(original);
  const r = rng.random();
  if (r < 0.12) return { kind: "truncated", bytes: bytes.slice(0, rng.randint(0, bytes.length)), mustReject: true };
  if (r < 0.16) {
    const extra = Uint8Array.from({ length: rng.randint(1, 17) }, () => rng.randint(0, 256));
    const out = new Uint8Array(bytes.length + extra.length);
    out.set(bytes);
    out.set(extra, bytes.length);
    return { kind: "appended", bytes: out, mustReject: true };
  }
  if (r < 0.22) {
    const at = rng.randint(0, 8);
    bytes[at] ^= 1 << rng.randint(0, 8);
    return { kind: "length prefix flip", bytes, mustReject: true };
  }
  if (r < 0.42) {
    for (let n = rng.randint(1, 4); n > 0; n--) bytes[rng.randint(8, dataStart)] ^= rng.randint(1, 256);
    return { kind: "header byte flip", bytes };
  }
  if (r < 0.62) {
    const at = rng.randint(0, dataBytes.length);
    const xor = rng.random() < 0.5 ? 1 << rng.randint(0, 8) : rng.randint(1, 256);
    bytes[dataStart + at] ^= xor;
    return { kind: "data byte flip", bytes, dataPatch: { at, bytes: bytes.slice(dataStart + at, dataStart + at + 1) } };
  }
  if (r < 0.7) {
    // One float overwritten with a value a loader must reject (non-finite; negative in a second moment) or keep.
    const at = 4 * rng.randint(0, dataBytes.length / 4);
    const value = pick(rng, [NaN, Infinity, -Infinity, -1, -1e-30, 3e38, 0, -0]);
    new DataView(bytes.buffer).setFloat32(dataStart + at, value, true);
    return { kind: "data value", bytes, dataPatch: { at, bytes: bytes.slice(dataStart + at, dataStart + at + 4) } };
  }
  if (r < 0.72) {
    return { kind: "random bytes", bytes: Uint8Array.from({ length: rng.randint(0, 64) }, () => rng.randint(0, 256)), mustReject: true };
  }
  return headerEdit(rng);
}

/** What each tensor should hold after a data patch: the original with the patched float re-read. */
function expectedTensors(patch: Mutation["dataPatch"]): { tensors: Map<string, Float32Array>; patched?: { name: string; value: number } } {
  if (!patch) return { tensors: originalTensors };
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const [begin, end] = entry.data_offsets as number[];
    if (patch.at < begin || patch.at >= end) continue;
    const bytes = dataBytes.slice(begin, end);
    bytes.set(patch.bytes, patch.at - begin);
    const values = new Float32Array(bytes.buffer);
    const tensors = new Map(originalTensors);
    tensors.set(name, values);
    return { tensors, patched: { name, value: values[Math.floor((patch.at - begin) / 4)] } };
  }
  throw new Error("patch outside every tensor");
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

type Outcome = "loaded original" | "loaded flipped value" | "rejected";

describe("fuzz: safetensors reader, loadCheckpoint, loadGPT", () => {
  it(`${CASES} seeded mutations: each loads exactly what it should or throws a FileFormatError naming the file`, () => {
    const rng = new Rng(20240611);
    const path = join(mkdtempSync(join(tmpdir(), "fuzz-")), "ckpt.safetensors");
    const counts: Record<string, Record<string, number>> = {};
    const count = (loader: string, outcome: string) => {
      counts[loader] ??= {};
      counts[loader][outcome] = (counts[loader][outcome] ?? 0) + 1;
    };
    const kinds: Record<string, number> = {};
    const tensorsBefore = tf.memory().numTensors;
    const memory = () => process.memoryUsage();
    const start = memory();
    let peakRss = 0;
    let peakArrayBuffers = 0;
    let slowest = 0;
    const began = performance.now();

    for (let c = 0; c < CASES; c++) {
      const m = mutate(rng);
      kinds[m.kind] = (kinds[m.kind] ?? 0) + 1;
      writeFileSync(path, m.bytes);
      const { tensors: expected, patched: flipped } = expectedTensors(m.dataPatch);
      const caseStart = performance.now();
      const context = `case ${c} (${m.kind})`;

      const attempt = (loader: string, load: () => Outcome, mustReject: boolean) => {
        let outcome: Outcome;
        try {
          outcome = load();
        } catch (error) {
          if (!(error instanceof FileFormatError)) throw new Error(`${context}, ${loader}: threw ${String(error)} (not a FileFormatError)`);
          if (!error.message.startsWith(`${path}: `) || error.message.includes("\n")) {
            throw new Error(`${context}, ${loader}: message does not start with the path or is not one line: ${error.message}`);
          }
          outcome = "rejected";
        }
        if (mustReject && outcome !== "rejected") throw new Error(`${context}, ${loader}: loaded a file it must reject`);
        count(loader, outcome);
        return outcome;
      };

      const read = attempt("reader", () => (loadSafetensors(path), m.dataPatch ? "loaded flipped value" : "loaded original"), !!m.mustReject);

      const bad = flipped && (!Number.isFinite(flipped.value) || (flipped.name.startsWith("optimizer.v.") && flipped.value < 0));
      attempt("loadCheckpoint", () => {
        const { model, state } = loadCheckpoint(path);
        try {
          for (const [name, v] of Object.entries(model.params)) {
            if (!sameBits(v.dataSync() as Float32Array, expected.get(name)!)) throw new Error(`${context}: loadCheckpoint: "${name}" differs from the expectation`);
          }
          for (const [name] of Object.entries(model.params)) {
            for (const which of ["m", "v"] as const) {
              const key = `optimizer.${which}.${name}`;
              if (!sameBits(state.optimizer[which][name], expected.get(key)!)) throw new Error(`${context}: loadCheckpoint: "${key}" differs from the expectation`);
            }
          }
          if (!Number.isSafeInteger(state.iter) || Number.isNaN(state.bestValLoss) || !state.evals.every((e) => Number.isFinite(e.val))) {
            throw new Error(`${context}: loadCheckpoint returned an unchecked state ${JSON.stringify(state.evals)}`);
          }
        } finally {
          model.dispose();
        }
        if (bad) throw new Error(`${context}: loadCheckpoint accepted ${flipped!.value} in "${flipped!.name}"`);
        return flipped ? "loaded flipped value" : "loaded original";
      }, read === "rejected");

      const badWeight = bad && !flipped!.name.startsWith("optimizer.");
      attempt("loadGPT", () => {
        const model = loadGPT(path);
        try {
          for (const [name, v] of Object.entries(model.params)) {
            if (!sameBits(v.dataSync() as Float32Array, expected.get(name)!)) throw new Error(`${context}: loadGPT: "${name}" differs from the expectation`);
          }
        } finally {
          model.dispose();
        }
        if (badWeight) throw new Error(`${context}: loadGPT accepted ${flipped!.value} in "${flipped!.name}"`);
        return flipped && !flipped.name.startsWith("optimizer.") ? "loaded flipped value" : "loaded original";
      }, read === "rejected");

      slowest = Math.max(slowest, performance.now() - caseStart);
      if (c % 250 === 0) {
        const now = memory();
        peakRss = Math.max(peakRss, now.rss - start.rss);
        peakArrayBuffers = Math.max(peakArrayBuffers, now.arrayBuffers - start.arrayBuffers);
      }
    }
    const seconds = (performance.now() - began) / 1000;
    const mb = (n: number) => (n / 2 ** 20).toFixed(1);
    console.log(`fuzz: ${CASES} cases in ${seconds.toFixed(1)} s (slowest case ${slowest.toFixed(1)} ms); mutations ${JSON.stringify(kinds)}`);
    for (const [loader, outcomes] of Object.entries(counts)) console.log(`fuzz: ${loader}: ${JSON.stringify(outcomes)}`);
    console.log(`fuzz: peak growth rss ${mb(peakRss)} MB, arrayBuffers ${mb(peakArrayBuffers)} MB (bounds ${MAX_RSS_GROWTH_MB} / ${MAX_ARRAY_BUFFER_GROWTH_MB} MB)`);

    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(peakRss / 2 ** 20).toBeLessThan(MAX_RSS_GROWTH_MB);
    expect(peakArrayBuffers / 2 ** 20).toBeLessThan(MAX_ARRAY_BUFFER_GROWTH_MB);
    // The fuzz reached both sides of every loader: it is not all rejections, nor all loads.
    for (const loader of ["reader", "loadCheckpoint", "loadGPT"]) {
      expect(counts[loader].rejected, loader).toBeGreaterThan(CASES / 4);
      expect(counts[loader]["loaded original"], loader).toBeGreaterThan(50);
      expect(counts[loader]["loaded flipped value"], loader).toBeGreaterThan(50);
    }
  });
});
