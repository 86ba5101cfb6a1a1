/**
 * A chat format on top of a GPT-2-style tokenizer, after nanochat: role markers are special tokens
 * with new ids, a conversation renders to ids plus a loss mask that is 1 only where the model must
 * learn to write (the assistant's text and its end marker).
 */
import * as tf from "@tensorflow/tfjs-core";
import { GPT } from "../models/gpt/index.js";
import type { RegexTokenizer } from "../tokenizers/index.js";

export const CHAT_TOKEN_NAMES = ["<|user_start|>", "<|user_end|>", "<|assistant_start|>", "<|assistant_end|>"] as const;

/** Ids of the chat's special tokens; bos is the tokenizer's <|endoftext|> (GPT-2's document separator). */
export interface ChatTokens {
  bos: number;
  userStart: number;
  userEnd: number;
  assistantStart: number;
  assistantEnd: number;
}

export type Role = "system" | "user" | "assistant";
export interface ChatMessage {
  role: Role;
  content: string;
}

export interface RenderedConversation {
  ids: number[];
  /** 1 where the token is a training target (assistant text and its end marker), else 0; same length as ids. */
  mask: number[];
}

/**
 * Registers the role markers on `tokenizer` as new ids after its current ones (idempotent) and
 * returns all chat ids. GPT-2's tokenizer ends at 50256 = <|endoftext|>, so they are 50257–50260.
 */
export function addChatTokens(tokenizer: RegexTokenizer, bos = "<|endoftext|>"): ChatTokens {
  const bosId = tokenizer.specialTokens.get(bos);
  if (bosId === undefined) throw new Error(`addChatTokens: the tokenizer has no ${bos} token to begin conversations with`);
  const missing = CHAT_TOKEN_NAMES.filter((name) => !tokenizer.specialTokens.has(name));
  const next = tokenizer.vocabSize;
  tokenizer.registerSpecialTokens(Object.fromEntries(missing.map((name, i) => [name, next + i])));
  const id = (name: string) => tokenizer.specialTokens.get(name)!;
  return {
    bos: bosId,
    userStart: id("<|user_start|>"),
    userEnd: id("<|user_end|>"),
    assistantStart: id("<|assistant_start|>"),
    assistantEnd: id("<|assistant_end|>"),
  };
}

/**
 * A copy of `model` whose vocabulary holds `vocabSize` ids (at least its own), with the rows of
 * `newIds` set to the mean of the first `knownRows` embedding rows. Why the mean: the LM head is
 * tied, so a new token's logit is h·mean(rows) = the mean of the known tokens' logits, below the
 * likely ones; the pretrained next-token distribution barely moves, whereas random rows (or
 * nanoGPT's never-trained padding rows) could grab probability from every context at once.
 * The caller disposes the old model.
 */
export async function growEmbedding(model: GPT, vocabSize: number, newIds: readonly number[], knownRows: number): Promise<GPT> {
  const { vocabSize: old, nEmbd: C } = model.config;
  if (!(Number.isInteger(vocabSize) && vocabSize >= old)) throw new RangeError(`growEmbedding: vocabSize ${vocabSize} is below the model's ${old}`);
  if (!(knownRows > 0 && knownRows <= old)) throw new RangeError(`growEmbedding: knownRows must be in 1..${old}, got ${knownRows}`);
  const bad = newIds.find((id) => !(Number.isInteger(id) && id >= knownRows && id < vocabSize));
  if (bad !== undefined) throw new RangeError(`growEmbedding: new id ${bad} is not in ${knownRows}..${vocabSize - 1}`);
  const weights: Record<string, Float32Array> = {};
  for (const [name, v] of Object.entries(model.params)) weights[name] = Float32Array.from((await v.data()) as Float32Array);
  const wte = new Float32Array(vocabSize * C);
  wte.set(weights["transformer.wte.weight"]);
  const mean = new Float64Array(C);
  for (let r = 0; r < knownRows; r++) for (let c = 0; c < C; c++) mean[c] += wte[r * C + c] / knownRows;
  for (const id of newIds) for (let c = 0; c < C; c++) wte[id * C + c] = mean[c];
  weights["transformer.wte.weight"] = wte;
  return new GPT({ ...model.config, vocabSize: vocabSize }, { weights: weights });
}

export interface RenderOptions {
  /** Keep at most this many tokens (the model's blockSize + 1 for training pairs); the rest is cut. */
  maxTokens?: number;
}

