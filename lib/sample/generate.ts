import * as tf from "@tensorflow/tfjs-core";
import type { GPT } from "../models/gpt/index.js";
import { Rng } from "../util/random.js";
import { checkSampleOptions, sampleToken, type SampleOptions } from "./distribution.js";

export interface GenerateOptions extends SampleOptions {
  /** Number of tokens to append. */
  maxNewTokens: number;
  /** Seeds the sampling (default 1337), unless rng is given. */
  seed?: number;
  rng?: Rng;
  /** Called with every new token as soon as it is drawn; return false to stop early. */
  onToken?: (token: number, index: number) => void | boolean;
}

/**
 * Autoregressive sampling, as nanoGPT's GPT.generate: feed the sequence (its last blockSize
 * tokens), take the logits of the last position, draw a token, append, repeat.
 * Returns the prompt followed by the new tokens.
 */
export async function generate(model: GPT, prompt: ArrayLike<number>, options: GenerateOptions): Promise<number[]> {
  if (prompt.length === 0) throw new RangeError("generate: the prompt needs at least one token");
  if (!(Number.isInteger(options.maxNewTokens) && options.maxNewTokens >= 0)) {
    throw new RangeError(`generate: maxNewTokens must be a non-negative integer, got ${options.maxNewTokens}`);
  }
  checkSampleOptions(options);
  const rng = options.rng ?? new Rng(options.seed ?? 1337);
  const tokens = Array.from(prompt);
  const { blockSize } = model.config;
  for (let i = 0; i < options.maxNewTokens; i++) {
    const context = tokens.slice(-blockSize); // crop to what the position embeddings cover
    const logits = tf.tidy(() => {
      const idx = tf.tensor2d(context, [1, context.length], "int32");
      return model.forward(idx, undefined, { lastPositionOnly: true }).logits;
    });
    const values = await logits.data();
    logits.dispose();
    const next = sampleToken(values, options, rng);
    tokens.push(next);
    if (options.onToken?.(next, i) === false) break;
    // On the cpu backend data() resolves at once: yield to the event loop so that signal handlers
    // (Ctrl-C) and displays get to run between tokens.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return tokens;
}
