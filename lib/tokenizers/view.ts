/**
 * Looking at tokens: a coloured view (each token a coloured span, its id and bytes on hover), a
 * token -> bytes table, and the same text under several tokenizers. The functions return HTML or
 * rows; a notebook shows them with `showHtml` / `showTable`.
 */
import { escapeHtml } from "../display/index.js";
import { bytesHex, utf8Decode, utf8Encode } from "./bytes.js";
import type { Tokenizer } from "./tokenizer.js";

const PALETTE = ["#ffd6a5", "#caffbf", "#9bf6ff", "#bdb2ff", "#ffc6ff", "#fdffb6", "#a0c4ff", "#ffadad"];

export interface TokenViewOptions {
  /** Show at most this many tokens (default 2000). */
  maxTokens?: number;
}

/** A token's text when its bytes are whole UTF-8 characters, else its bytes as ⟨f0 9f⟩. */
export function tokenPiece(bytes: Uint8Array): string {
  const text = utf8Decode(bytes);
  const roundTrips = bytesHex(utf8Encode(text)) === bytesHex(bytes);
  return roundTrips ? text : `⟨${bytesHex(bytes)}⟩`;
}

function ids(tokenizer: Tokenizer, textOrIds: string | readonly number[]): number[] {
  return typeof textOrIds === "string" ? tokenizer.encode(textOrIds, { allowedSpecial: "all" }) : [...textOrIds];
}

/** Coloured spans, one per token; hovering shows the id and bytes. */
export function tokensHtml(tokenizer: Tokenizer, textOrIds: string | readonly number[], options: TokenViewOptions = {}): string {
  const all = ids(tokenizer, textOrIds);
  const shown = all.slice(0, options.maxTokens ?? 2000);
  const bytes = tokenizer.decodeTokenBytes(shown);
  const spans = shown.map((id, i) => {
    const piece = tokenPiece(bytes[i]).replace(/\n/g, "↵\n");
    const title = `id ${id} · bytes ${bytesHex(bytes[i])}`;
    const style = `background:${PALETTE[i % PALETTE.length]};border-radius:3px;padding:1px 0;margin-right:1px`;
    return `<span title="${escapeHtml(title)}" style="${style}">${escapeHtml(piece)}</span>`;
  });
  const more = all.length > shown.length ? ` <i>… ${all.length - shown.length} more tokens</i>` : "";
  return `<div style="font-family:monospace;white-space:pre-wrap;line-height:1.8">${spans.join("")}${more}</div>`;
}

/** The tokens as bracketed pieces for a terminal: [Hello][ world]. */
export function tokensText(tokenizer: Tokenizer, textOrIds: string | readonly number[]): string {
  return tokenizer
    .decodeTokenBytes(ids(tokenizer, textOrIds))
    .map((bytes) => `[${tokenPiece(bytes)}]`)
    .join("");
}

/** A type (not an interface) so that rows fit showTable's Record<string, unknown>. */
export type TokenRow = {
  position: number;
  id: number;
  token: string;
  bytes: string;
  length: number;
};

/** One row per token: id, text, bytes in hex, number of bytes. */
export function tokenRows(tokenizer: Tokenizer, textOrIds: string | readonly number[]): TokenRow[] {
  const all = ids(tokenizer, textOrIds);
  return tokenizer.decodeTokenBytes(all).map((bytes, position) => ({
    position,
    id: all[position],
    token: JSON.stringify(tokenPiece(bytes)),
    bytes: bytesHex(bytes),
    length: bytes.length,
  }));
}

export type TokenizerComparison = {
  tokenizer: string;
  vocabSize: number;
  tokens: number;
  bytesPerToken: number;
};

/** Token counts of the same text under several tokenizers. */
export function compareTokenizers(text: string, tokenizers: Record<string, Tokenizer>): TokenizerComparison[] {
  const bytes = utf8Encode(text).length;
  return Object.entries(tokenizers).map(([name, tokenizer]) => {
    const tokens = ids(tokenizer, text).length;
    return { tokenizer: name, vocabSize: tokenizer.vocabSize, tokens, bytesPerToken: tokens === 0 ? 0 : bytes / tokens };
  });
}

/** The coloured view of the same text under several tokenizers, each with its token count. */
export function compareTokenizersHtml(text: string, tokenizers: Record<string, Tokenizer>, options: TokenViewOptions = {}): string {
  return compareTokenizers(text, tokenizers)
    .map((row) => {
      const heading = `<b>${escapeHtml(row.tokenizer)}</b>: ${row.tokens} tokens (vocabulary ${row.vocabSize}, ${row.bytesPerToken.toFixed(2)} bytes/token)`;
      return `<div style="margin-bottom:1em">${heading}${tokensHtml(tokenizers[row.tokenizer], text, options)}</div>`;
    })
    .join("");
}
