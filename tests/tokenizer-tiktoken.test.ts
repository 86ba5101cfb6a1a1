// Our GPT-2 and GPT-4 encoders (merges recovered from js-tiktoken's ranks, our own merge loop)
// against js-tiktoken's encoder: same ids on real text, code, emoji, CJK and random strings.
import { readFileSync } from "node:fs";
import { getEncoding, type Tiktoken } from "js-tiktoken";
import { beforeAll, describe, expect, it } from "vitest";
import { loadTiktokenEncoding, type RegexTokenizer, utf8Encode, concatBytes } from "../lib/tokenizers/index.js";
import { loadText } from "../lib/data/index.js";
import { Rng } from "../lib/util/random.js";

// U+0085, U+FEFF and "'ſ" are left out: js-tiktoken's JS pattern splits them unlike tiktoken (see below).
const PIECES = [
  "a", "Z", "hello", "World", " the", " The", "é", "ß", "ж", "中", "日本語", "한국어", "ﬁ", "ǅ", "ʰ", "\u0301",
  "0", "7", "123", "4567", "²", "Ⅻ", "٣", "𝟘",
  "'", "'s", "'S", "'ll", "'LL", "'lL", "'ve", "'VE", "'re", "'Re", "'d", "'D", "'m", "'t", "'T", "’s",
  " ", "  ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u3000", "\u2028", "\u000b", "\u000c", "\u200b",
  "!", "?!", "...", "-", "(", ")", "$", "😀", "👍🏽", "👨‍👩‍👧", "\u0000", "\u007f", "€", "<|", "|>", "\ud800", "\udfff",
];

function randomText(rng: Rng): string {
  let text = "";
  const n = rng.randint(1, 25);
  for (let i = 0; i < n; i++) text += PIECES[rng.randint(0, PIECES.length)];
  return text;
}

const CODE = `import numpy as np\n\ndef softmax(x: np.ndarray) -> np.ndarray:\n    """Numerically stable."""\n    e = np.exp(x - x.max(axis=-1, keepdims=True))\n    return e / e.sum(axis=-1, keepdims=True)\n\nfor (let i = 0; i < n; i++) { console.log(\`\${i}\`); }\n\t\t// tabs\n    \n`;
const EMOJI = "🎉🎉 party 👍🏽👍🏿 family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 ❤️ ☕ 🤖 text😀😀😀";
const CJK = "我爱自然语言处理。今日は良い天気ですね！안녕하세요, 세계. 中文，日本語、한국어混合text 123。";

const references = new Map<string, Tiktoken>();
/** js-tiktoken's encoder, built once per file (building one takes a second or two). */
function tiktoken(name: "gpt2" | "cl100k_base"): Tiktoken {
  if (!references.has(name)) references.set(name, getEncoding(name));
  return references.get(name)!;
}

const ENCODINGS = [
  ["gpt2", "gpt2"],
  ["cl100k_base", "cl100k_base"],
] as const;

describe.each(ENCODINGS)("%s", (name) => {
  let ours: RegexTokenizer;
  let reference: Tiktoken;
  beforeAll(async () => {
    ours = await loadTiktokenEncoding(name);
    reference = tiktoken(name);
  });

  it.each(["taylorswift", "tinyshakespeare"])("gives js-tiktoken's ids on %s.txt", async (dataset) => {
    const text = await loadText(dataset);
    const ids = ours.encode(text);
    expect(ids.length).toBeGreaterThan(40_000);
    expect(ids).toEqual(reference.encode(text));
    expect(ours.decode(ids)).toBe(text);
  });

  it.each([
    ["code", CODE],
    ["emoji", EMOJI],
    ["CJK", CJK],
  ])("gives js-tiktoken's ids on %s", (_kind, text) => {
    expect(ours.encode(text)).toEqual(reference.encode(text));
    expect(ours.decode(ours.encode(text))).toBe(text);
  });

  it("gives js-tiktoken's ids on 10,000 random strings (seeded)", () => {
    const rng = new Rng(2024);
    const failures: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const text = randomText(rng);
      const ids = ours.encode(text);
      if (JSON.stringify(ids) !== JSON.stringify(reference.encode(text))) failures.push(JSON.stringify(text));
    }
    expect(failures.slice(0, 5)).toEqual([]);
  });

  it("encodes every token of the vocabulary to itself through the recovered merges", () => {
    // So tiktoken's shortcut (a chunk that is a whole token maps straight to it) changes nothing.
    let failures = 0;
    for (let id = 0; id < 256 + ours.merges.length; id++) {
      const bytes = ours.tokenBytes(id);
      const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
      if (utf8Encode(text).length !== bytes.length || text.includes("\ufffd")) continue; // partial UTF-8
      const chunks = ours.split(text);
      if (chunks.length !== 1) continue; // the pattern never produces this token as one chunk
      if (JSON.stringify(ours.encodeOrdinary(text)) !== JSON.stringify([id])) failures++;
    }
    expect(failures).toBe(0);
  });

  it("decodeTokenBytes gives back the exact UTF-8 bytes", () => {
    const text = CODE + EMOJI + CJK;
    expect(concatBytes(ours.decodeTokenBytes(ours.encode(text)))).toEqual(utf8Encode(text));
  });

  it("numbers tokens like tiktoken (vocabulary size, single-byte ids out of byte order)", () => {
    expect(ours.vocabSize).toBe(name === "gpt2" ? 50257 : 100277);
    expect(ours.bytesInOrder).toBe(false);
    expect(ours.encode("!")).toEqual([0]); // tiktoken's rank 0 is "!" (byte 33) in both encodings
    expect(() => ours.toModelText()).toThrow(/minbpe/);
  });
});

