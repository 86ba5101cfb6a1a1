// Token shards: the .npy files against NumPy, piecewise encoding against one-shot encoding, the
// train/val split, the loader's windows (build-nanogpt's DataLoaderLite) worked out by hand, every
// header check, and `npm run prepare` end to end (ids against js-tiktoken, Ctrl-C leaves no meta.json).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getEncoding } from "js-tiktoken";
import { beforeAll, describe, expect, it } from "vitest";
import {
  DATASETS, ShardLoader, datasetPresent, decodeNpyUint16, encodeInPieces, encodeNpyUint16, loadText, readShardsMeta, writeShards,
} from "../lib/data/index.js";
import { loadTiktokenEncoding, type RegexTokenizer } from "../lib/tokenizers/index.js";

const PYTHON = "/usr/bin/python3";
const hasNumpy = spawnSync(PYTHON, ["-c", "import numpy"]).status === 0;
if (!hasNumpy) console.warn(`SKIPPING NumPy checks: ${PYTHON} cannot import numpy (apt-get install python3-numpy)`);

const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
const range = (n: number, from = 0) => Uint16Array.from({ length: n }, (_, i) => from + i);
const options = { dataset: "test", tokenizer: "gpt2", vocabSize: 50257, eot: 50256 };

let gpt2: RegexTokenizer;
beforeAll(async () => {
  gpt2 = await loadTiktokenEncoding("gpt2");
});

