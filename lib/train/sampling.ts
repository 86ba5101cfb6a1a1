/**
 * Seeing what the model writes while it trains, as build-nanogpt prints samples every 250 steps:
 *   new Trainer(model, data, config, [terminalProgress(), periodicSamples({ every: 100, decode, prompt })])
 */
import { generate } from "../sample/index.js";
import type { TrainerCallbacks } from "./trainer.js";

export interface PeriodicSamplesOptions {
  /** Sample after every `every`-th step (and after the last). */
  every: number;
  /** Token ids → text. */
  decode: (ids: number[]) => string;
  /** Prompt token ids (e.g. GPT-2's end-of-text token, or an encoded "Hello, I'm a language model,"). */
  prompt: number[];
  maxNewTokens?: number;
  temperature?: number;
  topK?: number;
  /** The same seed every time, so samples differ only because the model changed. */
  seed?: number;
  /** Where the text goes (default: console.log). */
  write?: (text: string) => void;
}

/** A TrainerCallbacks that generates a sample every `every` steps; the trainer waits for it. */
export function periodicSamples(options: PeriodicSamplesOptions): TrainerCallbacks {
  if (!(Number.isInteger(options.every) && options.every > 0)) throw new RangeError(`periodicSamples: every must be a positive integer, got ${options.every}`);
  const write = options.write ?? ((text: string) => console.log(text));
  let model: Parameters<typeof generate>[0] | null = null;
  let maxIters = 0;
  return {
    onStart(info) {
      model = info.trainer.model;
      maxIters = info.maxIters;
    },
    async onStep(info) {
      const done = info.iter + 1;
      if (!model || (done % options.every !== 0 && done !== maxIters)) return;
      const ids = await generate(model, options.prompt, {
        maxNewTokens: options.maxNewTokens ?? 32,
        temperature: options.temperature ?? 1,
        topK: options.topK ?? 50,
        seed: options.seed ?? 42,
      });
      write(`sample at step ${done}: ${JSON.stringify(options.decode(ids))}`);
    },
  };
}

/**
 * A decode for a model whose vocabulary is padded past the tokenizer's (50304 > 50257): a padding row
 * is never a target, so only a barely trained model draws one, and it shows as "<|pad|>" rather than
 * making the tokenizer throw.
 */
export function paddedDecoder(decode: (ids: number[]) => string, vocabSize: number): (ids: number[]) => string {
  return (ids) => {
    let text = "";
    let run: number[] = [];
    for (const id of [...ids, -1]) {
      if (id >= 0 && id < vocabSize) {
        run.push(id);
        continue;
      }
      text += (run.length ? decode(run) : "") + (id >= vocabSize ? "<|pad|>" : "");
      run = [];
    }
    return text;
  };
}
