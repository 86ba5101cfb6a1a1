// The course's own models as a provider: getProbs is the softmax of the last position's logits
// (checked against the full forward pass and a float64 softmax), getText is greedy decoding up to
// a newline, a checkpoint loads with its tokenizer, nothing leaks, and the arithmetic eval runs.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tf, useBackend } from "../lib/engine/index.js";
import { GPT, saveGPT } from "../lib/models/index.js";
import { CharTokenizer } from "../lib/tokenizers/index.js";
import { ProviderError, arithmeticEval, courseCheckpointProvider, courseModelProvider, runEval } from "../lib/evals/index.js";

const tokenizer = CharTokenizer.fromText("0123456789+-*/() =\n");
let model: GPT;
const dir = mkdtempSync(join(tmpdir(), "evals-course-"));
beforeAll(async () => {
  await useBackend("cpu");
  model = new GPT({ vocabSize: tokenizer.vocabSize, blockSize: 24, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0, bias: false }, { seed: 5 });
});
afterAll(() => {
  model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Next-token distribution from the full forward pass, softmax in float64. */
async function reference(ids: number[]): Promise<number[]> {
  const logits = tf.tidy(() => model.forward(tf.tensor2d([ids], [1, ids.length], "int32")).logits);
  const all = (await logits.array()) as number[][][];
  logits.dispose();
  const last = all[0][ids.length - 1];
  const m = Math.max(...last);
  const e = last.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

describe("course model provider", () => {
  it("gives the softmax of the logits as next-token probabilities", async () => {
    const provider = courseModelProvider({ model, tokenizer, name: "tiny" });
    const prompt = "3 + 4 * 2=";
    const { probs } = await provider.getProbs({ prompt: [{ role: "system", content: "ignored" }, { role: "user", content: prompt }], minTopN: tokenizer.vocabSize });
    const want = await reference(tokenizer.encode(prompt));
    expect(Object.keys(probs).length).toBe(tokenizer.vocabSize);
    for (let id = 0; id < tokenizer.vocabSize; id++) expect(probs[tokenizer.decode([id])]).toBeCloseTo(want[id], 6);
    expect(Object.values(probs).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    const top3 = await provider.getProbs({ prompt: [{ role: "user", content: prompt }], minTopN: 3 });
    const byProb = Object.keys(probs).sort((a, b) => probs[b] - probs[a]);
    expect(Object.keys(top3.probs).sort()).toEqual(byProb.slice(0, 3).sort());
  });

  it("decodes greedily and stops at a newline", async () => {
    const provider = courseModelProvider({ model, tokenizer });
    const prompt = "1 + 1=";
    const ids = tokenizer.encode(prompt);
    let text = "";
    for (let step = 0; step < 12; step++) {
      const p = await reference(ids.slice(-24));
      const next = p.indexOf(Math.max(...p));
      const ch = tokenizer.decode([next]);
      if (ch === "\n") break;
      text += ch;
      ids.push(next);
    }
    const reply = await provider.getText({ prompt: [{ role: "user", content: prompt }], maxTokens: 12, temperature: 0 });
    expect(reply.text).toBe(text);
    expect(reply.text).not.toContain("\n");
    expect(reply.usage.inputTokens).toBe(6);
    expect(provider.tally.requests).toBe(1);
  });

  it("loads a checkpoint with the tokenizer beside it, or says what is missing", async () => {
    const path = join(dir, "ckpt.safetensors");
    await saveGPT(model, path);
    expect(() => courseCheckpointProvider(path)).toThrow(`courseCheckpointProvider: no tokenizer for ${path}: expected ${join(dir, "tokenizer.model")} next to it`);
    tokenizer.save(join(dir, "tokenizer"));
    const loaded = courseCheckpointProvider(path, { name: "disk" });
    const a = await loaded.getProbs({ prompt: [{ role: "user", content: "12=" }], minTopN: 4 });
    const b = await courseModelProvider({ model, tokenizer }).getProbs({ prompt: [{ role: "user", content: "12=" }], minTopN: 4 });
    expect(a.probs).toEqual(b.probs);
    expect(() => courseCheckpointProvider(join(dir, "none.safetensors"))).toThrow(/^courseCheckpointProvider: no checkpoint at /);
  });

  it("runs the arithmetic eval offline without leaking tensors, and names unencodable prompts", async () => {
    const provider = courseModelProvider({ model, tokenizer, name: "tiny" });
    const spec = arithmeticEval({ n: 12, maxDepth: 2, seed: 2, template: "bare", maxTokens: 8 });
    await runEval({ ...spec, samples: spec.samples.slice(0, 2) }, provider); // warm-up
    const before = tf.memory().numTensors;
    const result = await runEval(spec, provider);
    expect(tf.memory().numTensors).toBe(before);
    expect(result.sample_results.length).toBe(12);
    expect(result.counts.total_correct + result.counts.total_incorrect).toBe(12);
    expect(result.completer).toBe("tiny");
    const error = await provider.getText({ prompt: [{ role: "user", content: "what is 2+2?" }] }).catch((e) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.message).toMatch(/^tiny: cannot encode the prompt: CharTokenizer: "w" \(U\+77\) is not in the vocabulary$/);
  });
});
