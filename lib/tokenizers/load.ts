/** Reading any saved tokenizer back, whichever class wrote it. */
import { readFileSync, writeFileSync } from "node:fs";
import { BasicTokenizer } from "./basic.js";
import { CharTokenizer, CHARS_VERSION } from "./char.js";
import { MINBPE_VERSION, parseModel } from "./model-file.js";
import { RegexTokenizer } from "./regex.js";
import { TIKTOKEN_ENCODINGS, loadTiktokenEncoding, type TiktokenEncodingName } from "./tiktoken.js";
import type { Tokenizer } from "./tokenizer.js";

/**
 * Loads `<prefix>.model` (pass the prefix or the .model path): a minbpe model (from this course or
 * from minbpe) becomes a BasicTokenizer when its pattern is empty, else a RegexTokenizer.
 */
export function loadTokenizer(path: string): BasicTokenizer | RegexTokenizer | CharTokenizer {
  const modelFile = path.endsWith(".model") ? path : `${path}.model`;
  const text = readFileSync(modelFile, "utf8");
  const version = text.split("\n", 1)[0].trim();
  if (version === CHARS_VERSION) return CharTokenizer.fromModelText(text);
  if (version !== MINBPE_VERSION) throw new Error(`${modelFile}: unknown tokenizer format "${version}"`);
  const { pattern } = parseModel(text, modelFile);
  const tokenizer = pattern === "" ? new BasicTokenizer() : new RegexTokenizer(pattern);
  return tokenizer.loadModelText(text, modelFile);
}

/**
 * First line of a `<prefix>.model` that names a tiktoken encoding instead of listing its merges:
 * GPT-2's single-byte tokens are numbered in another order, which minbpe's format cannot say, and the
 * encoding is rebuilt exactly from its name (loadTiktokenEncoding).
 */
export const TIKTOKEN_REFERENCE_VERSION = "tiktoken v1";

/** Write `<prefix>.model` naming a tiktoken encoding (npm run train does, for GPT-2-tokenized runs). */
export function saveTiktokenReference(prefix: string, name: TiktokenEncodingName): void {
  writeFileSync(`${prefix}.model`, `${TIKTOKEN_REFERENCE_VERSION}\n${name}\n`);
}

/** Any saved tokenizer: a tiktoken reference (GPT-2, GPT-4), else what loadTokenizer reads. */
export async function loadSavedTokenizer(path: string): Promise<Tokenizer> {
  const modelFile = path.endsWith(".model") ? path : `${path}.model`;
  const [version, name] = readFileSync(modelFile, "utf8").split("\n").map((line) => line.trim());
  if (version !== TIKTOKEN_REFERENCE_VERSION) return loadTokenizer(modelFile);
  if (!(TIKTOKEN_ENCODINGS as readonly string[]).includes(name)) {
    throw new Error(`line 2 of ${modelFile}: unknown tiktoken encoding "${name}" (known: ${TIKTOKEN_ENCODINGS.join(", ")})`);
  }
  return loadTiktokenEncoding(name as TiktokenEncodingName);
}
