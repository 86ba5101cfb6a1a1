// The 01-bigram notebook teaches the lecture by writing it out: these checks keep its core in the
// notebook's own cells (ahead of the library that replaces them) and its cells runnable on every backend.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

interface Cell {
  cell_type: "code" | "markdown";
  source: string[];
  outputs?: unknown[];
}

const notebook = JSON.parse(readFileSync("notebooks/01-bigram/bigram.ipynb", "utf8")) as { cells: Cell[] };
const codeCells = notebook.cells.filter((c) => c.cell_type === "code").map((c) => c.source.join(""));
const code = codeCells.join("\n");

/** The lecture's steps, in the order the notebook writes them by hand. */
const LECTURE_CORE = [
  "N[ix1][ix2] += 1", // the counting loop
  "tf.sum(counts, 1, true)", // row sums as a 27×1 column: broadcasting
  "tf.sum(counts, 1);", // the [27] shape that broadcasts the wrong way
  "g.categorical(PRows[ix])", // sampling from the counts
  "Math.log(probs[stoi[chs[i]]][stoi[chs[i + 1]]])", // the log-likelihood
  "tf.oneHot(", // one-hot inputs
  "tf.matMul(xenc", // logits = xenc @ W
  "tf.exp(logits)", // counts = logits.exp()
  "tf.gather(tf.reshape(probs, [-1]), picks)", // probs[arange(n), ys]
  "tf.mean(tf.square(W))", // the regularisation term
  "tf.valueAndGrad(", // the backward pass
  "W.assign(tf.add(W, tf.mul(-50, grad)))", // W += -50 * grad
];

describe("notebooks/01-bigram", () => {
  it("prints the profile banner before anything else", () => {
    const first = codeCells[0];
    expect(first).toContain("console.log(profileBanner());");
    expect(first.indexOf("profileBanner()")).toBeLessThan(first.indexOf("console.log(describeEngine"));
  });

  it("writes the lecture's core in its own cells, in order, before the library's versions", () => {
    const positions = LECTURE_CORE.map((snippet) => code.indexOf(snippet));
    LECTURE_CORE.forEach((snippet, i) => expect(positions[i], snippet).toBeGreaterThan(-1));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    const library = Math.min(code.indexOf("BigramCounts.fromWords"), code.indexOf("new NeuralBigram"));
    expect(library).toBeGreaterThan(positions[positions.length - 1]);
  });

  it("trains for a number of steps set by the profile", () => {
    expect(code).toMatch(/const steps = byProfile\(\{ ci: \d+, full: \d+ \}\)/);
  });

  it("reads tensors asynchronously (WebGPU has no synchronous reads under Node)", () => {
    expect(code).not.toMatch(/\b(arraySync|dataSync)\(/);
  });

  it("is stored without outputs (the runner writes executed copies to out/notebooks)", () => {
    for (const cell of notebook.cells) if (cell.cell_type === "code") expect(cell.outputs).toEqual([]);
  });
});
