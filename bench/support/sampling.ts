/**
 * Timing our sampler on one prompt, shared by bench/gpt2.ts and bench/cpu.ts: tokens/s is the
 * steady state, the intervals between new tokens after the first (which pays for the prompt,
 * reported as prefillMs); CPU time is counted over the same interval.
 */
import type { GPT } from "../../lib/models/gpt/index.js";
import { generate } from "../../lib/sample/index.js";

export interface SamplingRun {
  context: number;
  cache: boolean;
  tokens: number;
  prefillMs: number;
  tokensPerS: number;
  cpuMsPerToken: number;
}

/** Draws `tokens` new tokens (top-k 50, seed 1) after `prompt`, with the KV cache or without. */
export async function timeSampling(model: GPT, prompt: number[], tokens: number, cache: boolean): Promise<SamplingRun> {
  const stamps: number[] = [];
  let cpuFirst = process.cpuUsage();
  const start = performance.now();
  await generate(model, prompt, {
    maxNewTokens: tokens, topK: 50, seed: 1, useCache: cache,
    onToken: (_, i) => {
      stamps.push(performance.now());
      if (i === 0) cpuFirst = process.cpuUsage();
    },
  });
  const cpu = process.cpuUsage(cpuFirst);
  return {
    context: prompt.length, cache, tokens, prefillMs: stamps[0] - start,
    tokensPerS: (tokens - 1) / ((stamps[tokens - 1] - stamps[0]) / 1000),
    cpuMsPerToken: (cpu.user + cpu.system) / 1000 / (tokens - 1),
  };
}
