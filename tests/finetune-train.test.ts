// Fine-tuning on tiny GPTs: the reward model's body equals GPT.forward before the LM head and reads
// the last non-pad token; SFT ignores masked targets; DPO starts at ln 2 and learns a pair; an RLOO
// step on a rule reward raises it and leaks no tensors; the data generator is seeded and its pairs
// split by the hidden rule.
import { beforeAll, describe, expect, it } from "vitest";
import { tf, useBackend } from "../lib/engine/index.js";
import { GPT } from "../lib/models/gpt/index.js";
import { AdamW } from "../lib/train/index.js";
import { Rng } from "../lib/util/random.js";
import { RegexTokenizer } from "../lib/tokenizers/index.js";
import {
  RewardModel, chatBatch, dpoLossAndGrads, followsRule, gptHidden, padSequences, preferencePairs,
  referenceLogProbs, rlooStep, sftConversations, sftLoss, sftLossAndGrads, instructions, cloneGPT, winRate, chatReplies, addChatTokens,
} from "../lib/finetune/index.js";

const tiny = { vocabSize: 8, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true };

beforeAll(async () => {
  await useBackend("cpu");
});

describe("gptHidden and the reward model", () => {
  it("hidden · wteᵀ equals GPT.forward's logits (both activations)", () => {
    for (const activation of ["gelu", "gelu_tanh"] as const) {
      const model = new GPT({ ...tiny, activation: activation }, { seed: 5 });
      const x = tf.tensor2d([[1, 2, 3, 4, 5], [7, 6, 5, 4, 3]], [2, 5], "int32");
      const [mine, theirs] = tf.tidy(() => [
        tf.matMul(gptHidden(model, x), model.params["transformer.wte.weight"], false, true).dataSync(),
        model.forward(x).logits.dataSync(),
      ]);
      mine.forEach((v, i) => expect(Math.abs(v - theirs[i])).toBeLessThan(1e-5));
      x.dispose();
      model.dispose();
    }
  });

  it("reads the last non-pad token: pads after it change nothing, the token itself does", () => {
    const rm = new RewardModel(new GPT(tiny, { seed: 2 }));
    tf.tidy(() => rm.head.weight.assign(tf.randomNormal([16], 0, 1, "float32", 7)));
    const score = (rows: number[][], lengths: number[]) => tf.tidy(() => Array.from(rm.rewards(tf.tensor2d(rows, undefined, "int32"), lengths).dataSync()));
    const [a] = score([[1, 2, 3, 0, 0]], [3]);
    const [b] = score([[1, 2, 3, 5, 6]], [3]);
    const [c] = score([[1, 2, 4, 0, 0]], [3]);
    expect(b).toBeCloseTo(a, 6);
    expect(Math.abs(c - a)).toBeGreaterThan(1e-4);
    expect(() => score([[1, 2]], [3])).toThrow(/lengths must be 1 integers in 1..2/);
    rm.dispose();
  });

  it("Bradley–Terry training separates chosen from rejected", () => {
    const rm = new RewardModel(new GPT(tiny, { seed: 2 }));
    const opt = new AdamW(rm.params, { learningRate: 1e-2, weightDecay: 0 });
    const chosen = padSequences([[1, 2, 3], [4, 3, 3]], 0, 8);
    const rejected = padSequences([[1, 2, 5], [4, 3, 6, 6]], 0, 8);
    const first = rm.lossAndGrads(chosen, rejected);
    expect(first.loss.dataSync()[0]).toBeCloseTo(Math.log(2), 6); // the head starts at zero: every reward is 0
    tf.dispose([first.loss, first.grads]);
    let last = { loss: 0, accuracy: 0 };
    for (let i = 0; i < 20; i++) {
      const step = rm.lossAndGrads(chosen, rejected);
      opt.step(step.grads);
      last = { loss: step.loss.dataSync()[0], accuracy: step.accuracy };
      tf.dispose([step.loss, step.grads]);
    }
    expect(last.loss).toBeLessThan(0.3);
    expect(last.accuracy).toBe(1);
    tf.dispose([chosen.ids, rejected.ids]);
    opt.dispose();
    rm.dispose();
  });
});

