/**
 * A byte-level BPE tokenizer: the state shared by BasicTokenizer, RegexTokenizer and the GPT-2/GPT-4
 * encodings. Text -> UTF-8 bytes -> (optionally) regex chunks -> merges applied within each chunk.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { concatBytes, utf8Decode, utf8Encode, utf8EncodeInto } from "./bytes.js";
import { mergeChunk } from "./merge-chunk.js";
import { formatModel, formatVocab, parseModel } from "./model-file.js";
import { PairTable } from "./pair-table.js";
import { compileSplitPattern, splitText } from "./patterns.js";
import { splitSpecial, type EncodeOptions } from "./special.js";
import type { Tokenizer } from "./tokenizer.js";

export interface BpeModel {
  /** Split pattern ("" for none), as published (see patterns.ts). */
  pattern: string;
  /** Merge i joins the pair into the new id 256 + i. */
  merges: readonly (readonly [number, number])[];
  /**
   * The byte each of the ids 0..255 stands for (default: id i is byte i). tiktoken's encodings
   * number their single-byte tokens in another order.
   */
  byteOrder?: ArrayLike<number>;
  specialTokens?: Record<string, number>;
}

const CACHE_LIMIT = 100_000;

export class BpeTokenizer implements Tokenizer {
  pattern = "";
  merges: [number, number][] = [];
  specialTokens = new Map<string, number>();
  private specialBytes = new Map<number, Uint8Array>();
  private vocab: Uint8Array[] = [];
  private byteToId = new Int32Array(256);
  private mergeTable = new PairTable();
  protected splitRegex: RegExp | null = null;
  private chunkCache = new Map<string, number[]>();
  private scratch = new Uint8Array(1024);

  constructor(model: BpeModel = { pattern: "", merges: [] }) {
    this.setModel(model);
  }

  /** Replaces pattern, merges, byte order and special tokens. */
  setModel(model: BpeModel): void {
    this.pattern = model.pattern;
    this.splitRegex = model.pattern === "" ? null : compileSplitPattern(model.pattern);
    this.merges = model.merges.map(([a, b]) => [a, b]);
    const byteOrder = model.byteOrder ?? Array.from({ length: 256 }, (_, i) => i);
    this.vocab = Array.from({ length: 256 }, (_, id) => Uint8Array.of(byteOrder[id]));
    for (let id = 0; id < 256; id++) this.byteToId[byteOrder[id]] = id;
    this.mergeTable = new PairTable(this.merges.length);
    this.merges.forEach(([a, b], i) => {
      const id = 256 + i;
      if (!(a < id && b < id)) throw new Error(`Merge ${i} (${a}, ${b}) uses an id that does not exist yet`);
      this.mergeTable.set(a, b, id);
      this.vocab.push(concatBytes([this.vocab[a], this.vocab[b]]));
    });
    this.chunkCache = new Map();
    this.specialTokens = new Map();
    this.specialBytes = new Map();
    this.registerSpecialTokens(model.specialTokens ?? {});
  }

  get vocabSize(): number {
    let size = this.vocab.length;
    for (const id of this.specialTokens.values()) size = Math.max(size, id + 1);
    return size;
  }

  /** Whether ids 0..255 are the bytes 0..255 (true for trained tokenizers, false for tiktoken's). */
  get bytesInOrder(): boolean {
    return this.vocab.slice(0, 256).every((bytes, id) => bytes[0] === id);
  }

  /** Adds special tokens, e.g. `{ "<|endoftext|>": 100257 }`; their ids must not be BPE ids. */
  registerSpecialTokens(tokens: Record<string, number>): void {
    for (const [name, id] of Object.entries(tokens)) {
      if (id < this.vocab.length) throw new Error(`Special token ${name} has id ${id}, which is already a BPE token`);
      this.specialTokens.set(name, id);
      this.specialBytes.set(id, utf8Encode(name));
    }
  }

