// The JavaScript split patterns must split exactly like the published GPT-2 / GPT-4 patterns. The
// reference is Python's `re` (3.11+: possessive quantifiers, scoped (?i:...)) running the published
// pattern, with \p{L}, \p{N} and \s spelled out as explicit classes (Unicode White_Space for \s,
// as in Rust's regex, which tiktoken uses), computed here so that both sides use one Unicode version.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  GPT2_SPLIT_PATTERN,
  GPT2_SPLIT_PATTERN_JS,
  GPT4_SPLIT_PATTERN,
  GPT4_SPLIT_PATTERN_JS,
  compileSplitPattern,
  splitText,
} from "../lib/tokenizers/index.js";
import { Rng } from "../lib/util/random.js";

function codePointClass(property: RegExp): string {
  const ranges: string[] = [];
  let start = -1;
  const hex = (cp: number) => `\\U${cp.toString(16).padStart(8, "0")}`;
  for (let cp = 0; cp <= 0x110000; cp++) {
    const inside = cp < 0x110000 && property.test(String.fromCodePoint(cp));
    if (inside && start < 0) start = cp;
    if (!inside && start >= 0) {
      ranges.push(start === cp - 1 ? hex(start) : `${hex(start)}-${hex(cp - 1)}`);
      start = -1;
    }
  }
  return ranges.join("");
}

/** The published pattern for Python's `re`: \p{L}, \p{N}, \s, \S replaced by explicit classes. */
function pythonPattern(pattern: string): string {
  const classes: Record<string, string> = {
    "\\p{L}": codePointClass(/^\p{L}$/u),
    "\\p{N}": codePointClass(/^\p{N}$/u),
    "\\s": codePointClass(/^\p{White_Space}$/u),
  };
  let out = "";
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const rest = pattern.slice(i);
    const name = Object.keys(classes).find((key) => rest.startsWith(key));
    if (name) {
      out += inClass ? classes[name] : `[${classes[name]}]`;
      i += name.length - 1;
    } else if (rest.startsWith("\\S")) {
      if (inClass) throw new Error("\\S inside a class is not handled");
      out += `[^${classes["\\s"]}]`;
      i += 1;
    } else if (pattern[i] === "\\") {
      out += pattern.slice(i, i + 2);
      i += 1;
    } else {
      if (pattern[i] === "[") inClass = true;
      if (pattern[i] === "]") inClass = false;
      out += pattern[i];
    }
  }
  return out;
}

