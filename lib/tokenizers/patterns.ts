/**
 * Regex split patterns. Text is cut into chunks (words with their leading space, number runs,
 * punctuation runs, whitespace) before BPE, so that merges never cross chunk boundaries.
 *
 * The published patterns are written for Python's `regex` and Rust's `fancy-regex`. JavaScript
 * needs equivalents:
 *  - `(?i:...)` (GPT-4's case-insensitive contractions) is spelled out letter by letter. Unicode
 *    case folding also maps U+017F LATIN SMALL LETTER LONG S to "s", so "'ſ" is a contraction too.
 *  - Possessive quantifiers (`?+`, `++`) become plain ones: in these patterns what follows them can
 *    never match what they would give back, so backtracking changes nothing.
 *  - `\s` is Unicode White_Space in those engines; JavaScript's `\s` adds U+FEFF and misses U+0085,
 *    so the JS patterns use `\p{White_Space}` (js-tiktoken keeps `\s` and differs on those two).
 *  - tiktoken's cl100k has `\s*[\r\n]+` where minbpe has `\s*[\r\n]`: both stop after the last
 *    newline of a whitespace run, so they split alike.
 * tests/tokenizer-patterns.test.ts checks the JS patterns against the published ones, run by Python's
 * `re` (possessives and scoped flags, with \p{...} and \s expanded to explicit classes).
 */

/** GPT-2's pattern as published (minbpe's spelling of tiktoken's r50k_base). */
export const GPT2_SPLIT_PATTERN = String.raw`'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;

/** GPT-4's (cl100k_base) pattern as published (minbpe). Not valid JavaScript. */
export const GPT4_SPLIT_PATTERN = String.raw`'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+`;

const WS = String.raw`\p{White_Space}`;
const NOT_WS = String.raw`\P{White_Space}`;

/** GPT2_SPLIT_PATTERN for JavaScript's RegExp (flags "gu"). */
export const GPT2_SPLIT_PATTERN_JS =
  String.raw`'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^${WS}\p{L}\p{N}]+|${WS}+(?!${NOT_WS})|${WS}+`;

/** GPT4_SPLIT_PATTERN for JavaScript's RegExp (flags "gu"). */
export const GPT4_SPLIT_PATTERN_JS =
  String.raw`'(?:[sdmtSDMTſ]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^${WS}\p{L}\p{N}]+[\r\n]*|${WS}*[\r\n]|${WS}+(?!${NOT_WS})|${WS}+`;

/** tiktoken's cl100k spelling of the GPT-4 pattern (split alike). */
const GPT4_SPLIT_PATTERN_TIKTOKEN = String.raw`'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
/** tiktoken's r50k spelling of the GPT-2 pattern. */
const GPT2_SPLIT_PATTERN_TIKTOKEN = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;

const KNOWN: Record<string, string> = {
  [GPT2_SPLIT_PATTERN]: GPT2_SPLIT_PATTERN_JS,
  [GPT2_SPLIT_PATTERN_TIKTOKEN]: GPT2_SPLIT_PATTERN_JS,
  [GPT4_SPLIT_PATTERN]: GPT4_SPLIT_PATTERN_JS,
  [GPT4_SPLIT_PATTERN_TIKTOKEN]: GPT4_SPLIT_PATTERN_JS,
};

/**
 * The JavaScript regex for a split pattern: the equivalent of a known published pattern, else the
 * pattern itself, which must then be valid JavaScript (flags "gu").
 */
export function compileSplitPattern(pattern: string): RegExp {
  const source = KNOWN[pattern] ?? pattern;
  try {
    return new RegExp(source, "gu");
  } catch (error) {
    throw new Error(
      `Split pattern is not a valid JavaScript regex and is not one of the known GPT-2/GPT-4 patterns: ` +
        `${pattern} (${(error as Error).message})`,
    );
  }
}

/** The chunks of `text` under a compiled split pattern. */
export function splitText(regex: RegExp, text: string): string[] {
  return text.match(regex) ?? [];
}
