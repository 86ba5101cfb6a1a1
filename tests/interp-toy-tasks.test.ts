// Toy tasks (lib/interp/toy): the generated strings, the in-order tokenizer, the split, the row
// stream the Trainer reads, the teacher-forced accuracy on a stub model with planted logits, and
// trainToyModel's checkpoint reuse. Counts are checked against Python's itertools.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tf, useBackend } from "../lib/engine/index.js";
import {
  ToyTokenizer,
  diagonalScores,
  inductionScores,
  previousTokenScores,
  inductionRows,
  allWords,
  answerAccuracy,
  lossByPosition,
  palindromes,
  predictions,
  repeatedBlocks,
  repeatedTokens,
  RowStream,
  skipBigramRows,
  sortingExamples,
  toyVocab,
  trainTestSplit,
  trainToyModel,
} from "../lib/interp/toy/index.js";
import type { GPT } from "../lib/models/gpt/index.js";

beforeAll(async () => {
  await useBackend("cpu");
});

const python = (code: string) => spawnSync("/usr/bin/python3", ["-c", code], { encoding: "utf8" });
const hasPython = python("print(1)").status === 0;

describe("task strings", () => {
  it("palindromes: every word and its reverse, in order", () => {
    expect(palindromes(2, 2)).toEqual(["<aa|aa>", "<ab|ba>", "<ba|ab>", "<bb|bb>"]);
    const all = palindromes(3, 4);
    expect(all.length).toBe(64);
    expect(new Set(all).size).toBe(64);
    for (const s of all) expect(s.slice(5, 8)).toBe([...s.slice(1, 4)].reverse().join(""));
  });

  it.skipIf(!hasPython)("sorting: the distinct words are itertools.permutations, answers sorted", () => {
    const ours = sortingExamples(3, 5);
    const ref = python("import itertools\nfor p in itertools.permutations('abcde', 3): print('<' + ''.join(p) + '|' + ''.join(sorted(p)) + '>')");
    expect(ref.status).toBe(0);
    expect(ours).toEqual(ref.stdout.trim().split("\n"));
    expect(sortingExamples(2, 3, { distinct: false })).toContain("<aa|aa>");
    expect(allWords(2, ["x", "y"])).toEqual(["xx", "xy", "yx", "yy"]);
  });

  it("repeatedBlocks: rows split into blocks s s with |s| in [min, max] (checked by a segmentation search), BOS first", () => {
    expect(repeatedBlocks(1, 13, 50, { minRepeat: 3, maxRepeat: 3, seed: 1, bos: 0, low: 1 })[0]).toSatisfy((row: number[]) =>
      row.length === 13 && row[0] === 0 && [1, 2, 3].every((i) => row[i] === row[i + 3]) && [7, 8, 9].every((i) => row[i] === row[i + 3]));
    const rows = repeatedBlocks(300, 31, 64, { minRepeat: 4, maxRepeat: 12, seed: 2, bos: 0, low: 1 });
    // Can row[from..] be cut into blocks s s (the last one possibly cut short) with 4 ≤ |s| ≤ 12?
    const splits = (row: number[], from: number): boolean => {
      if (from === row.length) return true;
      for (let h = 4; h <= 12; h++) {
        const end = Math.min(row.length, from + 2 * h);
        let same = true;
        for (let i = from + h; i < end; i++) same &&= row[i] === row[i - h];
        if (same && (end === row.length || splits(row, end))) return true;
      }
      return false;
    };
    for (const row of rows) {
      expect(row.length).toBe(31);
      expect(row[0]).toBe(0);
      expect(row.slice(1).every((t) => t >= 1 && t < 64)).toBe(true);
      expect(splits(row, 1)).toBe(true);
    }
    // The block lengths vary: rows differ in where their first copy starts repeating.
    const firstH = new Set(rows.map((row) => [...Array(9).keys()].map((k) => k + 4).find((h) => row.slice(1, 1 + h).every((t, i) => row[1 + h + i] === t))));
    expect(firstH.size).toBeGreaterThanOrEqual(8);
    expect(() => repeatedBlocks(1, 10, 5, { minRepeat: 3, maxRepeat: 2 })).toThrow(/minRepeat/);
  });

  it("skipBigramRows: tokens follow one fixed map of the token two back, never of a token the map made; about p of the free positions follow it", () => {
    // With p = 1 every position whose two-back is not itself a rule token follows the rule: from position 3
    // (BOS first) that is 3, 4, then 7, 8, 11, 12, …; the others are free draws.
    const rule = new Map<number, number>();
    const strict = skipBigramRows(300, 20, 30, { p: 1, seed: 3, ruleSeed: 4, bos: 0, low: 1 });
    const ruledAt = (t: number) => t >= 3 && (t - 3) % 4 < 2;
    for (const row of strict) {
      expect(row[0]).toBe(0);
      for (let t = 3; t < row.length; t++) {
        if (!ruledAt(t)) continue;
        const before = rule.get(row[t - 2]);
        if (before !== undefined) expect(row[t]).toBe(before);
        rule.set(row[t - 2], row[t]);
      }
    }
    expect(rule.size).toBe(29); // every token seen two back, each mapped one way
    // The free positions do not follow the map (beyond chance): the rule does not chain.
    let chained = 0;
    let free = 0;
    for (const row of strict) for (let t = 5; t < row.length; t++) if (!ruledAt(t)) { free += 1; if (row[t] === rule.get(row[t - 2])) chained += 1; }
    expect(chained / free).toBeLessThan(0.06); // chance: 1/29 ≈ 0.034
    const loose = skipBigramRows(2000, 20, 30, { p: 0.7, seed: 5, ruleSeed: 4, bos: 0, low: 1 });
    let follows = 0;
    let eligible = 0;
    for (const row of loose) {
      const ruled = row.map(() => false);
      for (let t = 3; t < row.length; t++) {
        // Eligible: the two-back was a free draw (as far as we can tell: it did not match the rule).
        if (ruled[t - 2]) continue;
        eligible += 1;
        ruled[t] = row[t] === rule.get(row[t - 2]);
        if (ruled[t]) follows += 1;
      }
    }
    // 0.7 by the rule plus 0.3 · 1/29 by chance, measured over 20,000+ positions (a few standard errors: ± 0.015).
    expect(Math.abs(follows / eligible - (0.7 + 0.3 / 29))).toBeLessThan(0.015);
    expect(skipBigramRows(5, 20, 30, { p: 0.7, seed: 5, ruleSeed: 4 })).toEqual(skipBigramRows(5, 20, 30, { p: 0.7, seed: 5, ruleSeed: 4 }));
    expect(() => skipBigramRows(1, 5, 5, { p: 2 })).toThrow(/p must be in \[0, 1\]/);
  });

  it("repeatedTokens: the second half repeats the first, BOS first, tokens in [low, vocab)", () => {
    const rows = repeatedTokens(20, 7, 10, { seed: 3, bos: 0, low: 1 });
    for (const row of rows) {
      expect(row.length).toBe(15);
      expect(row[0]).toBe(0);
      expect(row.slice(8)).toEqual(row.slice(1, 8));
      for (const t of row.slice(1)) expect(t >= 1 && t < 10).toBe(true);
    }
    expect(repeatedTokens(20, 7, 10, { seed: 3, bos: 0, low: 1 })).toEqual(rows);
    expect(repeatedTokens(20, 7, 10, { seed: 4, bos: 0, low: 1 })).not.toEqual(rows);
  });

  it("inductionRows: a stretch followed by its copy, starting at varied places", () => {
    const { rows, copyStarts } = inductionRows(200, 24, 12, { minRepeat: 4, maxRepeat: 8, seed: 1, bos: 0, low: 1 });
    const lengths = new Set<number>();
    rows.forEach((row, i) => {
      expect(row.length).toBe(24);
      expect(row[0]).toBe(0);
      // The copy's length h: the largest h ≤ 8 with row[c-h..c) = row[c..c+h) is at least 4.
      const c = copyStarts[i];
      let h = 0;
      for (let k = 8; k >= 4 && h === 0; k--) if (c - k >= 1 && c + k <= 24 && row.slice(c - k, c).join() === row.slice(c, c + k).join()) h = k;
      expect(h).toBeGreaterThanOrEqual(4);
      lengths.add(c);
    });
    expect(lengths.size).toBeGreaterThan(10);
    expect(() => inductionRows(1, 10, 5, { minRepeat: 3, maxRepeat: 6 })).toThrow(/to fit in 10 tokens/);
  });

  it("trainTestSplit: disjoint, complete, seeded", () => {
    const items = palindromes(3, 3);
    const { train, test } = trainTestSplit(items, 0.2, 7);
    expect(test.length).toBe(5);
    expect([...train, ...test].sort()).toEqual(items.slice().sort());
    expect(trainTestSplit(items, 0.2, 7)).toEqual({ train, test });
    expect(trainTestSplit(items, 0.2, 8).test).not.toEqual(test);
    expect(() => trainTestSplit(items, 1)).toThrow(/testFraction/);
  });
});

