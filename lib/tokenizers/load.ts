/** Reading any saved tokenizer back, whichever class wrote it. */
import { readFileSync } from "node:fs";
import { BasicTokenizer } from "./basic.js";
import { CharTokenizer, CHARS_VERSION } from "./char.js";
import { MINBPE_VERSION, parseModel } from "./model-file.js";
import { RegexTokenizer } from "./regex.js";

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
