/**
 * Token shards, as build-nanogpt's fineweb.py writes them: a corpus tokenized once into numbered
 * uint16 files that training then streams through in order.
 *
 *   <dir>/train_000000.npy, train_000001.npy, …   the first (1 − valFraction) of the token stream
 *   <dir>/val_000000.npy, …                        the last valFraction (nanoGPT's Shakespeare split)
 *   <dir>/meta.json                                { format, dataset, tokenizer, vocabSize, eot, shardTokens,
 *                                                    shards: [{ file, split, tokens }] }, written last
 *
 * Each shard is a NumPy .npy file (format 1.0, dtype '<u2', one dimension), so `np.load` reads it as
 * build-nanogpt's loader does. Every document starts with the end-of-text token (build-nanogpt's
 * delimiter). Writes are atomic and meta.json comes last: a folder without it is an unfinished
 * prepare, and the loader refuses it.
 *
 *   await writeShards(dir, tokens, { dataset, tokenizer: "gpt2", vocabSize, eot })
 *   const train = ShardLoader.open(dir, "train");        // headers checked, tokens read lazily
 *   const { x, y } = train.nextBatch(8, 128);            // build-nanogpt's DataLoaderLite.next_batch
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { z } from "zod";
import { FileFormatError, writeFileAtomic } from "../io/index.js";
import { loadTiktokenEncoding } from "../tokenizers/index.js";
import { dataDir, loadText, progressBar } from "./load.js";
import { DATASETS } from "./registry.js";

export const SHARDS_FORMAT = "gpt-from-scratch/shards/1";

export type ShardSplit = "train" | "val";

export interface ShardInfo {
  file: string;
  split: ShardSplit;
  tokens: number;
}

export interface ShardsMeta {
  format: typeof SHARDS_FORMAT;
  dataset: string;
  tokenizer: string;
  vocabSize: number;
  eot: number;
  shardTokens: number;
  shards: ShardInfo[];
}

const metaSchema = z.strictObject({
  format: z.literal(SHARDS_FORMAT),
  dataset: z.string(),
  tokenizer: z.string(),
  vocabSize: z.number().int().min(1).max(65536),
  eot: z.number().int().min(0),
  shardTokens: z.number().int().min(1),
  shards: z.array(
    z.strictObject({
      file: z.string().regex(/^(train|val)_\d{6}\.npy$/, "must be a file name like train_000000.npy"),
      split: z.enum(["train", "val"]),
      tokens: z.number().int().min(0),
    }),
  ),
});

// ---------------------------------------------------------------- .npy files

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/** A .npy (format 1.0) holding `tokens` as little-endian uint16, header padded to 64 bytes as NumPy does. */
export function encodeNpyUint16(tokens: Uint16Array): Uint8Array {
  let header = `{'descr': '<u2', 'fortran_order': False, 'shape': (${tokens.length},), }`;
  const unpadded = NPY_MAGIC.length + 2 + 2 + header.length + 1;
  header += " ".repeat((64 - (unpadded % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + header.length + tokens.length * 2);
  out.set(NPY_MAGIC, 0);
  out[6] = 1; // format 1.0
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const body = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < tokens.length; i++) body.setUint16(2 * i, tokens[i], true);
  return out;
}

/** The uint16 tokens of a 1-D '<u2' .npy file; anything else is a FileFormatError naming the file. */
export function decodeNpyUint16(bytes: Uint8Array, file: string): Uint16Array {
  const fail = (detail: string) => new FileFormatError(file, detail);
  if (bytes.length < 10 || NPY_MAGIC.some((b, i) => bytes[i] !== b)) throw fail("not a .npy file (no \\x93NUMPY magic)");
  const major = bytes[6];
  if (major !== 1 && major !== 2 && major !== 3) throw fail(`unsupported .npy format version ${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerStart = major === 1 ? 10 : 12;
  if (bytes.length < headerStart) throw fail("truncated .npy header");
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) throw fail(`.npy header of ${headerLength} bytes runs past the end of the file (${bytes.length} bytes)`);
  const header = Buffer.from(bytes.subarray(headerStart, dataStart)).toString("latin1");
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  if (descr !== "<u2") throw fail(`dtype ${descr === undefined ? "missing" : `'${descr}'`}, expected '<u2' (uint16 token ids)`);
  if (!/'fortran_order':\s*False/.test(header)) throw fail("fortran_order must be False");
  const shape = /'shape':\s*\((\d+),?\)/.exec(header);
  if (!shape) throw fail(`shape must be one dimension, header ${JSON.stringify(header.trim())}`);
  const length = Number(shape[1]);
  if (bytes.length - dataStart !== length * 2) {
    throw fail(`holds ${bytes.length - dataStart} data bytes, its header says ${length} uint16 tokens (${length * 2} bytes)`);
  }
  const tokens = new Uint16Array(length);
  const data = new DataView(bytes.buffer, bytes.byteOffset + dataStart, length * 2);
  for (let i = 0; i < length; i++) tokens[i] = data.getUint16(2 * i, true);
  return tokens;
}

// ---------------------------------------------------------------- writing

export interface WriteShardsOptions {
  dataset: string;
  tokenizer: string;
  vocabSize: number;
  eot: number;
  /** Tokens per shard (build-nanogpt: 100M); the last shard of each split holds the rest. */
  shardTokens?: number;
  /** Fraction of the stream, taken from its end, for validation (default 0.1). */
  valFraction?: number;
  /** Called after each shard is written. */
  onShard?: (info: ShardInfo, done: number, total: number) => void;
  /** Asked before each shard; true stops (meta.json is then not written). */
  shouldStop?: () => boolean;
}

/**
 * Split `tokens` into train and val, write the shards and then meta.json into `dir`; returns the meta,
 * or null when shouldStop() stopped it (the folder then has no meta.json: the loader refuses it).
 * Shards of an earlier prepare that this one does not list are removed.
 */
export async function writeShards(dir: string, tokens: Uint16Array, options: WriteShardsOptions): Promise<ShardsMeta | null> {
  const shardTokens = options.shardTokens ?? 100_000_000;
  const valFraction = options.valFraction ?? 0.1;
  if (!(Number.isInteger(shardTokens) && shardTokens > 0)) throw new RangeError(`shardTokens must be a positive integer, got ${shardTokens}`);
  if (!(valFraction > 0 && valFraction < 1)) throw new RangeError(`valFraction must be in (0, 1), got ${valFraction}`);
  const split = tokens.length - Math.max(1, Math.round(tokens.length * valFraction));
  const plan: { split: ShardSplit; tokens: Uint16Array }[] = [];
  for (const [name, part] of [["train", tokens.subarray(0, split)], ["val", tokens.subarray(split)]] as const) {
    for (let at = 0; at < part.length; at += shardTokens) plan.push({ split: name, tokens: part.subarray(at, at + shardTokens) });
  }
  rmSync(join(dir, "meta.json"), { force: true }); // until the new one is written, the folder is unfinished
  const shards: ShardInfo[] = [];
  const counters = { train: 0, val: 0 };
  for (const piece of plan) {
    if (options.shouldStop?.()) return null;
    const info: ShardInfo = { file: shardName(piece.split, counters[piece.split]++), split: piece.split, tokens: piece.tokens.length };
    writeFileAtomic(join(dir, info.file), encodeNpyUint16(piece.tokens));
    shards.push(info);
    options.onShard?.(info, shards.length, plan.length);
    await new Promise((resolve) => setImmediate(resolve)); // let a Ctrl-C handler run
  }
  for (const name of readdirSync(dir)) {
    if (/^(train|val)_\d{6}\.npy$/.test(name) && !shards.some((s) => s.file === name)) rmSync(join(dir, name), { force: true });
  }
  const { dataset, tokenizer, vocabSize, eot } = options;
  const meta: ShardsMeta = { format: SHARDS_FORMAT, dataset, tokenizer, vocabSize, eot, shardTokens, shards };
  writeFileAtomic(join(dir, "meta.json"), JSON.stringify(meta, null, 2) + "\n");
  return meta;
}

function shardName(split: ShardSplit, index: number): string {
  return `${split}_${String(index).padStart(6, "0")}.npy`;
}

/**
 * Encode a long text in pieces, so that progress can be shown and Ctrl-C can stop it, with ids
 * identical to encoding it at once: pieces are cut only after a lone newline between two
 * non-space characters ("word\nWord"), where GPT-2's split pattern always makes "\n" a chunk of
 * its own (cutting inside a run of whitespace would change it: "\n\n" is one token at the end
 * of a piece, two before a word). Returns null when shouldStop() said so.
 */
export async function encodeInPieces(
  text: string,
  encode: (piece: string) => number[],
  options: { pieceChars?: number; onProgress?: (charsDone: number, total: number) => void; shouldStop?: () => boolean } = {},
): Promise<number[] | null> {
  const pieceChars = options.pieceChars ?? 1 << 16;
  const ids: number[] = [];
  let start = 0;
  while (start < text.length) {
    if (options.shouldStop?.()) return null;
    let end = Math.min(text.length, start + pieceChars);
    while (end < text.length && !(text[end - 1] === "\n" && /\S/.test(text[end - 2] ?? " ") && /\S/.test(text[end]))) end++;
    for (const id of encode(text.slice(start, end))) ids.push(id);
    start = end;
    options.onProgress?.(start, text.length);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return ids;
}

export interface PrepareOptions {
  /** A registry dataset name (e.g. "tinyshakespeare") or the path of a UTF-8 text file. */
  dataset: string;
  /** Only "gpt2": its 50,257 ids fit uint16. */
  tokenizer?: "gpt2";
  /** Output folder (default data/<name>-gpt2). */
  out?: string;
  shardTokens?: number;
  valFraction?: number;
  /** Where the progress bars go (default stderr); null: none. */
  progress?: { write(text: string): unknown } | null;
  shouldStop?: () => boolean;
}

/** The folder prepare writes a dataset to by default: data/<name>-<tokenizer>. */
export function defaultShardsDir(dataset: string, tokenizer = "gpt2"): string {
  const name = Object.prototype.hasOwnProperty.call(DATASETS, dataset) ? dataset : basename(dataset).replace(/\.[^.]*$/, "");
  return join(dataDir(), `${name}-${tokenizer}`);
}

/**
 * `npm run prepare`'s work: read the text (a registry dataset or a file), encode it with GPT-2's
 * tokenizer as one document after an end-of-text token, and write the shards. Returns the folder and
 * its meta, or null when shouldStop() stopped it.
 */
export async function prepareShards(options: PrepareOptions): Promise<{ dir: string; meta: ShardsMeta } | null> {
  const tokenizerName = options.tokenizer ?? "gpt2";
  const dir = options.out ?? defaultShardsDir(options.dataset, tokenizerName);
  const isRegistered = Object.prototype.hasOwnProperty.call(DATASETS, options.dataset);
  if (!isRegistered && !existsSync(options.dataset)) {
    throw new Error(`--dataset ${options.dataset}: neither a dataset name (${Object.keys(DATASETS).join(", ")}) nor an existing text file`);
  }
  const text = isRegistered ? await loadText(options.dataset) : readFileSync(options.dataset, "utf8");
  const tokenizer = await loadTiktokenEncoding(tokenizerName);
  const eot = tokenizer.specialTokens.get("<|endoftext|>")!;
  const out = options.progress === undefined ? process.stderr : options.progress;
  const label = `tokenizing ${isRegistered ? options.dataset : basename(options.dataset)}`;
  const ids = await encodeInPieces(text, (piece) => tokenizer.encode(piece, { allowedSpecial: "none" }), {
    onProgress: (done, total) => out?.write(`\r${progressBar(label, done, total)}`),
    shouldStop: options.shouldStop,
  });
  out?.write("\n");
  if (ids === null) return null;
  const tokens = new Uint16Array(ids.length + 1);
  tokens[0] = eot;
  tokens.set(ids, 1);
  const meta = await writeShards(dir, tokens, {
    dataset: isRegistered ? options.dataset : basename(options.dataset),
    tokenizer: tokenizerName,
    vocabSize: tokenizer.vocabSize,
    eot,
    shardTokens: options.shardTokens,
    valFraction: options.valFraction,
    onShard: (shard) => out?.write(`wrote ${join(dir, shard.file)} (${shard.tokens.toLocaleString("en-US")} tokens)\n`),
    shouldStop: options.shouldStop,
  });
  return meta && { dir, meta };
}

// ---------------------------------------------------------------- reading

/** meta.json of a prepared folder, checked (including that every shard it lists exists). */
export function readShardsMeta(dir: string): ShardsMeta {
  const path = join(dir, "meta.json");
  if (!existsSync(path)) {
    const hint = existsSync(dir) ? "an unfinished prepare? run it again" : "no such folder";
    throw new FileFormatError(path, `missing (${hint}: npm run prepare -- --dataset NAME --tokenizer gpt2 --out ${dir})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new FileFormatError(path, `not valid JSON (${(error as Error).message})`);
  }
  const result = metaSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new FileFormatError(path, `${issue.path.join(".") || "meta"}: ${issue.message}`);
  }
  const meta = result.data as ShardsMeta;
  for (const shard of meta.shards) {
    if (!existsSync(join(dir, shard.file))) throw new FileFormatError(join(dir, shard.file), "listed in meta.json but missing");
  }
  return meta;
}

