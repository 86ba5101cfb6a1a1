// HellaSwag: the jsonl reader, rendering (against js-tiktoken), scores against an independent PyTorch
// implementation of build-nanogpt's procedure (tests/reference/hellaswag_reference.py), a model
// whose scores are known by hand, context cropping, and memory.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getEncoding } from "js-tiktoken";
import { beforeAll, describe, expect, it } from "vitest";
import { tf, useBackend } from "../lib/engine/index.js";
import {
  HELLASWAG_GPT2_ACC_NORM, evaluateHellaSwag, formatHellaSwag, loadHellaSwag, parseHellaSwag, renderExample, scoreExample,
  type HellaSwagExample,
} from "../lib/evals/index.js";
import { GPT, saveGPT, type GPTConfig } from "../lib/models/gpt/index.js";
import { loadTiktokenEncoding, type RegexTokenizer } from "../lib/tokenizers/index.js";
import { Rng } from "../lib/util/random.js";

const PYTHON = "/usr/bin/python3";
const hasTorch = spawnSync(PYTHON, ["-c", "import torch"]).status === 0;
if (!hasTorch) console.warn(`SKIPPING HellaSwag PyTorch test: ${PYTHON} cannot import torch (apt-get install python3-torch)`);

const FIXTURE = "tests/fixtures/hellaswag-mini.jsonl";
const tiny: GPTConfig = { vocabSize: 50257, blockSize: 64, nLayer: 2, nHead: 2, nEmbd: 32, dropout: 0, bias: true };

let gpt2: RegexTokenizer;
let examples: HellaSwagExample[];
const encode = (text: string) => gpt2.encode(text);

beforeAll(async () => {
  await useBackend("cpu");
  gpt2 = await loadTiktokenEncoding("gpt2");
  examples = await loadHellaSwag(FIXTURE);
});

/** A model whose logits vary a lot between tokens (GPT-2's 0.02 init gives near-uniform ones, where scores nearly tie). */
function spikyModel(seed: number): GPT {
  const model = new GPT(tiny, { seed });
  const rng = new Rng(seed);
  for (const [name, p] of Object.entries(model.params)) {
    const scale = name.endsWith("wte.weight") ? 0.5 : p.rank >= 2 ? 0.2 : 0.3;
    const values = Float32Array.from({ length: p.size }, () => (name.includes("ln_") && name.endsWith("weight") ? 1 : 0) + scale * rng.normal());
    p.assign(tf.tensor(values, p.shape, "float32"));
  }
  return model;
}

describe("reading HellaSwag's jsonl", () => {
  it("reads the fixture's fields (ctx is ctx_a + ' ' + ctx_b)", () => {
    expect(examples).toHaveLength(6);
    expect(examples.map((e) => e.label)).toEqual([2, 0, 1, 3, 0, 2]);
    for (const e of examples) {
      expect(e.endings).toHaveLength(4);
      expect(e.ctx).toBe(e.ctx_b ? `${e.ctx_a} ${e.ctx_b}` : e.ctx_a);
    }
  });

  it("names the file and line of a bad example", () => {
    const good = readFileSync(FIXTURE, "utf8").split("\n")[0];
    const edit = (change: (e: Record<string, unknown>) => void) => {
      const e = JSON.parse(good) as Record<string, unknown>;
      change(e);
      return `${good}\n${JSON.stringify(e)}\n`;
    };
    expect(() => parseHellaSwag(`${good}\n{"ctx": \n`, "x.jsonl")).toThrow(/^x\.jsonl: line 2: not valid JSON/);
    expect(() => parseHellaSwag(edit((e) => (e.endings = ["a", "b", "c"])), "x.jsonl")).toThrow("x.jsonl: line 2: endings: must be 4 endings");
    expect(() => parseHellaSwag(edit((e) => (e.label = 4)), "x.jsonl")).toThrow(/^x\.jsonl: line 2: label: /);
    expect(() => parseHellaSwag(edit((e) => delete e.ctx), "x.jsonl")).toThrow(/^x\.jsonl: line 2: ctx: /);
    expect(() => parseHellaSwag(edit((e) => (e.endings = ["a", "", "c", "d"])), "x.jsonl")).toThrow("x.jsonl: line 2: endings.1: must not be empty");
    expect(() => parseHellaSwag("\n\n", "x.jsonl")).toThrow("x.jsonl: holds no examples");
  });

  it("renders the context and each ' ' + ending with GPT-2's ids (js-tiktoken's)", () => {
    const reference = getEncoding("gpt2");
    for (const e of examples) {
      const r = renderExample(e, encode);
      expect(r.contextTokens).toEqual(reference.encode(e.ctx));
      expect(r.endingTokens).toEqual(e.endings.map((end) => reference.encode(" " + end)));
    }
  });
});

