/** Sampling chat replies and judging them: what the notebook compares SFT, RLHF and DPO with. */
import * as tf from "@tensorflow/tfjs-core";
import { GPT } from "../models/gpt/index.js";
import { generateBatch, type SampleOptions } from "../sample/index.js";
import type { RegexTokenizer } from "../tokenizers/index.js";
import type { Rng } from "../util/random.js";
import { renderForCompletion, type ChatTokens } from "./chat.js";

/** An independent copy of a GPT (same config and weights): a frozen reference, or the start of a new policy. */
export async function cloneGPT(model: GPT): Promise<GPT> {
  const weights: Record<string, Float32Array> = {};
  for (const [name, v] of Object.entries(model.params)) weights[name] = Float32Array.from((await v.data()) as Float32Array);
  return new GPT(model.config, { weights: weights });
}

export interface ReplyOptions extends SampleOptions {
  maxNewTokens: number;
  rng: Rng;
}

/** The assistant's reply to each user message (one turn), sampled in one batch; the end marker is cut off. */
export async function chatReplies(model: GPT, tokenizer: RegexTokenizer, chat: ChatTokens, userMessages: readonly string[], options: ReplyOptions): Promise<string[]> {
  const prompts = userMessages.map((m) => renderForCompletion(tokenizer, chat, [{ role: "user", content: m }], { maxTokens: model.config.blockSize }));
  const room = model.config.blockSize - Math.max(...prompts.map((p) => p.length));
  const out = await generateBatch(model, prompts, { ...options, maxNewTokens: Math.max(1, Math.min(options.maxNewTokens, room)), stopTokens: [chat.assistantEnd] });
  return out.map((ids, i) => {
    const reply = ids.slice(prompts[i].length);
    if (reply[reply.length - 1] === chat.assistantEnd) reply.pop();
    return tokenizer.decode(reply.filter((t) => t < tokenizer.vocabSize));
  });
}

/**
 * Win rate of `a` over `b` judged by a yes/no rule per prompt: 1 when only a's reply passes, 0 when
 * only b's does, ½ for a tie (both or neither).
 */
export function winRate(aPasses: readonly boolean[], bPasses: readonly boolean[]): number {
  if (aPasses.length !== bPasses.length || aPasses.length === 0) throw new RangeError("winRate: two non-empty lists of the same length");
  const score = aPasses.reduce((s, pass, i) => s + (pass === bPasses[i] ? 0.5 : pass ? 1 : 0), 0);
  return score / aPasses.length;
}

/** Disposes a list of tensors-holding batches' tensors at once (notebook convenience). */
export function disposeBatches(...batches: { x: tf.Tensor; y: tf.Tensor; mask: tf.Tensor }[]): void {
  for (const b of batches) tf.dispose([b.x, b.y, b.mask]);
}