describe("lone surrogates and invalid UTF-8", () => {
  it("encodes a lone surrogate as U+FFFD, like js-tiktoken (and tiktoken for a Python str)", async () => {
    const gpt4 = await loadTiktokenEncoding("cl100k_base");
    const text = "a\ud800b\udfffc 😀\ud83d";
    expect(gpt4.encode(text)).toEqual(gpt4.encode("a\ufffdb\ufffdc 😀\ufffd"));
    expect(gpt4.encode(text)).toEqual(tiktoken("cl100k_base").encode(text));
    expect(gpt4.decode(gpt4.encode(text))).toBe("a\ufffdb\ufffdc 😀\ufffd");
  });

  it("decodes a token that is half of a character to U+FFFD, the whole sequence to the character", async () => {
    const gpt2 = await loadTiktokenEncoding("gpt2");
    const ids = gpt2.encode("😀");
    expect(ids.length).toBeGreaterThan(1);
    expect(gpt2.decode(ids.slice(0, 1))).toContain("\ufffd");
    expect(gpt2.decode(ids)).toBe("😀");
    expect(concatBytes(gpt2.decodeTokenBytes(ids))).toEqual(Uint8Array.of(0xf0, 0x9f, 0x98, 0x80));
  });
});

describe("special tokens behave like tiktoken's", () => {
  const specials = [
    "<|endoftext|>Hello world this is one document",
    "<|endoftext|>And this is another document",
    "<|endoftext|><|fim_prefix|>And this one has<|fim_suffix|> tokens.<|fim_middle|> FIM",
    "<|endoftext|>Last document!!! 👋<|endofprompt|>",
  ].join("\n");

  it.each(ENCODINGS)("%s: \"all\", \"none\", \"none_raise\" and sets", async (name) => {
    const ours = await loadTiktokenEncoding(name);
    const reference = tiktoken(name);
    expect(ours.encode(specials, { allowedSpecial: "all" })).toEqual(reference.encode(specials, "all"));
    expect(ours.encode(specials, { allowedSpecial: "none" })).toEqual(reference.encode(specials, [], []));
    expect(() => reference.encode(specials)).toThrow();
    expect(() => ours.encode(specials)).toThrow(/special token/);
    const eotOnly = "one<|endoftext|>two<|endoftext|";
    expect(ours.encode(eotOnly, { allowedSpecial: new Set(["<|endoftext|>"]) })).toEqual(
      reference.encode(eotOnly, ["<|endoftext|>"]),
    );
    expect(ours.encode("<|endoftext|>", { allowedSpecial: "all" })).toEqual([name === "gpt2" ? 50256 : 100257]);
    expect(ours.decode(ours.encode(specials, { allowedSpecial: "all" }))).toBe(specials);
  });

  it("cl100k: allowing only some specials raises on the others, as tiktoken does", async () => {
    const ours = await loadTiktokenEncoding("cl100k_base");
    const reference = tiktoken("cl100k_base");
    expect(() => reference.encode(specials, ["<|endoftext|>"])).toThrow();
    expect(() => ours.encode(specials, { allowedSpecial: ["<|endoftext|>"] })).toThrow(/<\|fim_prefix\|>/);
    const fim = "<|fim_prefix|>def f(<|fim_suffix|>)<|fim_middle|>x";
    const allowed = ["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"];
    expect(ours.encode(fim, { allowedSpecial: allowed })).toEqual(reference.encode(fim, allowed));
    expect(ours.encode(fim, { allowedSpecial: allowed }).slice(0, 1)).toEqual([100258]);
  });
});

describe("where js-tiktoken's JS pattern departs from tiktoken", () => {
  it("U+0085 and U+FEFF are split as Unicode White_Space says (tiktoken's Rust regex), not as JS \\s", async () => {
    const ours = await loadTiktokenEncoding("cl100k_base");
    const reference = tiktoken("cl100k_base");
    expect(ours.encode("hello \u0085world")).toEqual([15339, 220, 126, 227, 14957]);
    expect(reference.encode("hello \u0085world")).toEqual([15339, 2188, 227, 14957]);
    expect(ours.encode("hello \ufeffworld")).toEqual([15339, 76880, 14957]);
    expect(reference.encode("hello \ufeffworld")).toEqual([15339, 220, 3305, 14957]);
    // "'ſ" is a contraction under (?i:...) case folding; its ids happen to agree here.
    expect(ours.split("it'ſt")).toEqual(["it", "'ſ", "t"]);
    // The chunks themselves are checked against the published pattern in tokenizer-patterns.test.ts.
  });
});

describe("the merges recovered from the ranks", () => {
  it("rebuild GPT-2's first merges as in its merges.txt (Ġ t, Ġ a, h e)", async () => {
    const gpt2 = await loadTiktokenEncoding("gpt2");
    const piece = (id: number) => new TextDecoder().decode(gpt2.tokenBytes(id));
    expect(gpt2.merges.slice(0, 3).map(([a, b]) => [piece(a), piece(b)])).toEqual([
      [" ", "t"],
      [" ", "a"],
      ["h", "e"],
    ]);
  });

  it("are read from the shipped file without js-tiktoken's encoder", () => {
    const source = readFileSync("lib/tokenizers/tiktoken.ts", "utf8");
    expect(source).not.toMatch(/from "js-tiktoken"/);
  });
});
