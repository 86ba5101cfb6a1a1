/**
 * TransformerLens's tokenizer helpers (`model.to_tokens`, `to_str_tokens`, `to_string`,
 * `to_single_token`), as functions of a tokenizer:
 *
 *   toTokens(gpt2, "Hello")                        // [50256, 15496]: <|endoftext|> first, as TransformerLens
 *   toTokens(gpt2, "Hello", { prependBos: false }) // [15496]
 *   toStrTokens(gpt2, "Butterfly")                 // ["<|endoftext|>", "But", "ter", "fly"]
 *   toString(gpt2, [50256, 15496])                 // "<|endoftext|>Hello"; a list of id lists → a list of strings
 *   toSingleToken(gpt2, " I")                      // 314; an Error for text that is not exactly one token
 *
 * Special tokens written in the text are encoded as special tokens (Hugging Face's tokenizers do so,
 * which TransformerLens uses); `allowedSpecial` changes that. Ids are plain arrays: read a tensor
 * with `await t.array()` first (synchronous reads do not work on WebGPU).
 */
import type { AllowedSpecial } from "../tokenizers/special.js";
import type { Tokenizer } from "../tokenizers/tokenizer.js";

/** GPT-2's only special token; TransformerLens puts it first as the "beginning of sequence" token. */
export const END_OF_TEXT = "<|endoftext|>";

export interface ToTokensOptions {
  /** Put the BOS token before the text (default true, as TransformerLens). */
  prependBos?: boolean;
  /** The BOS id (default: the tokenizer's <|endoftext|>, 50256 in GPT-2). */
  bos?: number;
  /** Which special tokens written in the text become special tokens (default "all"). */
  allowedSpecial?: AllowedSpecial;
}

/** The text's token ids, with the BOS token first unless `prependBos` is false. */
export function toTokens(tokenizer: Tokenizer, text: string, options: ToTokensOptions = {}): number[] {
  if (typeof text !== "string") throw new TypeError(`toTokens: expected a string, got ${typeof text}`);
  const ids = tokenizer.encode(text, { allowedSpecial: options.allowedSpecial ?? "all" });
  return options.prependBos === false ? ids : [bosToken(tokenizer, options.bos), ...ids];
}

/** Each token as text (a token holding part of a UTF-8 character shows U+FFFD); text is tokenized first. */
export function toStrTokens(tokenizer: Tokenizer, input: string | ArrayLike<number>, options: ToTokensOptions = {}): string[] {
  const ids = typeof input === "string" ? toTokens(tokenizer, input, options) : Array.from(input);
  return ids.map((id) => tokenizer.decode([id]));
}

/** The text of a list of ids; of a list of id lists (a batch), one text per list. */
export function toString(tokenizer: Tokenizer, tokens: ArrayLike<number>): string;
export function toString(tokenizer: Tokenizer, tokens: readonly ArrayLike<number>[]): string[];
export function toString(tokenizer: Tokenizer, tokens: ArrayLike<number> | readonly ArrayLike<number>[]): string | string[] {
  if (isBatch(tokens)) return tokens.map((row) => tokenizer.decode(row));
  return tokenizer.decode(tokens as ArrayLike<number>);
}

/** The id of text that is exactly one token (no BOS); an Error naming the tokens otherwise. */
export function toSingleToken(tokenizer: Tokenizer, text: string): number {
  const ids = toTokens(tokenizer, text, { prependBos: false });
  if (ids.length !== 1) {
    const pieces = ids.map((id) => JSON.stringify(tokenizer.decode([id]))).join(", ");
    throw new Error(`toSingleToken: ${JSON.stringify(text)} is ${ids.length} tokens, not one${ids.length ? ` (${pieces})` : ""}`);
  }
  return ids[0];
}

/** `bos` when given, else the tokenizer's <|endoftext|> special token. */
export function bosToken(tokenizer: Tokenizer, bos?: number): number {
  if (bos !== undefined) {
    if (!(Number.isInteger(bos) && bos >= 0 && bos < tokenizer.vocabSize)) {
      throw new RangeError(`bos must be a token id in [0, ${tokenizer.vocabSize}), got ${bos}`);
    }
    return bos;
  }
  const special = (tokenizer as { specialTokens?: ReadonlyMap<string, number> }).specialTokens;
  const id = special instanceof Map ? special.get(END_OF_TEXT) : undefined;
  if (id === undefined) {
    throw new Error(`This tokenizer has no ${END_OF_TEXT} token to prepend: pass { prependBos: false } or { bos: <id> }`);
  }
  return id;
}

function isBatch(tokens: ArrayLike<number> | readonly ArrayLike<number>[]): tokens is readonly ArrayLike<number>[] {
  return Array.isArray(tokens) && tokens.length > 0 && typeof tokens[0] !== "number";
}
