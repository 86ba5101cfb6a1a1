/**
 * Sampling from a trained GPT.
 *
 *   const ids = await generate(model, tokenizer.encode("\n"), {
 *     maxNewTokens: 500, temperature: 0.8, topK: 200, topP: 0.95, seed: 1337,
 *     onToken: (id) => process.stdout.write(tokenizer.decode([id])),   // streaming; return false to stop
 *   });                                                                // → prompt + new token ids
 *
 * Exports: generate(model, prompt, GenerateOptions) → Promise<number[]>; GenerateOptions; SampleOptions
 * { temperature?, topK?, topP? }; nextTokenProbabilities(logits, options) → Float64Array (the distribution
 * drawn from); sampleToken(logits, options, rng) → token id; checkSampleOptions(options) throws a RangeError
 * for temperature < 0, topK not a positive integer, topP outside (0, 1] (generate and the others call it).
 */
export * from "./distribution.js";
export * from "./generate.js";