describe("SFT", () => {
  it("masked targets change neither the loss nor any gradient", () => {
    const model = new GPT(tiny, { seed: 1 });
    const rows = (t: number) => [{ ids: [1, 2, 3, 4, t], mask: [0, 0, 1, 1, 0] }]; // t is a target only, never an input
    const a = chatBatch(rows(5), 0, 8);
    const b = chatBatch(rows(6), 0, 8); // differs only at a masked target
    const ga = sftLossAndGrads(model, a);
    const gb = sftLossAndGrads(model, b);
    expect(ga.loss.dataSync()[0]).toBe(gb.loss.dataSync()[0]);
    const name = "transformer.h.0.mlp.c_fc.weight";
    expect(Array.from(ga.grads[name].dataSync())).toEqual(Array.from(gb.grads[name].dataSync()));
    // And by hand: the mean of -log p over the two unmasked targets (3 after [1,2], 4 after [1,2,3]).
    const logp = tf.tidy(() => tf.logSoftmax(model.forward(a.x).logits).arraySync()[0] as number[][]);
    expect(ga.loss.dataSync()[0]).toBeCloseTo(-(logp[1][3] + logp[2][4]) / 2, 5);
    tf.dispose([a.x, a.y, a.mask, b.x, b.y, b.mask, ga.loss, ga.grads, gb.loss, gb.grads]);
    model.dispose();
  });

  it("a few AdamW steps lower the masked loss", () => {
    const model = new GPT(tiny, { seed: 1 });
    const opt = new AdamW(model.params, { learningRate: 1e-2 });
    const batch = chatBatch([{ ids: [1, 2, 3, 4, 5], mask: [0, 0, 1, 1, 1] }], 0, 8);
    const before = tf.tidy(() => sftLoss(model, batch).dataSync()[0]);
    for (let i = 0; i < 10; i++) {
      const { loss, grads } = sftLossAndGrads(model, batch);
      opt.step(grads);
      tf.dispose([loss, grads]);
    }
    expect(tf.tidy(() => sftLoss(model, batch).dataSync()[0])).toBeLessThan(before / 2);
    tf.dispose([batch.x, batch.y, batch.mask]);
    opt.dispose();
    model.dispose();
  });
});

describe("DPO", () => {
  it("starts at ln 2 with the policy equal to the reference, then prefers the chosen response", () => {
    const policy = new GPT(tiny, { seed: 4 });
    const reference = new GPT(tiny, { seed: 4 });
    const opt = new AdamW(policy.params, { learningRate: 1e-2, weightDecay: 0 });
    const pairs = {
      chosen: chatBatch([{ ids: [1, 2, 3, 3], mask: [0, 0, 1, 1] }], 0, 8),
      rejected: chatBatch([{ ids: [1, 2, 5, 5], mask: [0, 0, 1, 1] }], 0, 8),
    };
    const ref = referenceLogProbs(reference, pairs);
    const first = dpoLossAndGrads(policy, pairs, ref, 0.5);
    expect(first.loss.dataSync()[0]).toBeCloseTo(Math.log(2), 6);
    tf.dispose([first.loss, first.grads]);
    let accuracy = 0;
    for (let i = 0; i < 5; i++) {
      const step = dpoLossAndGrads(policy, pairs, ref, 0.5);
      opt.step(step.grads);
      accuracy = step.accuracy;
      tf.dispose([step.loss, step.grads]);
    }
    expect(accuracy).toBe(1);
    // With sftWeight, the loss is DPO's plus that much of the chosen answers' masked cross-entropy.
    const plain = dpoLossAndGrads(policy, pairs, ref, 0.5);
    const rpo = dpoLossAndGrads(policy, pairs, ref, 0.5, 2);
    const ce = tf.tidy(() => sftLoss(policy, pairs.chosen).dataSync()[0]);
    expect(rpo.loss.dataSync()[0]).toBeCloseTo(plain.loss.dataSync()[0] + 2 * ce, 5);
    tf.dispose([plain.loss, plain.grads, rpo.loss, rpo.grads]);
    tf.dispose([pairs.chosen.x, pairs.chosen.y, pairs.chosen.mask, pairs.rejected.x, pairs.rejected.y, pairs.rejected.mask, ref.chosen, ref.rejected]);
    opt.dispose();
    policy.dispose();
    reference.dispose();
  });
});

