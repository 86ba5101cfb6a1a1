import { spawnSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { loadText } from "../lib/data/index.js";
import { tf, useBackend } from "../lib/engine/index.js";
import {
  bigramBatch,
  bigramHeatmap,
  bigramPairs,
  BigramCounts,
  CharVocab,
  maxAbsDifference,
  NeuralBigram,
  splitWords,
} from "../lib/models/bigram/index.js";
import { Rng } from "../lib/util/random.js";

/**
 * Independent reference: numpy counts and float64 NLLs, and PyTorch running the
 * lecture's training loop (one-hot @ W, softmax, lr 50) from the same initial W.
 */
const REFERENCE = String.raw`
import json, sys
import numpy as np, torch
import torch.nn.functional as F
job = json.load(sys.stdin)
words = open(job["names"]).read().splitlines()
chars = sorted(set("".join(words)))
stoi = {c: i + 1 for i, c in enumerate(chars)}; stoi["."] = 0
N = np.zeros((27, 27), dtype=np.int64)
xs, ys = [], []
for w in words:
    cs = ["."] + list(w) + ["."]
    for a, b in zip(cs, cs[1:]):
        N[stoi[a], stoi[b]] += 1
        xs.append(stoi[a]); ys.append(stoi[b])
def nll(k):
    P = (N + k) / (N + k).sum(1, keepdims=True)
    seen = N > 0
    return float(-(N[seen] * np.log(P[seen])).sum() / N.sum())
out = {"names": len(words), "counts": N.tolist(), "nll": nll(0), "nllSmoothed": nll(1), "train": []}
for run in job["train"]:
    sub_x = torch.tensor(xs[: run["bigrams"]]); sub_y = torch.tensor(ys[: run["bigrams"]])
    xenc = F.one_hot(sub_x, 27).float()
    W = torch.tensor(run["w0"], dtype=torch.float32).reshape(27, 27).requires_grad_()
    losses = []
    for _ in range(run["steps"]):
        probs = (xenc @ W).softmax(1)
        loss = -probs[torch.arange(len(sub_y)), sub_y].log().mean() + run["reg"] * (W ** 2).mean()
        losses.append(loss.item())
        W.grad = None; loss.backward()
        W.data += -50 * W.grad
    out["train"].append(losses)
print(json.dumps(out))
`;

interface Reference {
  names: number;
  counts: number[][];
  nll: number;
  nllSmoothed: number;
  train: number[][];
}

const SUBSET_NAMES = 2000;
const REFERENCE_STEPS = 15;

let words: string[];
let model: BigramCounts;
let reference: Reference;
let w0: number[];
let subsetBigrams: number;

beforeAll(async () => {
  await useBackend("cpu");
  words = splitWords(await loadText("names"));
  model = BigramCounts.fromWords(words);
  const subset = words.slice(0, SUBSET_NAMES);
  subsetBigrams = bigramPairs(subset, model.vocab).xs.length;
  const probe = new NeuralBigram(model.vocab);
  w0 = Array.from(await probe.W.data());
  probe.dispose();
  const job = {
    names: "data/names.txt",
    train: [0, 0.01].map((reg) => ({ bigrams: subsetBigrams, steps: REFERENCE_STEPS, reg, w0 })),
  };
  const result = spawnSync("/usr/bin/python3", ["-c", REFERENCE], {
    input: JSON.stringify(job),
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  if (result.status !== 0) throw new Error(`python reference failed: ${result.stderr}`);
  reference = JSON.parse(result.stdout) as Reference;
});

describe("CharVocab", () => {
  it("puts '.' at 0 and a..z at 1..26 for names.txt", () => {
    expect(model.vocab.size).toBe(27);
    expect(model.vocab.chars.join("")).toBe(".abcdefghijklmnopqrstuvwxyz");
    expect(model.vocab.encode("a")).toBe(1);
    expect(model.vocab.encode("z")).toBe(26);
    expect(() => model.vocab.encode("A")).toThrow(/unknown character/);
  });

  it("pairs every word's characters with '.' at both ends", () => {
    const vocab = new CharVocab([".", "a", "b"]);
    const { xs, ys } = bigramPairs(["ab", "b"], vocab);
    expect(Array.from(xs)).toEqual([0, 1, 2, 0, 2]);
    expect(Array.from(ys)).toEqual([1, 2, 0, 2, 0]);
  });
});

describe("BigramCounts on names.txt", () => {
  it("counts 228,146 bigrams over 32,033 names", () => {
    expect(words.length).toBe(32033);
    expect(reference.names).toBe(32033);
    expect(model.total).toBe(228146);
  });

  it("has the same 27×27 count matrix as numpy", () => {
    const rows = Array.from({ length: 27 }, (_, a) => Array.from(model.counts.subarray(a * 27, a * 27 + 27)));
    expect(rows).toEqual(reference.counts);
    expect(model.count(".", "a")).toBe(4410); // the lecture's figure
    expect(model.count("n", ".")).toBe(6763);
  });

  it("gives the reference average NLL: 2.4540 plain, 2.4546 with +1 smoothing", () => {
    const plain = model.nll(words);
    const smoothed = model.nll(words, 1);
    expect(Math.abs(plain - reference.nll)).toBeLessThan(1e-9);
    expect(Math.abs(smoothed - reference.nllSmoothed)).toBeLessThan(1e-9);
    expect(plain.toFixed(4)).toBe("2.4540");
    expect(smoothed.toFixed(4)).toBe("2.4546");
  });

  it("normalises every row to 1", () => {
    for (const smoothing of [0, 1]) {
      const probs = model.probabilities(smoothing);
      for (let a = 0; a < 27; a++) {
        const sum = probs.subarray(a * 27, a * 27 + 27).reduce((s, p) => s + p, 0);
        expect(sum).toBeCloseTo(1, 12);
      }
    }
  });
});

describe("BigramCounts, hand-computed", () => {
  // "ab", "b": bigrams .a ab b. .b b.
  const tiny = BigramCounts.fromWords(["ab", "b"]);

  it("matches the probabilities and NLL worked out by hand", () => {
    expect(Array.from(tiny.probabilities())).toEqual([0, 0.5, 0.5, 0, 0, 1, 1, 0, 0]);
    expect(tiny.nll(["ab", "b"])).toBeCloseTo((2 * Math.log(2)) / 5, 12);
    // +1: rows (1,2,2)/5, (1,1,2)/4, (3,1,1)/5
    const smoothed = -(Math.log(2 / 5) + Math.log(2 / 4) + Math.log(3 / 5) + Math.log(2 / 5) + Math.log(3 / 5)) / 5;
    expect(tiny.nll(["ab", "b"], 1)).toBeCloseTo(smoothed, 12);
  });

  it("gives an unseen bigram zero probability unless smoothed", () => {
    expect(tiny.nll(["ba"])).toBe(Infinity);
    expect(Number.isFinite(tiny.nll(["ba"], 1))).toBe(true);
  });

  it("samples only words the counts allow", () => {
    const rng = new Rng(1);
    const samples = tiny.sampleMany(200, rng);
    expect(new Set(samples)).toEqual(new Set(["ab", "b"]));
    expect(BigramCounts.fromWords(["abc"]).sampleMany(5, rng)).toEqual(["abc", "abc", "abc", "abc", "abc"]);
  });
});

describe("sampling", () => {
  it("is deterministic for a seed and differs between seeds", () => {
    const a = model.sampleMany(20, new Rng(2147483647));
    const b = model.sampleMany(20, new Rng(2147483647));
    const c = model.sampleMany(20, new Rng(42));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    for (const name of a) expect(name).toMatch(/^[a-z]*$/);
  });

  it("draws first letters in proportion to the counts", () => {
    const rng = new Rng(7);
    const firsts = model.sampleMany(4000, rng).map((w) => w[0]);
    const share = firsts.filter((c) => c === "a").length / firsts.length;
    const expected = model.count(".", "a") / words.length; // 0.1377
    expect(Math.abs(share - expected)).toBeLessThan(0.02);
  });
});

describe("NeuralBigram", () => {
  it("follows PyTorch's loss curve step by step from the same W (with and without L2)", async () => {
    const subset = words.slice(0, SUBSET_NAMES);
    const batch = bigramBatch(subset, model.vocab);
    expect(batch.size).toBe(subsetBigrams);
    for (const [i, regularization] of [0, 0.01].entries()) {
      const net = new NeuralBigram(model.vocab, { regularization });
      const losses = (await net.fit(batch, REFERENCE_STEPS)).map((r) => r.loss);
      net.dispose();
      expect(losses.length).toBe(REFERENCE_STEPS);
      for (let s = 0; s < REFERENCE_STEPS; s++) expect(Math.abs(losses[s] - reference.train[i][s])).toBeLessThan(1e-4);
    }
    batch.dispose();
  });

  it("gives the same numbers with one-hot matmul and with gather", async () => {
    const batch = bigramBatch(words.slice(0, 500), model.vocab);
    const curves = [];
    for (const encoding of ["onehot", "gather"] as const) {
      const net = new NeuralBigram(model.vocab, { encoding, regularization: 0.01 });
      curves.push((await net.fit(batch, 5)).map((r) => r.nll));
      net.dispose();
    }
    batch.dispose();
    for (let s = 0; s < 5; s++) expect(curves[1][s]).toBeCloseTo(curves[0][s], 4);
  });

  it("reports the penalty separately: loss = nll + 0.01·mean(W²)", async () => {
    const batch = bigramBatch(words.slice(0, 500), model.vocab);
    const net = new NeuralBigram(model.vocab, { regularization: 0.01 });
    const meanSquare = w0.reduce((s, w) => s + w * w, 0) / w0.length;
    const before = await net.evaluate(batch);
    const [first] = await net.fit(batch, 1);
    expect(first.loss - first.nll).toBeCloseTo(0.01 * meanSquare, 5);
    expect(before.loss).toBeCloseTo(first.loss, 5);
    expect((await net.evaluate(batch)).loss).toBeLessThan(first.loss);
    net.dispose();
    batch.dispose();
  });

  it("keeps the tensor count flat across training steps", async () => {
    const batch = bigramBatch(words.slice(0, 300), model.vocab);
    const net = new NeuralBigram(model.vocab, { regularization: 0.01 });
    await net.step(batch);
    const before = tf.memory().numTensors;
    await net.fit(batch, 5);
    await net.probabilities();
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
    batch.dispose();
    expect(tf.memory().numTensors).toBe(before - 4); // W and the batch's three tensors
  });

  it("gets below 2.50 on all of names.txt in 60 steps at lr 50 (the counts model: 2.4540)", async () => {
    const batch = bigramBatch(words, model.vocab);
    const net = new NeuralBigram(model.vocab, { encoding: "gather" });
    const history = await net.fit(batch, 60);
    net.dispose();
    batch.dispose();
    const last = history[history.length - 1].nll;
    expect(last).toBeLessThan(2.5);
    expect(last).toBeGreaterThan(reference.nll);
    for (let s = 1; s < history.length; s++) expect(history[s].nll).toBeLessThan(history[s - 1].nll);
  });

  it("converges to the counts model: NLL within 0.01 and softmax(W) close to the counts' probabilities", async () => {
    const subset = words.slice(0, SUBSET_NAMES);
    const counts = BigramCounts.fromWords(subset, model.vocab);
    const batch = bigramBatch(subset, model.vocab);
    const net = new NeuralBigram(model.vocab, { encoding: "gather" });
    const history = await net.fit(batch, 300);
    const target = counts.nll(subset);
    const last = history[history.length - 1].nll;
    expect(history[0].nll).toBeGreaterThan(3.5);
    expect(last).toBeGreaterThan(target - 1e-4); // counts are the maximum-likelihood solution
    expect(last - target).toBeLessThan(0.01);
    // Row a's gradient scales with how often a occurs, so frequent rows converge first and rare ones (q: 9 times) lag.
    const learned = await net.probabilities();
    const exact = counts.probabilities();
    for (let a = 0; a < 27; a++) {
      const occurrences = counts.counts.subarray(a * 27, a * 27 + 27).reduce((s, c) => s + c, 0);
      const gap = maxAbsDifference(learned.subarray(a * 27, a * 27 + 27), exact.subarray(a * 27, a * 27 + 27));
      if (occurrences >= 300) expect(gap).toBeLessThan(0.005);
    }
    expect(maxAbsDifference(learned, exact)).toBeLessThan(0.2);
    net.dispose();
    batch.dispose();
  });
});

describe("maxAbsDifference", () => {
  it("is the largest elementwise gap", () => {
    expect(maxAbsDifference([0.1, 0.5, 0.4], [0.2, 0.2, 0.6])).toBeCloseTo(0.3, 12);
    expect(() => maxAbsDifference([1], [1, 2])).toThrow();
  });
});

describe("bigramHeatmap", () => {
  it("labels each cell with its pair and value, rows from the top", () => {
    const tiny = BigramCounts.fromWords(["ab", "b"]);
    const fig = bigramHeatmap(tiny.counts, tiny.vocab);
    const trace = fig.data[0] as { z: number[][]; x: string[]; text: string[][] };
    expect(trace.z).toEqual([[0, 1, 1], [0, 0, 1], [2, 0, 0]]);
    expect(trace.x).toEqual([".", "a", "b"]);
    // the largest count sits on the darkest blue: its text is white
    expect(trace.text[2][0]).toBe('<span style="color:white">b.</span><br><span style="color:white">2</span>');
    expect(trace.text[0][0]).toBe('<span style="color:black">..</span><br><span style="color:black">0</span>');
    const probs = bigramHeatmap(tiny.probabilities(), tiny.vocab, { annotate: false, title: "P" }).data[0];
    expect(probs).not.toHaveProperty("text");
  });
});