  /** Encodes text, handling special tokens as `options.allowedSpecial` says (default "none_raise"). */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const ids: number[] = [];
    for (const part of splitSpecial(text, this.specialTokens, options.allowedSpecial)) {
      if (typeof part === "number") ids.push(part);
      else this.encodeOrdinaryInto(part, ids);
    }
    return ids;
  }

  /** Forgets the ids of the chunks encoded so far (they are cached: text repeats its words). */
  clearCache(): void {
    this.chunkCache.clear();
  }

  /** Encodes text ignoring special tokens (they are ordinary text here). */
  encodeOrdinary(text: string): number[] {
    const ids: number[] = [];
    this.encodeOrdinaryInto(text, ids);
    return ids;
  }

  decode(ids: ArrayLike<number>): string {
    return utf8Decode(this.decodeBytes(ids));
  }

  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    return concatBytes(this.decodeTokenBytes(ids));
  }

  decodeTokenBytes(ids: ArrayLike<number>): Uint8Array[] {
    return Array.from(ids, (id) => this.tokenBytes(id));
  }

  /** The bytes of one token (a special token's are its name's UTF-8). */
  tokenBytes(id: number): Uint8Array {
    const bytes = this.vocab[id] ?? this.specialBytes.get(id);
    if (bytes) return bytes;
    throw new Error(`Invalid token id ${id}`);
  }

  /** minbpe's .model text. Only for tokenizers whose ids 0..255 are bytes 0..255 (minbpe's format assumes it). */
  toModelText(): string {
    if (!this.bytesInOrder) {
      throw new Error(
        "This tokenizer numbers its single-byte tokens in tiktoken's order, which minbpe's .model format cannot " +
          "express (minbpe's GPT4Tokenizer cannot be saved either); toVocabText() still works.",
      );
    }
    return formatModel({ pattern: this.pattern, specialTokens: [...this.specialTokens], merges: this.merges });
  }

  /** minbpe's human-readable .vocab text. */
  toVocabText(): string {
    return formatVocab((id) => this.tokenBytes(id), this.merges, this.specialTokens);
  }

  /** Writes `<filePrefix>.model` and `<filePrefix>.vocab` (minbpe's format). */
  save(filePrefix: string): void {
    writeFileSync(`${filePrefix}.model`, this.toModelText());
    writeFileSync(`${filePrefix}.vocab`, this.toVocabText());
  }

  /** Reads a minbpe .model file (minbpe's `load`), replacing this tokenizer's model. */
  load(modelFile: string): this {
    this.loadModelText(readFileSync(modelFile, "utf8"), modelFile);
    return this;
  }

  /** `source` names the file in errors. */
  loadModelText(text: string, source?: string): this {
    const data = parseModel(text, source);
    this.setModel({ pattern: data.pattern, merges: data.merges, specialTokens: Object.fromEntries(data.specialTokens) });
    return this;
  }

  private encodeOrdinaryInto(text: string, out: number[]): void {
    if (this.splitRegex === null) {
      for (const id of this.encodeChunk(text)) out.push(id);
      return;
    }
    const cache = this.chunkCache;
    for (const chunk of splitText(this.splitRegex, text)) {
      let ids = cache.get(chunk);
      if (ids === undefined) {
        ids = this.encodeChunk(chunk);
        if (cache.size >= CACHE_LIMIT) cache.clear();
        cache.set(chunk, ids);
      }
      for (let i = 0; i < ids.length; i++) out.push(ids[i]);
    }
  }

  private encodeChunk(chunk: string): number[] {
    if (this.scratch.length < chunk.length * 3) this.scratch = new Uint8Array(chunk.length * 3);
    const length = utf8EncodeInto(chunk, this.scratch);
    const ids: number[] = new Array(length);
    for (let i = 0; i < length; i++) ids[i] = this.byteToId[this.scratch[i]];
    return mergeChunk(ids, this.mergeTable);
  }
}