function pythonSplits(pattern: string, texts: string[]): string[][] {
  const script = [
    "import json, re, sys",
    "data = json.load(sys.stdin)",
    "regex = re.compile(data['pattern'])",
    "json.dump([regex.findall(t) for t in data['texts']], sys.stdout)",
  ].join("\n");
  const result = spawnSync("/usr/bin/python3", ["-c", script], {
    input: JSON.stringify({ pattern: pythonPattern(pattern), texts }),
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  if (result.status !== 0) throw new Error(`python failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as string[][];
}

const ADVERSARIAL = [
  "I'm sure it's fine, we'll see; they've said you'd go, we're done, don't.",
  "I'M SURE IT'S FINE, WE'LL SEE; THEY'VE SAID YOU'D GO, WE'RE DONE, DON'T.",
  "mixed 'lL 'Ll 'rE 'Re 'vE 'Ve 'S 'D 'M 'T 'x 'ſ 'ſt ''s '", // long s folds to s in (?i:)
  "’s curly 's straight",
  "1234567890 12 123 1234 ٣٤٥٦ ²³ Ⅻ 𝟘𝟙𝟚𝟛 3.14159 -42 1e10 0x1F",
  "56873+3184623=123456789-1000000000",
  "Ünïcödé façade naïve 中文字符 日本語のテキスト 한국어 Ελληνικά русский עברית العربية",
  "e\u0301 combining, ﬁ ligature, ǅ titlecase, ʰ modifier",
  "emoji 😀👍🏽👨‍👩‍👧 !!! ??? ... ---",
  "spaces    between   words\t\ttabs \t mixed\u00a0nbsp\u3000ideographic",
  "trailing spaces   \nnewlines\n\n\nand\r\nwindows\r\n\r\n  \n  indented\n\tcode();",
  "    def f(x):\n        return x  # comment\n\n",
  "\u0085next line\u0085 \u0085x \ufeffbom \ufeff",
  "\u2028\u2029 line seps \u000b\u000c vt ff \u200b zwsp \u00ad shy",
  "",
  " ",
  "\n",
  "a",
];

const PIECES = [
  "a", "Z", "hello", "World", "é", "ß", "ſ", "ж", "中", "ﬁ", "ǅ", "ʰ", "\u0301",
  "0", "7", "123", "4567", "²", "Ⅻ", "٣", "𝟘",
  "'", "'s", "'S", "'ll", "'LL", "'lL", "'ve", "'VE", "'re", "'Re", "'d", "'D", "'m", "'t", "'T", "'ſ", "’s",
  " ", "  ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u3000", "\u2028", "\u0085", "\ufeff", "\u000b", "\u000c", "\u200b",
  "!", "?!", "...", "-", "(", ")", "$", "😀", "👍🏽", "\u0000", "\u007f", "€", "<|", "|>",
];

function randomText(rng: Rng, pieces: readonly string[] = PIECES, maxPieces = 24): string {
  let text = "";
  const n = rng.randint(1, maxPieces + 1);
  for (let i = 0; i < n; i++) text += pieces[rng.randint(0, pieces.length)];
  return text;
}

describe.each([
  ["GPT-2", GPT2_SPLIT_PATTERN, GPT2_SPLIT_PATTERN_JS],
  ["GPT-4", GPT4_SPLIT_PATTERN, GPT4_SPLIT_PATTERN_JS],
])("%s split pattern", (_name, published, js) => {
  const rng = new Rng(8);
  const randomTexts = Array.from({ length: 3000 }, () => randomText(rng));
  const texts = [...ADVERSARIAL, ...randomTexts];
  const expected = pythonSplits(published, texts);

  it("splits adversarial text like the published pattern", () => {
    const regex = new RegExp(js, "gu");
    ADVERSARIAL.forEach((text, i) => expect(splitText(regex, text), JSON.stringify(text)).toEqual(expected[i]));
  });

  it("splits 3000 random strings like the published pattern", () => {
    const regex = compileSplitPattern(published);
    let mismatches = 0;
    texts.forEach((text, i) => {
      if (JSON.stringify(splitText(regex, text)) !== JSON.stringify(expected[i])) mismatches++;
    });
    expect(mismatches).toBe(0);
  });

  it("the chunks always concatenate back to the text", () => {
    const regex = compileSplitPattern(published);
    for (const text of texts) expect(splitText(regex, text).join("")).toBe(text);
  });
});

describe("what the JS spelling fixes", () => {
  it("a naive port (JS \\s, no long s) splits differently from the published pattern", () => {
    const naive = new RegExp(GPT4_SPLIT_PATTERN_JS.replace(/\\p\{White_Space\}/g, "\\s").replace(/\\P\{White_Space\}/g, "\\S").replace("ſ", ""), "gu");
    const texts = ["x \u0085y", "a \ufeffb", "it'ſt"];
    const expected = pythonSplits(GPT4_SPLIT_PATTERN, texts);
    texts.forEach((text, i) => {
      expect(splitText(compileSplitPattern(GPT4_SPLIT_PATTERN), text)).toEqual(expected[i]);
      expect(splitText(naive, text)).not.toEqual(expected[i]);
    });
    expect(expected).toEqual([["x", " ", "\u0085y"], ["a", " \ufeff", "b"], ["it", "'ſ", "t"]]);
  });

  it("rejects a published pattern that JavaScript cannot run unless it is a known one", () => {
    expect(() => compileSplitPattern(String.raw`(?i:ab)++`)).toThrow(/not a valid JavaScript regex/);
    expect(compileSplitPattern(GPT4_SPLIT_PATTERN).source).toBe(GPT4_SPLIT_PATTERN_JS);
  });
});
