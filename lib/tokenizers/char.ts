/**
 * The character-level tokenizer of lectures 2 and 7: the vocabulary is the sorted set of the
 * characters (code points) of a corpus, optionally after reserved symbols such as makemore's ".".
 */
import { readFileSync, writeFileSync } from "node:fs";
import { renderToken, utf8Encode } from "./bytes.js";
import type { Tokenizer } from "./tokenizer.js";

export const CHARS_VERSION = "chars v1";

export interface CharTokenizerOptions {
  /** Symbols that get the first ids, in this order (makemore: ["."] as the start/end marker, id 0). */
  reserved?: readonly string[];
}

export class CharTokenizer implements Tokenizer {
  readonly chars: readonly string[];
  private index: Map<string, number>;

  /** A tokenizer whose id i is `chars[i]` (each one code point). */
  constructor(chars: Iterable<string>) {
    this.chars = [...chars];
    this.index = new Map(this.chars.map((ch, i) => [ch, i]));
    if (this.index.size !== this.chars.length) throw new Error("CharTokenizer: characters must be distinct");
    for (const ch of this.chars) {
      if ([...ch].length !== 1) throw new Error(`CharTokenizer: "${ch}" is not a single character`);
    }
  }

  /** Python's `sorted(set(text))`: the distinct code points of `text` in code point order. */
  static fromText(text: string, options: CharTokenizerOptions = {}): CharTokenizer {
    const reserved = options.reserved ?? [];
    const seen = new Set(Array.from(text));
    for (const ch of reserved) seen.delete(ch);
    const sorted = [...seen].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    return new CharTokenizer([...reserved, ...sorted]);
  }

  get vocabSize(): number {
    return this.chars.length;
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    for (const ch of text) {
      const id = this.index.get(ch);
      if (id === undefined) {
        throw new Error(`CharTokenizer: "${ch}" (U+${ch.codePointAt(0)!.toString(16).toUpperCase()}) is not in the vocabulary`);
      }
      ids.push(id);
    }
    return ids;
  }

  decode(ids: ArrayLike<number>): string {
    return Array.from(ids, (id) => this.char(id)).join("");
  }

  decodeTokenBytes(ids: ArrayLike<number>): Uint8Array[] {
    return Array.from(ids, (id) => utf8Encode(this.char(id)));
  }

  toModelText(): string {
    return `${CHARS_VERSION}\n${JSON.stringify(this.chars)}\n`;
  }

  save(filePrefix: string): void {
    writeFileSync(`${filePrefix}.model`, this.toModelText());
    const vocab = this.chars.map((ch, id) => `[${renderToken(utf8Encode(ch))}] ${id}`);
    writeFileSync(`${filePrefix}.vocab`, vocab.join("\n") + "\n");
  }

  static fromModelText(text: string): CharTokenizer {
    const [version, json] = text.split("\n");
    if (version.trim() !== CHARS_VERSION) throw new Error(`Not a character tokenizer model: first line is "${version}"`);
    return new CharTokenizer(JSON.parse(json) as string[]);
  }

  static load(modelFile: string): CharTokenizer {
    return CharTokenizer.fromModelText(readFileSync(modelFile, "utf8"));
  }

  private char(id: number): string {
    const ch = this.chars[id];
    if (ch === undefined) throw new Error(`Invalid token id ${id}`);
    return ch;
  }
}