/**
 * Ids and loss mask of a conversation, as nanochat's render_conversation: <|endoftext|>, then
 * each user turn wrapped in <|user_start|> … <|user_end|> and each assistant turn in
 * <|assistant_start|> … <|assistant_end|>. Only the assistant's text and <|assistant_end|> are
 * targets. A leading system message is folded into the first user turn (GPT-2 has no system role).
 * Turns must alternate user, assistant, user, …
 */
export function renderConversation(tokenizer: RegexTokenizer, chat: ChatTokens, messages: readonly ChatMessage[], options: RenderOptions = {}): RenderedConversation {
  const turns = foldSystem(messages);
  const ids: number[] = [chat.bos];
  const mask: number[] = [0];
  const add = (tokens: number[], target: 0 | 1) => {
    for (const t of tokens) {
      ids.push(t);
      mask.push(target);
    }
  };
  turns.forEach((m, i) => {
    const expected = i % 2 === 0 ? "user" : "assistant";
    if (m.role !== expected) throw new Error(`renderConversation: message ${i} is from ${m.role}, expected ${expected} (turns alternate, user first)`);
    const text = tokenizer.encode(m.content, { allowedSpecial: "none" });
    if (m.role === "user") add([chat.userStart, ...text, chat.userEnd], 0);
    else {
      add([chat.assistantStart], 0);
      add([...text, chat.assistantEnd], 1);
    }
  });
  return truncate({ ids: ids, mask: mask }, options.maxTokens);
}

/**
 * The prompt for generating the assistant's next reply: the conversation up to its last user turn
 * (a trailing assistant turn is dropped, as nanochat does) followed by <|assistant_start|>.
 */
export function renderForCompletion(tokenizer: RegexTokenizer, chat: ChatTokens, messages: readonly ChatMessage[], options: RenderOptions = {}): number[] {
  const turns = messages.length > 0 && messages[messages.length - 1].role === "assistant" ? messages.slice(0, -1) : messages;
  const { ids } = renderConversation(tokenizer, chat, turns);
  ids.push(chat.assistantStart);
  // Truncation keeps the end: the prompt must finish with the assistant start.
  return options.maxTokens !== undefined && ids.length > options.maxTokens ? ids.slice(ids.length - options.maxTokens) : ids;
}

function foldSystem(messages: readonly ChatMessage[]): ChatMessage[] {
  if (messages.length === 0 || messages[0].role !== "system") return [...messages];
  if (messages.length < 2 || messages[1].role !== "user") throw new Error("renderConversation: a system message must be followed by a user message");
  return [{ role: "user", content: `${messages[0].content}\n\n${messages[1].content}` }, ...messages.slice(2)];
}

function truncate(r: RenderedConversation, maxTokens?: number): RenderedConversation {
  if (maxTokens === undefined || r.ids.length <= maxTokens) return r;
  if (!(Number.isInteger(maxTokens) && maxTokens > 0)) throw new RangeError(`renderConversation: maxTokens must be a positive integer, got ${maxTokens}`);
  return { ids: r.ids.slice(0, maxTokens), mask: r.mask.slice(0, maxTokens) };
}

/** A padded training batch: x, y (B, T) int32 and mask (B, T) float32, mask 1 where y is a target. */
export interface ChatBatch {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
  mask: tf.Tensor2D;
}

/**
 * Next-token pairs from rendered conversations: x = ids[:-1], y = ids[1:], the mask shifted with
 * y (a target counts when the token predicted is one to learn). Rows are padded on the right to the
 * longest (at most blockSize) with padId, masked out. The caller disposes the tensors.
 */
export function chatBatch(rows: readonly RenderedConversation[], padId: number, blockSize: number): ChatBatch {
  const T = Math.min(blockSize, Math.max(1, ...rows.map((r) => r.ids.length - 1)));
  const x: number[][] = [];
  const y: number[][] = [];
  const mask: number[][] = [];
  for (const r of rows) {
    const n = Math.min(T, r.ids.length - 1);
    const pad = (values: number[], fill: number) => [...values.slice(0, n), ...Array(T - n).fill(fill)];
    x.push(pad(r.ids.slice(0, -1), padId));
    y.push(pad(r.ids.slice(1), padId));
    mask.push(pad(r.mask.slice(1), 0));
  }
  const B = rows.length;
  return {
    x: tf.tensor2d(x, [B, T], "int32"),
    y: tf.tensor2d(y, [B, T], "int32"),
    mask: tf.tensor2d(mask, [B, T], "float32"),
  };
}
