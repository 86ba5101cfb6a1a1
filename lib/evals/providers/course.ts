/**
 * The course's own models as a provider: a GPT (a char-level checkpoint from `npm run train`, or
 * GPT-2 from `GPT.fromPretrained`) with its tokenizer, so an eval runs offline with no key.
 * `getText` decodes greedily (temperature 0) or samples; `getProbs` is the softmax of the logits
 * at the last prompt position: the exact distribution, not an API's top-20.
 *
 *   const course = courseModelProvider({ model: gpt, tokenizer: chars, name: "arith-gpt" });
 *   const fromDisk = courseCheckpointProvider("out/arith/ckpt.safetensors");    // tokenizer.model beside it
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { loadGPT, type GPT } from "../../models/index.js";
import { generate } from "../../sample/index.js";
import { loadTokenizer, type Tokenizer } from "../../tokenizers/index.js";
import type { Message } from "../structs.js";
import { ConcurrencyLimit, ProviderError, Tally, type CallOptions, type GetProbsRequest, type GetProbsResponse, type GetTextRequest, type GetTextResponse, type Provider } from "./provider.js";

export interface CourseModelOptions {
  model: GPT;
  tokenizer: Tokenizer;
  /** EvalResult.completer (default "course-gpt"). */
  name?: string;
  /** The text fed to the model (default: the non-system messages, joined by newlines). */
  formatPrompt?(prompt: Message[]): string;
  /** Generation ends at this text (default "\n"; it is not part of the reply). */
  stop?: string;
  seed?: number;
}

export class CourseModelProvider implements Provider {
  readonly model: string;
  readonly tally = new Tally();
  // One forward pass at a time: the model runs in this process, so parallel requests would only interleave.
  private limit = new ConcurrencyLimit(1);

  constructor(private options: CourseModelOptions) {
    this.model = options.name ?? "course-gpt";
  }

  async getText(request: GetTextRequest, options: CallOptions = {}): Promise<GetTextResponse> {
    return this.limit.run(async () => {
      const prompt = this.encodePrompt(request.prompt);
      const stop = this.options.stop ?? "\n";
      const stopTokens = stop ? this.stopTokens(stop) : [];
      const ids = await generate(this.options.model, prompt, {
        maxNewTokens: request.maxTokens ?? 64,
        temperature: request.temperature ?? 0,
        seed: this.options.seed ?? 1337,
        stopTokens,
      });
      let text = this.options.tokenizer.decode(ids.slice(prompt.length));
      const cut = stop ? text.indexOf(stop) : -1;
      const finishReason = cut >= 0 ? "stop" : "length";
      if (cut >= 0) text = text.slice(0, cut);
      const usage = { inputTokens: prompt.length, outputTokens: ids.length - prompt.length };
      this.tally.add(usage);
      return { model: this.model, text, finishReason, usage };
    }, options.signal);
  }

  async getProbs(request: GetProbsRequest, options: CallOptions = {}): Promise<GetProbsResponse> {
    return this.limit.run(async () => {
      const prompt = this.encodePrompt(request.prompt);
      const probs = await nextTokenProbs(this.options.model, prompt);
      const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]).slice(0, request.minTopN);
      const out: Record<string, number> = {};
      for (const id of order) out[this.options.tokenizer.decode([id])] = probs[id];
      this.tally.add({ inputTokens: prompt.length, outputTokens: 0 });
      return { model: this.model, probs: out, usage: { inputTokens: prompt.length, outputTokens: 0 } };
    }, options.signal);
  }

  private encodePrompt(prompt: Message[]): number[] {
    const text = this.options.formatPrompt ? this.options.formatPrompt(prompt) : prompt.filter((m) => m.role !== "system").map((m) => m.content).join("\n");
    let ids: number[];
    try {
      ids = this.options.tokenizer.encode(text);
    } catch (error) {
      throw new ProviderError(`${this.model}: cannot encode the prompt: ${(error as Error).message}`);
    }
    if (ids.length === 0) throw new ProviderError(`${this.model}: the prompt is empty`);
    return ids.slice(-this.options.model.config.blockSize);
  }

  /** Token ids that decode to text containing the stop string (for a char model: just "\n"). */
  private stopTokens(stop: string): number[] {
    const ids: number[] = [];
    for (let id = 0; id < this.options.tokenizer.vocabSize && ids.length < 64; id++) {
      try {
        if (this.options.tokenizer.decode([id]).includes(stop)) ids.push(id);
      } catch {
        // an id the tokenizer does not decode on its own
      }
    }
    return ids;
  }
}

/** The next-token distribution after `prompt` (softmax of the last position's logits), one entry per token id. */
export async function nextTokenProbs(model: GPT, prompt: number[]): Promise<Float64Array> {
  const probs = tf.tidy(() => {
    const idx = tf.tensor2d([prompt], [1, prompt.length], "int32");
    const { logits } = model.forward(idx, undefined, { lastPositionOnly: true });
    return tf.softmax(tf.reshape(logits, [-1]));
  });
  const values = Float64Array.from((await probs.data()) as Float32Array);
  probs.dispose();
  return values;
}

export function courseModelProvider(options: CourseModelOptions): CourseModelProvider {
  return new CourseModelProvider(options);
}

/** A checkpoint from disk, with the tokenizer.model written next to it (as `npm run train` does). */
export function courseCheckpointProvider(path: string, options: Partial<Omit<CourseModelOptions, "model" | "tokenizer">> = {}): CourseModelProvider {
  if (!existsSync(path)) throw new ProviderError(`courseCheckpointProvider: no checkpoint at ${path}`);
  const tokenizerPath = join(dirname(path), "tokenizer.model");
  if (!existsSync(tokenizerPath)) throw new ProviderError(`courseCheckpointProvider: no tokenizer for ${path}: expected ${tokenizerPath} next to it`);
  return new CourseModelProvider({ ...options, model: loadGPT(path), tokenizer: loadTokenizer(tokenizerPath), name: options.name ?? path });
}