describe("ToyTokenizer", () => {
  it("maps the vocabulary to its indices in order and back", () => {
    const tok = new ToyTokenizer(toyVocab(4));
    expect(tok.vocab.join("")).toBe("<|>abcd");
    expect(tok.encode("<dab|abd>")).toEqual([0, 6, 3, 4, 1, 3, 4, 6, 2]);
    expect(tok.decode(tok.encode("<dab|abd>"))).toBe("<dab|abd>");
  });

  it("bad input: one line naming the character or id", () => {
    const tok = new ToyTokenizer(toyVocab(2));
    expect(() => tok.encode("<ac|")).toThrow(/^ToyTokenizer: "c" at position 2 of "<ac\|" is not in the vocabulary "<\|>ab"$/);
    expect(() => tok.decode([9])).toThrow(/id 9 is outside the vocabulary \(size 5\)/);
    expect(() => new ToyTokenizer(["a", "a"])).toThrow(/listed twice/);
  });
});

describe("RowStream", () => {
  const rows = Array.from({ length: 10 }, (_, i) => [i, i + 100, i + 200]);

  it("serves each row once per epoch as x = row[:-1], y = row[1:]", () => {
    const stream = new RowStream(rows, 5);
    const { x, y } = stream.nextBatch(10, 2);
    const firsts = [...Array(10).keys()].map((b) => x[2 * b]).sort((a, b) => a - b);
    expect(firsts).toEqual([...Array(10).keys()]);
    for (let b = 0; b < 10; b++) {
      expect([x[2 * b + 1], y[2 * b], y[2 * b + 1]]).toEqual([x[2 * b] + 100, x[2 * b] + 100, x[2 * b] + 200]);
    }
    expect(stream.position).toEqual({ shard: 0, offset: 10 });
  });

  it("seek replays; fromStart starts over; wrong block size is refused", () => {
    const a = new RowStream(rows, 5);
    a.nextBatch(7, 2);
    const after = a.nextBatch(6, 2);
    const b = new RowStream(rows, 5);
    b.seek({ shard: 0, offset: 7 });
    expect(b.nextBatch(6, 2)).toEqual(after);
    expect(a.fromStart().nextBatch(3, 2)).toEqual(new RowStream(rows, 5).nextBatch(3, 2));
    expect(() => a.nextBatch(2, 3)).toThrow(/need blockSize 2, got 3/);
    expect(() => new RowStream([[1, 2], [1, 2, 3]])).toThrow(/row 1 has 3 tokens/);
  });
});

