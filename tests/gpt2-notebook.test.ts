// The 09-gpt2 notebook: the lecture's steps stay written in its cells (ahead of the library calls
// that repeat them), it never downloads GPT-2 unless told to, and every cell runs on every backend.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

interface Cell {
  cell_type: "code" | "markdown";
  source: string[];
  outputs?: unknown[];
}

const notebook = JSON.parse(readFileSync("notebooks/09-gpt2/gpt2.ipynb", "utf8")) as { cells: Cell[] };
const codeCells = notebook.cells.filter((c) => c.cell_type === "code").map((c) => c.source.join(""));
const code = codeCells.join("\n");
const prose = notebook.cells.filter((c) => c.cell_type === "markdown").map((c) => c.source.join("")).join("\n");

/** The lecture's steps, in the order the notebook writes them. */
const LECTURE_CORE = [
  'gpt2.encode(quote)', // "A day without laughter is a day" → ids
  "toStrTokens(gpt2, text)", // the tokenizer quirks, TransformerLens-style
  'hasPretrainedWeights("gpt2")', // GPT-2 if cached, else the stand-in
  "moduleTree(model.params)", // the module tree
  "toTokens(gpt2, transformerText)", // tokens with <|endoftext|> first
  "tf.softmax(logits)", // logits → probabilities
  "tf.argMax(logits, -1)", // the most likely next token per position
  "const nextTokens = [...tokens, nextToken]", // append the argmax and run again
  "tf.topk(p, topK ?? 1)", // the sampling loop: greedy or top-k
  "rng.categorical(p[b])", // one draw per row
  "generateBatch(model", // the library's batched, cached generation
  'gpt2.encode("Hello, I am an language model, I have a total of 124M")', // the causality check
  'PRESETS["gpt2-shakespeare"]', // build-nanogpt's recipe
  "evaluateHellaSwag(", // HellaSwag
];

describe("notebooks/09-gpt2", () => {
  it("prints the profile banner before anything else", () => {
    const first = codeCells[0];
    expect(first).toContain("console.log(profileBanner());");
    expect(first.indexOf("profileBanner()")).toBeLessThan(first.indexOf("await useBackend("));
  });

  it("writes the lecture's steps in order", () => {
    const positions = LECTURE_CORE.map((snippet) => code.indexOf(snippet));
    LECTURE_CORE.forEach((snippet, i) => expect(positions[i], snippet).toBeGreaterThan(-1));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });

  it("downloads GPT-2 only when the learner sets download to true", () => {
    expect(code).toContain("const download = false;");
    expect(code).toContain('GPT.fromPretrained("gpt2", { offline: !download })');
  });

  it("has no cell left as a TODO", () => {
    expect(`${code}\n${prose}`).not.toMatch(/TODO/);
  });

  it("reads tensors asynchronously (WebGPU has no synchronous reads under Node)", () => {
    expect(code).not.toMatch(/\b(arraySync|dataSync)\(/);
  });

  it("is stored without outputs (the runner writes executed copies to out/notebooks)", () => {
    for (const cell of notebook.cells) if (cell.cell_type === "code") expect(cell.outputs).toEqual([]);
  });
});