/** One shard's tokens, checked against its meta.json entry and the vocabulary. */
export function readShard(dir: string, info: ShardInfo, vocabSize: number): Uint16Array {
  const path = join(dir, info.file);
  const tokens = decodeNpyUint16(readFileSync(path), path);
  if (tokens.length !== info.tokens) throw new FileFormatError(path, `holds ${tokens.length} tokens, meta.json says ${info.tokens}`);
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] >= vocabSize) throw new FileFormatError(path, `token ${i} is ${tokens[i]}, outside the vocabulary of ${vocabSize}`);
  }
  return tokens;
}

/** Where a ShardLoader will read next: shard index and token offset in it. */
export interface ShardPosition {
  shard: number;
  offset: number;
}

/**
 * build-nanogpt's DataLoaderLite: consecutive windows of batchSize·blockSize + 1 tokens (x, and y
 * one token later) through the shards in order; when the current shard cannot fill the next
 * window it moves to the start of the next shard, and after the last it wraps to the first.
 * A shard shorter than one window is skipped. Only the current shard is held in memory.
 */
export class ShardLoader {
  private current: { index: number; tokens: Uint16Array } | null = null;
  private at: ShardPosition = { shard: 0, offset: 0 };

  constructor(
    readonly dir: string,
    readonly meta: ShardsMeta,
    readonly split: ShardSplit,
  ) {
    if (this.shards.length === 0) throw new FileFormatError(join(dir, "meta.json"), `lists no ${split} shards`);
  }