describe("RLOO", () => {
  it("raises a rule reward (responses that say token 3), logs KL/entropy/length, leaks no tensors", async () => {
    const policy = new GPT(tiny, { seed: 6 });
    const reference = new GPT(tiny, { seed: 6 });
    const opt = new AdamW(policy.params, { learningRate: 3e-2, weightDecay: 0 });
    const rng = new Rng(1);
    const reward = (_: number[][], responses: number[][]) => responses.map((r) => r.filter((t) => t === 3).length / r.length);
    const opts = { K: 4, maxNewTokens: 4, stopToken: 7, padId: 0, kl: 0.01, rng: rng };
    const before = tf.memory().numTensors;
    const first = await rlooStep(policy, reference, opt, [[1], [2]], reward, opts);
    expect(first.kl).toBeCloseTo(0, 5); // the first samples come from a policy equal to the reference
    expect(first.responses).toHaveLength(8);
    expect(first.length).toBeGreaterThan(0);
    expect(first.entropy).toBeGreaterThan(0);
    expect(first.entropy).toBeLessThanOrEqual(Math.log(8) + 1e-6);
    let last = first;
    for (let i = 0; i < 25; i++) last = await rlooStep(policy, reference, opt, [[1], [2]], reward, opts);
    expect(last.reward).toBeGreaterThan(first.reward + 0.3);
    expect(last.kl).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
    await expect(rlooStep(policy, reference, opt, [[1, 2, 3, 4, 5, 6]], reward, opts)).rejects.toThrow(/exceeds blockSize \+ 1/);
    opt.dispose();
    policy.dispose();
    reference.dispose();
  });
});

describe("the rule-labelled data", () => {
  it("is the same for the same seed; chosen follows the rule and rejected does not", () => {
    expect(preferencePairs(20, 3)).toEqual(preferencePairs(20, 3));
    expect(preferencePairs(20, 3)).not.toEqual(preferencePairs(20, 4));
    for (const p of preferencePairs(200, 3)) {
      expect(followsRule(p.instruction, p.chosen)).toBe(true);
      expect(followsRule(p.instruction, p.rejected)).toBe(false);
    }
    const conv = sftConversations(50, 1);
    const insts = conv.map((c) => /mentions the (\w+)/.exec(c[0].content)![1]);
    conv.forEach((c, i) => expect(c[1].content.includes(insts[i])).toBe(true));
    // Noisy demonstrations: with followRate 0.5 about half mention the word (a random other word can match by chance: 0.5 + 0.5/8).
    const noisy = sftConversations(2000, 1, 0.5);
    const followed = noisy.filter((c) => c[1].content.includes(/mentions the (\w+)/.exec(c[0].content)![1])).length / noisy.length;
    expect(Math.abs(followed - (0.5 + 0.5 / 8))).toBeLessThan(0.04);
    expect(followsRule(instructions(1, 9)[0], "nothing here")).toBe(false);
    expect(followsRule({ speaker: "X", word: "sea", prompt: "" }, "The SEA!")).toBe(true);
    expect(followsRule({ speaker: "X", word: "sea", prompt: "" }, "seasons")).toBe(false);
  });
});

describe("comparing models", () => {
  it("winRate counts 1 for a win, 0 for a loss, 1/2 for a tie", () => {
    expect(winRate([true, false, true, false], [false, true, true, false])).toBe((1 + 0 + 0.5 + 0.5) / 4);
    expect(() => winRate([true], [])).toThrow(/same length/);
  });

  it("cloneGPT copies the weights into independent variables", async () => {
    const a = new GPT(tiny, { seed: 8 });
    const b = await cloneGPT(a);
    const name = "transformer.h.1.attn.c_proj.weight";
    expect(Array.from(b.params[name].dataSync())).toEqual(Array.from(a.params[name].dataSync()));
    tf.tidy(() => b.params[name].assign(tf.zerosLike(b.params[name])));
    expect(a.params[name].dataSync().some((v) => v !== 0)).toBe(true);
    a.dispose();
    b.dispose();
  });

  it("chatReplies samples after the assistant start and cuts the end marker", async () => {
    const tok = new RegexTokenizer().train("abc abc abd", 258);
    tok.registerSpecialTokens({ "<|endoftext|>": tok.vocabSize });
    const chat = addChatTokens(tok);
    const model = new GPT({ ...tiny, vocabSize: tok.vocabSize, blockSize: 16 }, { seed: 9 });
    // Make <|assistant_end|> overwhelmingly likely everywhere: every reply is then empty.
    tf.tidy(() => {
      const wte = model.params["transformer.wte.weight"];
      const rows = wte.arraySync() as number[][];
      rows[chat.assistantEnd] = rows[chat.assistantEnd].map(() => 0);
      model.params["transformer.h.1.mlp.c_proj.bias"].assign(tf.fill([16], 0));
      model.params["transformer.ln_f.bias"].assign(tf.tensor1d(Array.from({ length: 16 }, (_, i) => (i === 0 ? 50 : 0))));
      rows[chat.assistantEnd][0] = 50;
      wte.assign(tf.tensor2d(rows));
    });
    const replies = await chatReplies(model, tok, chat, ["abc", "abd"], { maxNewTokens: 4, rng: new Rng(1) });
    expect(replies).toEqual(["", ""]);
    model.dispose();
  });
});
