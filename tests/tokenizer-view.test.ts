import { describe, expect, it } from "vitest";
import {
  BasicTokenizer,
  CharTokenizer,
  compareTokenizers,
  compareTokenizersHtml,
  loadTiktokenEncoding,
  tokenRows,
  tokensHtml,
  tokensText,
} from "../lib/tokenizers/index.js";

describe("token views", () => {
  it("colours each token and shows its id and bytes on hover", async () => {
    const gpt2 = await loadTiktokenEncoding("gpt2");
    const html = tokensHtml(gpt2, "Hello world<|endoftext|>\n");
    expect(html.match(/<span /g)).toHaveLength(4);
    expect(html).toContain('title="id 15496 · bytes 48 65 6c 6c 6f"');
    expect(html).toContain('title="id 50256');
    expect(html).toContain("&lt;|endoftext|&gt;");
    expect(html).toContain("↵\n");
    expect(tokensText(gpt2, " Michael michael")).toBe("[ Michael][ m][ichael]"); // js-tiktoken: [3899, 285, 40302]
  });

  it("shows the bytes of a token that is part of a character", () => {
    const bytes = new BasicTokenizer();
    expect(tokensText(bytes, "é")).toBe("[⟨c3⟩][⟨a9⟩]");
    expect(tokenRows(bytes, "é")).toEqual([
      { position: 0, id: 0xc3, token: '"⟨c3⟩"', bytes: "c3", length: 1 },
      { position: 1, id: 0xa9, token: '"⟨a9⟩"', bytes: "a9", length: 1 },
    ]);
  });

  it("compares token counts and bytes per token", async () => {
    const text = "The quick brown fox 🦊 jumps.";
    const tokenizers = {
      chars: CharTokenizer.fromText(text),
      bytes: new BasicTokenizer(),
      gpt2: await loadTiktokenEncoding("gpt2"),
      gpt4: await loadTiktokenEncoding("cl100k_base"),
    };
    const rows = compareTokenizers(text, tokenizers);
    expect(rows.map((r) => r.tokens)).toEqual([
      Array.from(text).length,
      new TextEncoder().encode(text).length,
      tokenizers.gpt2.encode(text).length,
      tokenizers.gpt4.encode(text).length,
    ]);
    expect(rows[1].bytesPerToken).toBe(1);
    expect(rows[2].tokens).toBeLessThan(rows[1].tokens);
    expect(compareTokenizersHtml(text, tokenizers)).toContain("<b>gpt4</b>: ");
  });
});
