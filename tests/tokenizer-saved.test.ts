// loadSavedTokenizer reads every tokenizer npm run train writes: a tiktoken reference (GPT-2 runs,
// whose byte order minbpe's .model cannot hold) and minbpe/char .model files.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CharTokenizer, loadSavedTokenizer, saveTiktokenReference } from "../lib/tokenizers/index.js";

const dir = () => mkdtempSync(join(tmpdir(), "tok-"));

describe("loadSavedTokenizer", () => {
  it("rebuilds GPT-2's encoding from a tiktoken reference", async () => {
    const prefix = join(dir(), "tokenizer");
    saveTiktokenReference(prefix, "gpt2");
    const tokenizer = await loadSavedTokenizer(`${prefix}.model`);
    expect(tokenizer.encode("hello world")).toEqual([31373, 995]); // tiktoken's gpt2 ids
    expect(tokenizer.vocabSize).toBe(50257);
  });

  it("names the line of an unknown encoding", async () => {
    const file = join(dir(), "tokenizer.model");
    writeFileSync(file, "tiktoken v1\ngpt5\n");
    await expect(loadSavedTokenizer(file)).rejects.toThrow(`line 2 of ${file}: unknown tiktoken encoding "gpt5"`);
  });

  it("still reads character tokenizers", async () => {
    const prefix = join(dir(), "tokenizer");
    CharTokenizer.fromText("hello").save(prefix);
    const tokenizer = await loadSavedTokenizer(prefix);
    expect(tokenizer.decode(tokenizer.encode("hole"))).toBe("hole");
  });
});