  /** The loader of one split of a prepared folder, at its start. */
  static open(dir: string, split: ShardSplit): ShardLoader {
    return new ShardLoader(dir, readShardsMeta(dir), split);
  }

  get shards(): ShardInfo[] {
    return this.meta.shards.filter((s) => s.split === this.split);
  }

  /** Tokens in this split. */
  get totalTokens(): number {
    return this.shards.reduce((sum, s) => sum + s.tokens, 0);
  }

  get position(): ShardPosition {
    return { ...this.at };
  }

  /** Continue from `position` (from position of this or an identical loader, e.g. in a checkpoint). */
  seek(position: ShardPosition): void {
    const { shard, offset } = position;
    if (!(Number.isInteger(shard) && shard >= 0 && shard < this.shards.length && Number.isInteger(offset) && offset >= 0)) {
      throw new RangeError(`${this.dir}: position ${JSON.stringify(position)} is outside the ${this.shards.length} ${this.split} shards`);
    }
    this.at = { shard, offset };
  }

  /** A loader over the same shards at their start (evaluation reads from there, not disturbing this one). */
  fromStart(): ShardLoader {
    const fresh = new ShardLoader(this.dir, this.meta, this.split);
    if (this.current?.index === 0) fresh.current = this.current;
    return fresh;
  }

