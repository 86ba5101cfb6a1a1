import * as tf from "@tensorflow/tfjs-core";
import { KVCache, type GPT } from "../models/gpt/index.js";
import { Rng } from "../util/random.js";
import { checkSampleOptions, sampleToken, type SampleOptions } from "./distribution.js";

export interface GenerateOptions extends SampleOptions {
  /** Number of tokens to append (at most: a stop token or onToken can end a sequence sooner). */
  maxNewTokens: number;
  /** Seeds the sampling (default 1337), unless rng is given. */
  seed?: number;
  rng?: Rng;
  /** A sequence ends as soon as it emits one of these; the stop token stays its last token. */
  stopTokens?: ArrayLike<number>;
  /**
   * Keep every layer's keys and values (a KVCache), so that each new token costs one position
   * instead of the whole context. Default true. Once a sequence outgrows blockSize each token
   * costs a whole forward again, as without the cache: see nextLogits.
   */
  useCache?: boolean;
  /**
   * Called with every new token as soon as it is drawn, its index among the sequence's new tokens
   * and the sequence's index in the batch (0 for generate). Return false to end that sequence.
   */
  onToken?: (token: number, index: number, sequence: number) => void | boolean;
}

/**
 * Autoregressive sampling, as nanoGPT's GPT.generate: feed the sequence (its last blockSize
 * tokens), take the logits of the last position, draw a token, append, repeat.
 * Returns the prompt followed by the new tokens.
 */
export async function generate(model: GPT, prompt: ArrayLike<number>, options: GenerateOptions): Promise<number[]> {
  return (await sampleAll(model, [prompt], options, "generate"))[0];
}

/**
 * generate for several sequences at once, one forward per step for all of them (prompts of one
 * length share a batch; other lengths run after, in order of first appearance). For five samples
 * of one prompt: generateBatch(model, Array(5).fill(prompt), options).
 * Returns each prompt followed by its new tokens, in the prompts' order.
 */
export async function generateBatch(model: GPT, prompts: ArrayLike<number>[], options: GenerateOptions): Promise<number[][]> {
  return sampleAll(model, prompts, options, "generateBatch");
}

async function sampleAll(model: GPT, prompts: ArrayLike<number>[], options: GenerateOptions, caller: string): Promise<number[][]> {
  const sequences = prompts.map((prompt, i) => checkedPrompt(prompt, model.config.vocabSize, prompts.length > 1 ? `${caller}: prompt ${i}` : `${caller}: the prompt`));
  if (!(Number.isInteger(options.maxNewTokens) && options.maxNewTokens >= 0)) {
    throw new RangeError(`${caller}: maxNewTokens must be a non-negative integer, got ${options.maxNewTokens}`);
  }
  checkSampleOptions(options);
  const rng = options.rng ?? new Rng(options.seed ?? 1337);
  const byLength = new Map<number, number[]>();
  sequences.forEach((s, i) => byLength.set(s.length, [...(byLength.get(s.length) ?? []), i]));
  for (const batch of byLength.values()) await sampleBatch(model, sequences, batch, options, rng);
  return sequences;
}

function checkedPrompt(prompt: ArrayLike<number>, vocabSize: number, what: string): number[] {
  if (prompt.length === 0) throw new RangeError(`${what} needs at least one token`);
  const tokens = Array.from(prompt);
  const bad = tokens.findIndex((t) => !(Number.isInteger(t) && t >= 0 && t < vocabSize));
  if (bad >= 0) throw new RangeError(`${what} has ${tokens[bad]} at ${bad}, not a token id (0 to ${vocabSize - 1})`);
  return tokens;
}

/** Extend sequences[i] for each i in batch (all of one length) in place, one step for all of them at a time. */
async function sampleBatch(model: GPT, sequences: number[][], batch: number[], options: GenerateOptions, rng: Rng): Promise<void> {
  const stop = new Set(Array.from(options.stopTokens ?? []));
  const { vocabSize, blockSize } = model.config;
  let cache = options.useCache === false ? null : new KVCache(model.config);
  let alive = batch;
  try {
    for (let i = 0; i < options.maxNewTokens && alive.length > 0; i++) {
      const contexts = alive.map((s) => sequences[s]);
      if (cache && contexts[0].length > blockSize) {
        cache.dispose();
        cache = null;
      }
      const logits = nextLogits(model, contexts, cache);
      const values = (await logits.data()) as Float32Array;
      logits.dispose();
      const going: number[] = [];
      alive.forEach((s, row) => {
        const next = sampleToken(values.subarray(row * vocabSize, (row + 1) * vocabSize), options, rng);
        sequences[s].push(next);
        if (options.onToken?.(next, i, s) !== false && !stop.has(next)) going.push(row);
      });
      if (going.length < alive.length) {
        cache?.keepSequences(going);
        alive = going.map((row) => alive[row]);
      }
      // On the cpu backend data() resolves at once: yield to the event loop so that signal handlers
      // (Ctrl-C) and displays get to run between tokens.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    cache?.dispose();
  }
}

/**
 * Next-token logits (B, 1, V) of equally long contexts. With a cache, only the tokens it has not
 * seen yet are fed (the whole prompt first, then one token a step). A context longer than
 * blockSize is cropped to its last blockSize tokens and run whole, as nanoGPT does: the cached
 * keys carry the positions they were computed at, which cropping shifts, so there is no cache
 * to keep (the caller drops it).
 */
function nextLogits(model: GPT, contexts: number[][], cache: KVCache | null): tf.Tensor3D {
  return tf.tidy(() => {
    const fresh = contexts.map((c) => (cache ? c.slice(cache.length) : c.slice(-model.config.blockSize)));
    const idx = tf.tensor2d(fresh, [fresh.length, fresh[0].length], "int32");
    return model.forward(idx, undefined, { lastPositionOnly: true, cache: cache ?? undefined }).logits;
  });
}
