import type { EncodeOptions } from "./special.js";

/**
 * What every tokenizer of the course offers: text to ids and back.
 *
 * `decode(encode(text)) === text` for every well-formed string. A JS string can also hold lone
 * surrogates (half of a UTF-16 pair), which have no UTF-8 form: byte-level tokenizers encode each
 * as U+FFFD, as TextEncoder and tiktoken do, so they come back as "\ufffd". Decoding ids whose
 * bytes are not valid UTF-8 (a token holding half of a character) gives U+FFFD for the bad bytes,
 * like Python's errors="replace"; `decodeTokenBytes` returns the exact bytes.
 */
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
