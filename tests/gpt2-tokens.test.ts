// TransformerLens-style helpers on the GPT-2 tokenizer. Expected ids are written out by hand from
// tiktoken's output as seeds 002/003 print it (TransformerLens prepends <|endoftext|> = 50256);
// js-tiktoken's decoder is the independent reference for per-token strings.
import { getEncoding } from "js-tiktoken";
import { beforeAll, describe, expect, it } from "vitest";
import { bosToken, toSingleToken, toStrTokens, toString, toTokens } from "../lib/interp/index.js";
import { CharTokenizer, loadTiktokenEncoding, type RegexTokenizer } from "../lib/tokenizers/index.js";
import { Rng } from "../lib/util/random.js";

let gpt2: RegexTokenizer;
beforeAll(async () => {
  gpt2 = await loadTiktokenEncoding("gpt2");
});

const TRANSFORMER = "I am an autoregressive, decoder-only, GPT-2 style transformer.";

describe("toTokens", () => {
  it("prepends <|endoftext|> (50256) by default, as TransformerLens", () => {
    expect(toTokens(gpt2, "A day without laughter is a day")).toEqual([50256, 32, 1110, 1231, 20263, 318, 257, 1110]);
    expect(toTokens(gpt2, TRANSFORMER)).toEqual([
      50256, 40, 716, 281, 1960, 382, 19741, 11, 875, 12342, 12, 8807, 11, 402, 11571, 12, 17, 3918, 47385, 13,
    ]);
  });

  it("leaves the BOS out with prependBos: false", () => {
    expect(toTokens(gpt2, "A day without laughter is a day", { prependBos: false })).toEqual([32, 1110, 1231, 20263, 318, 257, 1110]);
    expect(toTokens(gpt2, "", { prependBos: false })).toEqual([]);
    expect(toTokens(gpt2, "")).toEqual([50256]);
  });

  it("encodes <|endoftext|> written in the text as the special token unless told otherwise", () => {
    expect(toTokens(gpt2, "<|endoftext|>", { prependBos: false })).toEqual([50256]);
    expect(toTokens(gpt2, "a<|endoftext|>b")).toEqual([50256, 64, 50256, 65]);
    const asText = toTokens(gpt2, "<|endoftext|>", { prependBos: false, allowedSpecial: "none" });
    expect(asText).toEqual(gpt2.encodeOrdinary("<|endoftext|>"));
    expect(asText.length).toBeGreaterThan(1);
    expect(() => toTokens(gpt2, "<|endoftext|>", { allowedSpecial: "none_raise" })).toThrow(/special token <\|endoftext\|>/);
  });

  it("takes another BOS id, and checks it", () => {
    expect(toTokens(gpt2, "Hello", { bos: 0 })).toEqual([0, 15496]);
    expect(() => toTokens(gpt2, "Hello", { bos: 50257 })).toThrow("bos must be a token id in [0, 50257), got 50257");
    expect(() => toTokens(gpt2, "Hello", { bos: 1.5 })).toThrow(RangeError);
  });

  it("names the fix when the tokenizer has no <|endoftext|>", () => {
    const chars = CharTokenizer.fromText("hello world");
    expect(() => toTokens(chars, "hello")).toThrow("This tokenizer has no <|endoftext|> token to prepend: pass { prependBos: false } or { bos: <id> }");
    expect(toTokens(chars, "hello", { prependBos: false })).toEqual(chars.encode("hello"));
    expect(toTokens(chars, "hello", { bos: 0 })).toEqual([0, ...chars.encode("hello")]);
    expect(bosToken(gpt2)).toBe(50256);
  });
});