describe("scoring", () => {
  it("equals hand-computed values on a model with all-zero weights (every token costs ln V)", async () => {
    const model = new GPT(tiny, { seed: 1 });
    for (const p of Object.values(model.params)) p.assign(tf.zerosLike(p));
    const rendered = renderExample(examples[1], encode);
    const score = await scoreExample(model, rendered);
    const lengths = rendered.endingTokens.map((t) => t.length);
    lengths.forEach((n, r) => {
      expect(score.sumLoss[r]).toBeCloseTo(n * Math.log(tiny.vocabSize), 3);
      expect(score.meanLoss[r]).toBeCloseTo(Math.log(tiny.vocabSize), 4);
    });
    expect(score.pred).toBe(lengths.indexOf(Math.min(...lengths))); // the sum favours the shortest ending
    model.dispose();
  });

  it.skipIf(!hasTorch)("sum and mean losses, acc and acc_norm agree with build-nanogpt's procedure in PyTorch", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hellaswag-"));
    const model = spikyModel(5);
    await saveGPT(model, join(dir, "weights.safetensors"));
    const rendered = examples.map((e) => renderExample(e, encode));
    writeFileSync(
      join(dir, "examples.json"),
      JSON.stringify(rendered.map((r) => ({ ctx_tokens: r.contextTokens, ending_tokens: r.endingTokens, label: r.label }))),
    );
    const run = spawnSync(PYTHON, ["tests/reference/hellaswag_reference.py", join(dir, "weights.safetensors"), join(dir, "examples.json"), join(dir, "out.json")], { encoding: "utf8" });
    if (run.status !== 0) throw new Error(`hellaswag_reference.py failed:\n${run.stderr}`);
    const ref = JSON.parse(readFileSync(join(dir, "out.json"), "utf8")) as {
      sum_loss: number[][]; avg_loss: number[][]; pred: number[]; pred_norm: number[]; acc: number; acc_norm: number;
    };

    const result = await evaluateHellaSwag(model, examples, encode);
    expect(result.total).toBe(6);
    result.scores.forEach((s, i) => {
      for (let r = 0; r < 4; r++) {
        expect(Math.abs(s.sumLoss[r] - ref.sum_loss[i][r])).toBeLessThan(1e-3 * Math.max(1, ref.sum_loss[i][r]));
        expect(Math.abs(s.meanLoss[r] - ref.avg_loss[i][r])).toBeLessThan(1e-4 * Math.max(1, ref.avg_loss[i][r]));
      }
    });
    // The answers are not near-ties (a float32 rounding could not flip them), and the two rules differ somewhere.
    const gap = (xs: number[]) => [...xs].sort((a, b) => a - b)[1] - Math.min(...xs);
    for (let i = 0; i < 6; i++) expect(Math.min(gap(ref.sum_loss[i]), gap(ref.avg_loss[i]))).toBeGreaterThan(1e-2);
    expect(ref.pred.some((p, i) => p !== ref.pred_norm[i])).toBe(true);
    expect(result.scores.map((s) => s.pred)).toEqual(ref.pred);
    expect(result.scores.map((s) => s.predNorm)).toEqual(ref.pred_norm);
    expect(result.acc).toBeCloseTo(ref.acc, 12);
    expect(result.accNorm).toBeCloseTo(ref.acc_norm, 12);
    expect(formatHellaSwag(result)).toMatch(
      new RegExp(`^HellaSwag 6 examples: acc ${ref.acc.toFixed(4)}, acc_norm ${ref.acc_norm.toFixed(4)} \\(\\d/6; GPT-2 124M on all 10,042: acc_norm ${HELLASWAG_GPT2_ACC_NORM}\\)$`),
    );
    model.dispose();
  });

  it("crops the earliest context tokens when a row is longer than block_size, and refuses an ending that cannot fit", async () => {
    const model = spikyModel(6);
    const short = new GPT({ ...tiny, blockSize: 24 }, { seed: 6 });
    for (const [name, p] of Object.entries(short.params)) {
      const full = model.params[name];
      p.assign(name.endsWith("wpe.weight") ? tf.slice(full, [0, 0], [24, tiny.nEmbd]) : full);
    }
    const rendered = renderExample(examples[2], encode); // its longest row is longer than 24 tokens
    const longest = Math.max(...rendered.endingTokens.map((t) => t.length));
    expect(rendered.contextTokens.length + longest).toBeGreaterThan(24);
    const cropped = { ...rendered, contextTokens: rendered.contextTokens.slice(rendered.contextTokens.length + longest - 24) };
    const a = await scoreExample(short, rendered);
    const b = await scoreExample(model, cropped);
    for (let r = 0; r < 4; r++) expect(a.sumLoss[r]).toBeCloseTo(b.sumLoss[r], 3);
    const tooLong = { ...rendered, endingTokens: [Array(24).fill(11), [1], [2], [3]] };
    await expect(scoreExample(short, tooLong)).rejects.toThrow("HellaSwag: an ending of 24 tokens does not fit the model's block_size 24 with any context");
    model.dispose();
    short.dispose();
  });

  it("leaves no tensors behind and stops when asked", async () => {
    const model = spikyModel(7);
    const before = tf.memory().numTensors;
    const all = await evaluateHellaSwag(model, examples, encode, { limit: 3 });
    expect(all.total).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
    let asked = 0;
    const stopped = await evaluateHellaSwag(model, examples, encode, { shouldStop: () => ++asked > 2 });
    expect(stopped.total).toBe(2);
    model.dispose();
  });
});