/** A stand-in for a GPT whose logits put `margin` on a planted token at each (row, position). */
function stubModel(vocabSize: number, blockSize: number, planted: (row: number[], t: number) => number, margin = 5): GPT {
  return {
    config: { vocabSize, blockSize },
    forward(idx: tf.Tensor2D) {
      const [B, T] = idx.shape;
      const ids = idx.arraySync() as number[][];
      const logits = new Float32Array(B * T * vocabSize);
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) logits[(b * T + t) * vocabSize + planted(ids[b], t)] = margin;
      return { logits: tf.tensor3d(logits, [B, T, vocabSize]) };
    },
  } as unknown as GPT;
}

describe("predictions and accuracy", () => {
  const tok = new ToyTokenizer(toyVocab(3));
  const rows = palindromes(3, 3).map((s) => tok.encode(s));

  it("probabilities equal softmax of the logits (hand-computed)", async () => {
    const model = stubModel(6, 8, () => 3, 2);
    const preds = await predictions(model, rows.slice(0, 2));
    const pTop = Math.exp(2) / (Math.exp(2) + 5);
    const pOther = 1 / (Math.exp(2) + 5);
    expect(preds[0][0]).toEqual({ prob: null, top: null, topProb: null });
    expect(preds[0][1].top).toBe(3);
    expect(preds[0][1].prob).toBeCloseTo(pTop, 6); // "<aaa|": position 1 is "a" = id 3
    expect(preds[0][4].prob).toBeCloseTo(pOther, 6); // "|" = id 1
    const losses = await lossByPosition(model, rows.slice(0, 1));
    expect(losses[1]).toBeCloseTo(-Math.log(pTop), 5);
    expect(Number.isNaN(losses[0])).toBe(true);
  });

  it("a model that reverses is 100 %; one wrong on every 'b' answer is not", async () => {
    // The logits at t predict position t+1 from the prefix row[0..t]: answer position p = t+1 ∈ 5..7 holds row[9 - p] = row[8 - t]
    const exact = stubModel(6, 8, (row, t) => (t >= 4 && t < 7 ? row[7 - t] : 0));
    const right = await answerAccuracy(exact, rows, 5, 8);
    expect(right).toMatchObject({ token: 1, sequence: 1 });
    const wrongOnB = stubModel(6, 8, (row, t) => (t >= 4 && t < 7 ? (row[7 - t] === 4 ? 5 : row[7 - t]) : 0));
    const partly = await answerAccuracy(wrongOnB, rows, 5, 8);
    // 27 words × 3 letters: 27 of the 81 letters are "b"; 8 of 27 words have no "b".
    expect(partly.token).toBeCloseTo(54 / 81, 10);
    expect(partly.sequence).toBeCloseTo(8 / 27, 10);
    expect(partly.correct.filter(Boolean).length).toBe(8);
    await expect(answerAccuracy(exact, rows, 0)).rejects.toThrow(/never predicted/);
  });

  it("frees its tensors", async () => {
    const model = stubModel(6, 8, () => 1);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) await answerAccuracy(model, rows, 5, 8);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("trainToyModel", () => {
  it("trains, saves, then reuses the checkpoint; other settings retrain", async () => {
    const root = mkdtempSync(join(tmpdir(), "toy-"));
    const tok = new ToyTokenizer(toyVocab(2));
    const { train, test } = trainTestSplit(palindromes(2, 2).concat(palindromes(2, 2)), 0.25, 1);
    const options = {
      task: "pal",
      root: root,
      train: train.map((s) => tok.encode(s)),
      test: test.map((s) => tok.encode(s)),
      model: { vocabSize: tok.vocabSize, nLayer: 1, nHead: 2, nEmbd: 16 },
      training: { maxIters: 30, batchSize: 8, evalInterval: 15, learningRate: 3e-3 },
    };
    const first = await trainToyModel(options);
    expect(first.reused).toBe(false);
    expect(first.checkpoint).toMatch(/pal[\\/][0-9a-f]{12}[\\/]ckpt\.safetensors$/);
    expect(existsSync(first.checkpoint)).toBe(true);
    expect(first.evals.at(-1)!.train).toBeLessThan(first.evals[0].train - 0.2);
    const saved = statSync(first.checkpoint).mtimeMs;
    const again = await trainToyModel(options);
    expect(again.reused).toBe(true);
    expect(statSync(first.checkpoint).mtimeMs).toBe(saved);
    const w1 = first.model.params["lm_head.weight"] ?? first.model.params["transformer.wte.weight"];
    const w2 = again.model.params["lm_head.weight"] ?? again.model.params["transformer.wte.weight"];
    expect(Array.from(await w2.data())).toEqual(Array.from(await w1.data()));
    const longer = await trainToyModel({ ...options, training: { ...options.training, maxIters: 31 } });
    expect(longer.reused).toBe(false);
    await expect(trainToyModel({ ...options, task: "../x" })).rejects.toThrow(/folder name/);
  });

  it("keeps each run's checkpoint in a folder of its own: a ci run then a full run then the ci run again reuses the ci model", async () => {
    const root = mkdtempSync(join(tmpdir(), "toy-"));
    const tok = new ToyTokenizer(toyVocab(2));
    const rows = palindromes(2, 2).map((s) => tok.encode(s));
    const options = (maxIters: number) => ({
      task: "pal", root: root, train: rows, test: rows,
      model: { vocabSize: tok.vocabSize, nLayer: 1, nHead: 1, nEmbd: 8 },
      training: { maxIters: maxIters, batchSize: 4, evalInterval: 10, learningRate: 3e-3 },
    });
    const ci = await trainToyModel(options(10));
    const full = await trainToyModel(options(20));
    expect(full.reused).toBe(false);
    expect(full.checkpoint).not.toBe(ci.checkpoint);
    const ciMtime = statSync(ci.checkpoint).mtimeMs;
    const ciAgain = await trainToyModel(options(10));
    expect(ciAgain.reused).toBe(true); // with one shared folder the full run had replaced it: trained again
    expect(ciAgain.checkpoint).toBe(ci.checkpoint);
    expect(statSync(ci.checkpoint).mtimeMs).toBe(ciMtime);
    expect(ciAgain.evals.at(-1)!.iter).toBe(10);
    const fullAgain = await trainToyModel(options(20));
    expect(fullAgain.reused).toBe(true);
    expect(fullAgain.evals.at(-1)!.iter).toBe(20);
    // A changed model setting (attention-only) is another run too.
    const attnOnly = await trainToyModel({ ...options(10), model: { ...options(10).model, attnOnly: true } });
    expect(attnOnly.reused).toBe(false);
    expect(attnOnly.model.config.attnOnly).toBe(true);
    expect(new Set([ci.checkpoint, full.checkpoint, attnOnly.checkpoint]).size).toBe(3);
    for (const m of [ci, full, ciAgain, fullAgain, attnOnly]) m.model.dispose();
  });
});

describe("head scores", () => {
  // Rows [BOS, s, s] with |s| = 3: 7 positions. Head 0 attends to the previous token; head 1 is an
  // induction head (query q ≥ 4 attends to q − 2, the token after the earlier copy), else to BOS.
  const T = 7;
  const onehot = (k: number) => Array.from({ length: T }, (_, j) => (j === k ? 1 : 0));
  const previous = Array.from({ length: T }, (_, q) => onehot(Math.max(0, q - 1)));
  const induction = Array.from({ length: T }, (_, q) => onehot(q >= 4 ? q - 2 : 0));
  const patterns = [[previous, induction], [previous, induction]];

  it("previous-token and induction scores pick the planted heads", () => {
    expect(previousTokenScores(patterns)).toEqual([1, 1 / 6]); // the induction head at q = 1 looks at BOS, which is also its previous token
    expect(inductionScores(patterns, 3)).toEqual([0, 1]);
    // A half-weight head: 0.5 on the induction key, 0.5 on BOS.
    const half = Array.from({ length: T }, (_, q) => (q >= 4 ? onehot(q - 2).map((v, j) => 0.5 * v + (j === 0 ? 0.5 : 0)) : onehot(0)));
    expect(inductionScores([[half]], 3)).toEqual([0.5]);
    expect(diagonalScores([[previous]], 0, 0)[0]).toBeCloseTo(1 / 7, 12); // only q = 0 attends to itself
    expect(() => diagonalScores(patterns, 1, 7)).toThrow(/no query from 7/);
  });
});