describe("toStrTokens", () => {
  it("shows seed 003's tokenizer quirks: capitals and leading spaces change the tokens", () => {
    expect(toStrTokens(gpt2, "Butterfly")).toEqual(["<|endoftext|>", "But", "ter", "fly"]);
    expect(toStrTokens(gpt2, " Butterfly")).toEqual(["<|endoftext|>", " Butterfly"]);
    expect(toStrTokens(gpt2, " butterfly")).toEqual(["<|endoftext|>", " butterfly"]);
    expect(toStrTokens(gpt2, "butterfly")).toEqual(["<|endoftext|>", "but", "ter", "fly"]);
    expect(toStrTokens(gpt2, "1234+5678=12345678")).toEqual(["<|endoftext|>", "12", "34", "+", "5", "678", "=", "123", "45", "678"]);
  });

  it("takes ids as well as text, and agrees with js-tiktoken's decoder token by token", () => {
    const ids = toTokens(gpt2, TRANSFORMER);
    const strings = toStrTokens(gpt2, ids);
    expect(strings.slice(0, 5)).toEqual(["<|endoftext|>", "I", " am", " an", " aut"]);
    expect(toStrTokens(gpt2, Int32Array.from(ids))).toEqual(strings);
    const reference = getEncoding("gpt2");
    expect(strings).toEqual(ids.map((id) => reference.decode([id])));
  });

  it("shows U+FFFD for a token that is part of a character", () => {
    expect(toStrTokens(gpt2, "😀", { prependBos: false })).toEqual(["\ufffd", "\ufffd"]);
  });
});

describe("toString", () => {
  it("decodes a list of ids, and a batch of lists to one string each", () => {
    expect(toString(gpt2, [50256, 40, 716, 281])).toBe("<|endoftext|>I am an");
    expect(toString(gpt2, [[15496], [314, 423]])).toEqual(["Hello", " I have"]);
    expect(toString(gpt2, Uint16Array.of(32, 1110))).toBe("A day");
    expect(toString(gpt2, [])).toBe("");
  });

  it("undoes toTokens (without the BOS)", () => {
    const text = "If computers were one day exceeded human level intelligence,";
    expect(toString(gpt2, toTokens(gpt2, text, { prependBos: false }))).toBe(text);
  });
});

describe("toSingleToken", () => {
  it("gives the id of a one-token string", () => {
    expect(toSingleToken(gpt2, " I")).toBe(314);
    expect(toSingleToken(gpt2, " have")).toBe(423);
    expect(toSingleToken(gpt2, " Michael")).toBe(3899);
    expect(toSingleToken(gpt2, "Michael")).toBe(13256);
    expect(toSingleToken(gpt2, "<|endoftext|>")).toBe(50256);
  });

  it("throws for text of several tokens, naming them, and for empty text", () => {
    expect(() => toSingleToken(gpt2, "Butterfly")).toThrow('toSingleToken: "Butterfly" is 3 tokens, not one ("But", "ter", "fly")');
    expect(() => toSingleToken(gpt2, " michael")).toThrow(/is 2 tokens/);
    expect(() => toSingleToken(gpt2, "")).toThrow('toSingleToken: "" is 0 tokens, not one');
  });
});

describe("on random text", () => {
  const PIECES = ["Hello", " world", ",", " I", " am", "<|endoftext|>", "\n", "  ", "123", "4567", "+", "é", "中文", "😀", " Butterfly", "'s", "\t"];

  it("toTokens is js-tiktoken's encoding with special tokens allowed, after the BOS; toString undoes it (500 texts)", () => {
    const reference = getEncoding("gpt2");
    const rng = new Rng(14);
    for (let n = 0; n < 500; n++) {
      let text = "";
      for (let i = rng.randint(0, 12); i > 0; i--) text += PIECES[rng.randint(0, PIECES.length)];
      const ids = toTokens(gpt2, text);
      expect(ids[0]).toBe(50256);
      expect(ids.slice(1)).toEqual(reference.encode(text, "all"));
      expect(toString(gpt2, ids.slice(1))).toBe(text);
      expect(toStrTokens(gpt2, text)).toEqual(ids.map((id) => reference.decode([id])));
    }
  });
});
