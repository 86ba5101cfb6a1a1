import type { EncodeOptions } from "./special.js";

/** What every tokenizer of the course offers: text to ids and back. */
export interface Tokenizer {
  /** The number of ids: the largest id + 1. */
  readonly vocabSize: number;
  encode(text: string, options?: EncodeOptions): number[];
  /** The text of `ids`; byte sequences that are not valid UTF-8 become U+FFFD. */
  decode(ids: ArrayLike<number>): string;
  /** Each token's bytes; concatenated, they are exactly the UTF-8 bytes of the encoded text. */
  decodeTokenBytes(ids: ArrayLike<number>): Uint8Array[];
  /** Writes `<filePrefix>.model` (read back by `loadTokenizer`) and a human-readable `<filePrefix>.vocab`. */
  save(filePrefix: string): void;
}
