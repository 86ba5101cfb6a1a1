/**
 * Looking inside transformers, TransformerLens-style.
 *
 * Exports: toTokens(tokenizer, text, { prependBos?, bos?, allowedSpecial? }) → ids (BOS first by default),
 * toStrTokens(tokenizer, textOrIds, options?) → one string per token, toString(tokenizer, ids | ids[]) →
 * text | texts, toSingleToken(tokenizer, text) → id (an Error unless exactly one token), bosToken(tokenizer, bos?),
 * END_OF_TEXT, ToTokensOptions.
 */
export * from "./tokens.js";
export * from "./toy/index.js";