describe(".npy shards", () => {
  it.skipIf(!hasNumpy)("NumPy reads what we write, and we read what NumPy writes", () => {
    const dir = tmp("npy-");
    const tokens = Uint16Array.from([0, 1, 255, 256, 50256, 65535, 7]);
    writeFileSync(join(dir, "ours.npy"), encodeNpyUint16(tokens));
    const script = [
      "import numpy as np, sys",
      `a = np.load(sys.argv[1] + "/ours.npy")`,
      "assert a.dtype == np.uint16 and a.shape == (7,), (a.dtype, a.shape)",
      "print(','.join(map(str, a.tolist())))",
      `np.save(sys.argv[1] + "/theirs.npy", np.arange(1000, 1100, dtype=np.uint16))`,
    ].join("\n");
    const run = spawnSync(PYTHON, ["-c", script, dir], { encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.stdout.trim()).toBe(Array.from(tokens).join(","));
    expect(Array.from(decodeNpyUint16(readFileSync(join(dir, "theirs.npy")), "theirs.npy"))).toEqual(Array.from(range(100, 1000)));
  });

  it("pads the header so the data starts at a multiple of 64 bytes", () => {
    for (const n of [0, 1, 9, 123456]) {
      const bytes = encodeNpyUint16(range(n));
      const headerLength = bytes[8] | (bytes[9] << 8);
      expect((10 + headerLength) % 64).toBe(0);
      expect(bytes.length).toBe(10 + headerLength + 2 * n);
      expect(Array.from(decodeNpyUint16(bytes, "x.npy"))).toEqual(Array.from(range(n)));
    }
  });

  it("refuses anything but a whole 1-D little-endian uint16 array, naming the file", () => {
    const good = encodeNpyUint16(range(10));
    const withHeader = (from: string, to: string) => {
      const text = Buffer.from(good).toString("latin1").replace(from, to);
      return Uint8Array.from(Buffer.from(text, "latin1"));
    };
    expect(() => decodeNpyUint16(good.subarray(0, good.length - 1), "s.npy")).toThrow("s.npy: holds 19 data bytes, its header says 10 uint16 tokens (20 bytes)");
    expect(() => decodeNpyUint16(Uint8Array.from([1, 2, 3, ...good.subarray(3)]), "s.npy")).toThrow("s.npy: not a .npy file");
    expect(() => decodeNpyUint16(withHeader("'<u2'", "'<i2'"), "s.npy")).toThrow("s.npy: dtype '<i2', expected '<u2'");
    expect(() => decodeNpyUint16(withHeader("'<u2'", "'>u2'"), "s.npy")).toThrow("s.npy: dtype '>u2'");
    expect(() => decodeNpyUint16(withHeader("False", "True "), "s.npy")).toThrow("s.npy: fortran_order must be False");
    expect(() => decodeNpyUint16(withHeader("(10,)", "(2,5)"), "s.npy")).toThrow("s.npy: shape must be one dimension");
    expect(() => decodeNpyUint16(good.subarray(0, 40), "s.npy")).toThrow("s.npy: .npy header of 118 bytes runs past the end of the file (40 bytes)");
  });
});

describe("encoding in pieces", () => {
  it("gives the ids of encoding at once, where whitespace runs would otherwise change them", async () => {
    const text = "First Citizen:\nBefore we proceed,\n\nhear me speak.\n\n\nAll:\nSpeak, speak.\n  indented\nx\ny\n\n";
    const whole = gpt2.encode(text);
    for (const pieceChars of [1, 2, 5, 17, 1000]) {
      const pieces: number[] = [];
      const ids = await encodeInPieces(text, (p) => gpt2.encode(p), { pieceChars, onProgress: (done) => pieces.push(done) });
      expect(ids).toEqual(whole);
      expect(pieces[pieces.length - 1]).toBe(text.length);
      if (pieceChars === 1) expect(pieces.length).toBeGreaterThan(4); // it did cut
    }
    // Cutting after any newline would not: "\n\n" at the end of a piece is one token, before a word two.
    expect(gpt2.encode("a\n\n")).not.toEqual([...gpt2.encode("a\n"), ...gpt2.encode("\n")]);
  });

  it.skipIf(!datasetPresent("tinyshakespeare"))("on Tiny Shakespeare, in 4 KB pieces, equals the one-shot encoding", async () => {
    const text = await loadText("tinyshakespeare");
    const ids = await encodeInPieces(text, (p) => gpt2.encode(p), { pieceChars: 4096 });
    expect(ids).toEqual(gpt2.encode(text));
    expect(ids!.length).toBe(338025); // as build-nanogpt's DataLoaderLite prints for the same file ("loaded 338025 tokens")
  });

  it("stops when asked, with nothing returned", async () => {
    expect(await encodeInPieces("a\nb\nc\nd\n", (p) => gpt2.encode(p), { pieceChars: 1, shouldStop: () => true })).toBeNull();
  });
});

describe("writing shards", () => {
  it("puts the first 90 % in train shards and the last 10 % in val shards, meta.json last", async () => {
    const dir = tmp("shards-");
    const meta = await writeShards(dir, range(1000), { ...options, shardTokens: 300 });
    expect(meta!.shards).toEqual([
      { file: "train_000000.npy", split: "train", tokens: 300 },
      { file: "train_000001.npy", split: "train", tokens: 300 },
      { file: "train_000002.npy", split: "train", tokens: 300 },
      { file: "val_000000.npy", split: "val", tokens: 100 },
    ]);
    expect(readShardsMeta(dir)).toEqual(meta);
    const val = decodeNpyUint16(readFileSync(join(dir, "val_000000.npy")), "val");
    expect(Array.from(val)).toEqual(Array.from(range(100, 900)));
    // A second prepare with fewer shards removes the old ones it does not list.
    await writeShards(dir, range(1000), { ...options, shardTokens: 1000, valFraction: 0.5 });
    expect(readdirSync(dir).sort()).toEqual(["meta.json", "train_000000.npy", "val_000000.npy"]);
  });

  it("stopped, it leaves whole shards and no meta.json, which the loader refuses", async () => {
    const dir = tmp("shards-stop-");
    let asked = 0;
    expect(await writeShards(dir, range(1000), { ...options, shardTokens: 100, shouldStop: () => ++asked > 3 })).toBeNull();
    const files = readdirSync(dir);
    expect(files.sort()).toEqual(["train_000000.npy", "train_000001.npy", "train_000002.npy"]);
    for (const f of files) expect(decodeNpyUint16(readFileSync(join(dir, f)), f)).toHaveLength(100);
    expect(() => ShardLoader.open(dir, "train")).toThrow(`${join(dir, "meta.json")}: missing (an unfinished prepare? run it again`);
  });
});

describe("ShardLoader (build-nanogpt's DataLoaderLite)", () => {
  /** Shards of 0, 1, 2, … so that every window names where it came from. */
  async function counting(sizes: number[]): Promise<string> {
    const dir = tmp("loader-");
    // valFraction puts exactly the last shard's worth in val.
    const total = sizes.reduce((a, b) => a + b, 0) + 10;
    const tokens = range(total);
    await writeShards(dir, tokens, { ...options, shardTokens: Math.max(...sizes), valFraction: 10 / total });
    return dir;
  }

  it("takes consecutive B·T + 1 windows, moves to the next shard when one cannot fill a window, and wraps", async () => {
    const dir = await counting([20, 20, 5]); // train_000002 holds 5 tokens: shorter than a window, skipped
    const loader = ShardLoader.open(dir, "train");
    expect(loader.totalTokens).toBe(45);
    const take = () => loader.nextBatch(2, 3); // windows of 7 tokens, advancing 6
    expect(take()).toEqual({ x: Int32Array.from([0, 1, 2, 3, 4, 5]), y: Int32Array.from([1, 2, 3, 4, 5, 6]) });
    expect(loader.position).toEqual({ shard: 0, offset: 6 });
    expect(Array.from(take().x)).toEqual([6, 7, 8, 9, 10, 11]);
    expect(Array.from(take().y)).toEqual([13, 14, 15, 16, 17, 18]); // 12..18 fits in 20 tokens
    expect(Array.from(take().x)).toEqual([20, 21, 22, 23, 24, 25]); // 18 + 7 > 20: next shard
    take();
    take();
    expect(Array.from(take().x)).toEqual([0, 1, 2, 3, 4, 5]); // shard 2 is too short: back to the first
  });

  it("seeks to a saved position; fromStart() reads from the beginning without moving this one", async () => {
    const dir = await counting([30, 30]);
    const a = ShardLoader.open(dir, "train");
    a.nextBatch(2, 4);
    a.nextBatch(2, 4);
    const b = ShardLoader.open(dir, "train");
    b.seek(a.position);
    expect(b.nextBatch(2, 4)).toEqual(a.nextBatch(2, 4));
    const fresh = a.fromStart();
    expect(Array.from(fresh.nextBatch(1, 4).x)).toEqual([0, 1, 2, 3]);
    expect(a.position).toEqual(b.position);
    expect(() => b.seek({ shard: 2, offset: 0 })).toThrow(/position \{"shard":2,"offset":0\} is outside the 2 train shards/);
  });

  it("says when no shard can hold one batch", async () => {
    const dir = await counting([20]);
    const loader = ShardLoader.open(dir, "val");
    expect(() => loader.nextBatch(2, 8)).toThrow(
      `the val shards of ${dir} hold at most 10 tokens each; a batch of batch_size 2 × block_size 8 needs 17 (lower them, or prepare with a larger --shard_tokens)`,
    );
  });

  it("checks meta.json and every shard it reads, naming the file", async () => {
    const dir = await counting([20]);
    const metaPath = join(dir, "meta.json");
    const meta = JSON.parse(readFileSync(metaPath, "utf8"));
    const withMeta = (change: (m: typeof meta) => void) => {
      const m = JSON.parse(JSON.stringify(meta));
      change(m);
      writeFileSync(metaPath, JSON.stringify(m));
    };
    withMeta((m) => (m.shards[0].tokens = 21));
    expect(() => ShardLoader.open(dir, "train").nextBatch(1, 4)).toThrow(`${join(dir, "train_000000.npy")}: holds 20 tokens, meta.json says 21`);
    withMeta((m) => (m.vocabSize = 10));
    expect(() => ShardLoader.open(dir, "train").nextBatch(1, 4)).toThrow(`${join(dir, "train_000000.npy")}: token 10 is 10, outside the vocabulary of 10`);
    withMeta((m) => (m.shards[0].file = "train_000009.npy"));
    expect(() => ShardLoader.open(dir, "train")).toThrow(`${join(dir, "train_000009.npy")}: listed in meta.json but missing`);
    withMeta((m) => (m.format = "other"));
    expect(() => ShardLoader.open(dir, "train")).toThrow(`${metaPath}: format: `);
    withMeta((m) => (m.shards = m.shards.filter((s: { split: string }) => s.split === "val")));
    expect(() => ShardLoader.open(dir, "train")).toThrow(`${metaPath}: lists no train shards`);
    writeFileSync(metaPath, "{");
    expect(() => ShardLoader.open(dir, "train")).toThrow(`${metaPath}: not valid JSON`);
    writeFileSync(metaPath, JSON.stringify(meta));
    rmSync(join(dir, "val_000000.npy"));
    expect(() => ShardLoader.open(dir, "train")).toThrow(`${join(dir, "val_000000.npy")}: listed in meta.json but missing`);
  });
});

describe("npm run prepare", () => {
  const prepare = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, ["--import", "tsx", "scripts/prepare.ts", ...args], { encoding: "utf8", env: { ...process.env, ...env } });

  it("tokenizes a text file into shards whose ids are js-tiktoken's, after an end-of-text token", () => {
    const dir = tmp("prepare-");
    const text = "ROMEO:\nBut soft, what light through yonder window breaks?\nIt is the east, and Juliet is the sun.\n".repeat(40);
    writeFileSync(join(dir, "verona.txt"), text);
    const run = prepare(["--dataset", join(dir, "verona.txt"), "--out", join(dir, "out"), "--shard_tokens", "500"]);
    expect(run.status).toBe(0);
    const expected = [50256, ...getEncoding("gpt2").encode(text)];
    const meta = readShardsMeta(join(dir, "out"));
    expect(meta.dataset).toBe("verona.txt");
    const read = (split: string) =>
      meta.shards.filter((s) => s.split === split).flatMap((s) => Array.from(decodeNpyUint16(readFileSync(join(dir, "out", s.file)), s.file)));
    const split = expected.length - Math.round(expected.length * 0.1);
    expect(read("train")).toEqual(expected.slice(0, split));
    expect(read("val")).toEqual(expected.slice(split));
    expect(meta.shards.filter((s) => s.split === "train").length).toBe(Math.ceil(split / 500));
    expect(run.stdout).toContain(`train: ${split.toLocaleString("en-US")} tokens in ${Math.ceil(split / 500)} shards`);
  });

  it("checks its flags in one line, and does nothing as npm's install hook", () => {
    const missing = prepare(["--dataset", "no-such-file.txt"]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(`error: --dataset no-such-file.txt: neither a dataset name (${Object.keys(DATASETS).join(", ")}) nor an existing text file\n`);
    expect(prepare([]).stderr).toBe("error: --dataset is required (a dataset name such as tinyshakespeare, or a text file)\n");
    expect(prepare(["--dataset", "x", "--shard_tokens", "1.5"]).stderr).toBe("error: --shard_tokens=1.5: expected an integer ≥ 1\n");
    const hook = prepare([], { npm_lifecycle_event: "prepare", npm_command: "install" });
    expect([hook.status, hook.stdout, hook.stderr]).toEqual([0, "", ""]);
  });

  it("Ctrl-C while tokenizing exits 130 with no meta.json", async () => {
    const dir = tmp("prepare-stop-");
    writeFileSync(join(dir, "big.txt"), "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n".repeat(60000));
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/prepare.ts", "--dataset", join(dir, "big.txt"), "--out", join(dir, "out")], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    let signalled = false;
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!signalled && stderr.includes("tokenizing big.txt")) {
        signalled = true;
        child.kill("SIGINT");
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(130);
    expect(stderr).toContain("SIGINT: stopping");
    expect(existsSync(join(dir, "out", "meta.json"))).toBe(false);
  });
});