  /** Throw unless some shard holds one window of batchSize·blockSize + 1 tokens. */
  checkFits(batchSize: number, blockSize: number): void {
    const need = batchSize * blockSize + 1;
    const longest = Math.max(...this.shards.map((s) => s.tokens));
    if (longest < need) {
      throw new RangeError(
        `the ${this.split} shards of ${this.dir} hold at most ${longest.toLocaleString("en-US")} tokens each; a batch of ` +
          `batch_size ${batchSize} × block_size ${blockSize} needs ${need.toLocaleString("en-US")} (lower them, or prepare with a larger --shard_tokens)`,
      );
    }
  }

  /** The next batch as flat (batchSize·blockSize) int32 arrays, row-major. */
  nextBatch(batchSize: number, blockSize: number): { x: Int32Array; y: Int32Array } {
    this.checkFits(batchSize, blockSize);
    const n = batchSize * blockSize;
    let tokens = this.load(this.at.shard);
    while (this.at.offset + n + 1 > tokens.length) {
      this.at = { shard: (this.at.shard + 1) % this.shards.length, offset: 0 };
      tokens = this.load(this.at.shard);
    }
    const window = tokens.subarray(this.at.offset, this.at.offset + n + 1);
    this.at = { shard: this.at.shard, offset: this.at.offset + n };
    return { x: Int32Array.from(window.subarray(0, n)), y: Int32Array.from(window.subarray(1)) };
  }

  private load(index: number): Uint16Array {
    if (this.current?.index !== index) this.current = { index, tokens: readShard(this.dir, this.shards[index], this.meta.vocabSize) };
    return this.current.tokens;
  }
}
