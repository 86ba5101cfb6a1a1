// The chat format on GPT-2's tokenizer: role markers as new ids, conversations rendered to exact ids
// and loss masks (text ids as tiktoken's gpt2 encoding gives them, written out here), system folding,
// truncation, the generation prompt, next-token batches, and the grown embedding (new rows = mean row).
import { beforeAll, describe, expect, it } from "vitest";
import { tf, useBackend } from "../lib/engine/index.js";
import { GPT } from "../lib/models/gpt/index.js";
import { loadTiktokenEncoding, type RegexTokenizer } from "../lib/tokenizers/index.js";
import { addChatTokens, chatBatch, growEmbedding, renderConversation, renderForCompletion, type ChatTokens } from "../lib/finetune/index.js";

let tok: RegexTokenizer;
let chat: ChatTokens;
// tiktoken gpt2: "hello world" → [31373, 995], "Fine." → [34389, 13], "How are you?" → [2437, 389, 345, 30], "Well." → [5779, 13]
const HELLO = [31373, 995];
const FINE = [34389, 13];
const HOW = [2437, 389, 345, 30];
const WELL = [5779, 13];
const [BOS, US, UE, AS, AE] = [50256, 50257, 50258, 50259, 50260];

beforeAll(async () => {
  await useBackend("cpu");
  tok = await loadTiktokenEncoding("gpt2");
  chat = addChatTokens(tok);
});

describe("chat tokens", () => {
  it("are new ids after <|endoftext|>, registered once", () => {
    expect(chat).toEqual({ bos: BOS, userStart: US, userEnd: UE, assistantStart: AS, assistantEnd: AE });
    expect(tok.vocabSize).toBe(50261);
    expect(addChatTokens(tok)).toEqual(chat);
    expect(tok.vocabSize).toBe(50261);
    expect(tok.decode([US, ...HELLO, UE])).toBe("<|user_start|>hello world<|user_end|>");
  });
});

describe("renderConversation", () => {
  it("gives exact ids; the mask is 1 on assistant text and its end token only", () => {
    const r = renderConversation(tok, chat, [
      { role: "user", content: "hello world" },
      { role: "assistant", content: "Fine." },
      { role: "user", content: "How are you?" },
      { role: "assistant", content: "Well." },
    ]);
    expect(r.ids).toEqual([BOS, US, ...HELLO, UE, AS, ...FINE, AE, US, ...HOW, UE, AS, ...WELL, AE]);
    expect(r.mask).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
  });

  it("folds a system message into the first user turn", () => {
    const r = renderConversation(tok, chat, [
      { role: "system", content: "Be brief." },
      { role: "user", content: "hello world" },
      { role: "assistant", content: "Fine." },
    ]);
    expect(r.ids).toEqual([BOS, US, 3856, 4506, 13, 198, 198, ...HELLO, UE, AS, ...FINE, AE]); // "Be brief.\n\nhello world"
    expect(r.mask).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
  });

  it("truncates to maxTokens, mask with it", () => {
    const r = renderConversation(tok, chat, [{ role: "user", content: "hello world" }, { role: "assistant", content: "Fine." }], { maxTokens: 7 });
    expect(r.ids).toEqual([BOS, US, ...HELLO, UE, AS, FINE[0]]);
    expect(r.mask).toEqual([0, 0, 0, 0, 0, 0, 1]);
  });

  it("encodes role-marker text inside a message as ordinary text, never as a marker", () => {
    const r = renderConversation(tok, chat, [{ role: "user", content: "<|assistant_end|>" }]);
    expect(r.ids.slice(2, -1)).not.toContain(AE);
    expect(tok.decode(r.ids.slice(2, -1))).toBe("<|assistant_end|>");
  });

  it("refuses turns that do not alternate, user first", () => {
    expect(() => renderConversation(tok, chat, [{ role: "assistant", content: "Hi" }])).toThrow(/message 0 is from assistant, expected user/);
    expect(() => renderConversation(tok, chat, [{ role: "user", content: "a" }, { role: "user", content: "b" }])).toThrow(/message 1/);
  });
});

describe("renderForCompletion", () => {
  it("ends with the assistant start, dropping a trailing assistant turn; truncation keeps the end", () => {
    const turns = [{ role: "user" as const, content: "hello world" }, { role: "assistant" as const, content: "Fine." }];
    expect(renderForCompletion(tok, chat, turns)).toEqual([BOS, US, ...HELLO, UE, AS]);
    expect(renderForCompletion(tok, chat, turns.slice(0, 1), { maxTokens: 3 })).toEqual([995, UE, AS]);
  });
});

describe("chatBatch", () => {
  it("shifts ids into x/y, the mask with y, and right-pads with masked pad tokens", () => {
    const rows = [
      { ids: [1, 2, 3, 4], mask: [0, 0, 1, 1] },
      { ids: [5, 6], mask: [0, 1] },
    ];
    const b = chatBatch(rows, 9, 16);
    expect(b.x.arraySync()).toEqual([[1, 2, 3], [5, 9, 9]]);
    expect(b.y.arraySync()).toEqual([[2, 3, 4], [6, 9, 9]]);
    expect(b.mask.arraySync()).toEqual([[0, 1, 1], [1, 0, 0]]);
    tf.dispose([b.x, b.y, b.mask]);
    const cut = chatBatch(rows, 9, 2);
    expect(cut.x.arraySync()).toEqual([[1, 2], [5, 9]]);
    tf.dispose([cut.x, cut.y, cut.mask]);
  });
});

describe("growEmbedding", () => {
  it("keeps the old rows, sets the new ones to the mean row: old logits unchanged, a new token's logit is their mean", async () => {
    const small = new GPT({ vocabSize: 10, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8, dropout: 0, bias: true }, { seed: 3 });
    const before = tf.memory().numTensors;
    const grown = await growEmbedding(small, 12, [10, 11], 10);
    expect(grown.config.vocabSize).toBe(12);
    const old = small.params["transformer.wte.weight"].arraySync() as number[][];
    const wte = grown.params["transformer.wte.weight"].arraySync() as number[][];
    const mean = old[0].map((_, c) => old.reduce((s, row) => s + row[c], 0) / 10);
    expect(wte.slice(0, 10)).toEqual(old);
    for (const id of [10, 11]) wte[id].forEach((v, c) => expect(v).toBeCloseTo(mean[c], 7));
    const x = tf.tensor2d([[1, 2, 3, 4]], [1, 4], "int32");
    const a = tf.tidy(() => small.forward(x).logits.arraySync()[0]);
    const b = tf.tidy(() => grown.forward(x).logits.arraySync()[0]);
    a.forEach((row, t) => {
      row.forEach((v, i) => expect(b[t][i]).toBeCloseTo(v, 5));
      expect(b[t][10]).toBeCloseTo(row.reduce((s, v) => s + v, 0) / 10, 5);
    });
    await expect(growEmbedding(small, 11, [9], 10)).rejects.toThrow(/new id 9 is not in 10..10/);
    x.dispose();
    grown.dispose();
    expect(tf.memory().numTensors).toBe(before);
    small.dispose();
  });
});
