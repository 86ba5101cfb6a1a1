import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CharTokenizer, loadTokenizer } from "../lib/tokenizers/index.js";
import { loadText } from "../lib/data/index.js";

describe("CharTokenizer", () => {
  it("lecture 7: tinyshakespeare has 65 characters and 'hii there' is [46, 47, 47, 1, 58, 46, 43, 56, 43]", async () => {
    const text = await loadText("tinyshakespeare");
    const tokenizer = CharTokenizer.fromText(text);
    expect(tokenizer.vocabSize).toBe(65);
    expect(tokenizer.chars.join("")).toBe("\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
    expect(tokenizer.encode("hii there")).toEqual([46, 47, 47, 1, 58, 46, 43, 56, 43]);
    expect(tokenizer.decode(tokenizer.encode(text.slice(0, 1000)))).toBe(text.slice(0, 1000));
  });

  it("lecture 2: names with '.' reserved as id 0, then a..z as 1..26", async () => {
    const names = (await loadText("names")).split("\n").filter(Boolean);
    const tokenizer = CharTokenizer.fromText(names.join(""), { reserved: ["."] });
    expect(tokenizer.vocabSize).toBe(27);
    expect(tokenizer.encode(".emma.")).toEqual([0, 5, 13, 13, 1, 0]);
  });

  it("sorts by code point like Python's sorted(set(text)), not by UTF-16 unit", () => {
    const tokenizer = CharTokenizer.fromText("😀！a😀");
    expect(tokenizer.chars).toEqual(["a", "！", "😀"]);
    expect(tokenizer.encode("😀a")).toEqual([2, 0]);
    expect(tokenizer.decodeTokenBytes([2])[0]).toEqual(Uint8Array.of(0xf0, 0x9f, 0x98, 0x80));
  });

  it("names the character it cannot encode and the id it cannot decode", () => {
    const tokenizer = CharTokenizer.fromText("abc");
    expect(() => tokenizer.encode("abd")).toThrow(/"d" \(U\+64\)/);
    expect(() => tokenizer.decode([3])).toThrow(/Invalid token id 3/);
  });

  it("saves and loads", () => {
    const dir = mkdtempSync(join(tmpdir(), "chars-"));
    try {
      const tokenizer = CharTokenizer.fromText("hello\n wörld 😀");
      tokenizer.save(join(dir, "chars"));
      const loaded = loadTokenizer(join(dir, "chars"));
      expect(loaded).toBeInstanceOf(CharTokenizer);
      expect((loaded as CharTokenizer).chars).toEqual(tokenizer.chars);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
