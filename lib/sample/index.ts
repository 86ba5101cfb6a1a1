/**
 * Sampling from a trained GPT.
 *
 *   const ids = await generate(model, tokenizer.encode("\n"), {
 *     maxNewTokens: 500, temperature: 0.8, topK: 200, topP: 0.95, seed: 1337,
 *     onToken: (id) => process.stdout.write(tokenizer.decode([id])),   // streaming; return false to stop
 *   });                                                                // → prompt + new token ids
 *   const five = await generateBatch(model, Array(5).fill(prompt), {   // one forward per step for all five
 *     maxNewTokens: 30, topK: 50, stopTokens: [eot], onToken: (id, i, sequence) => ...,
 *   });                                                                // → number[][]
 *
 * Both keep a KV cache (useCache: false turns it off): the prompt is fed once, then each new token
 * alone. Past blockSize tokens the context is cropped and run whole each step, as nanoGPT does.
 *
 * Exports: generate(model, prompt, GenerateOptions) → Promise<number[]>; generateBatch(model, prompts,
 * GenerateOptions) → Promise<number[][]>; GenerateOptions (maxNewTokens, seed | rng, stopTokens, useCache,
 * onToken(token, index, sequence) → false ends that sequence, and the SampleOptions); SampleOptions
 * { temperature?, topK?, topP? }; nextTokenProbabilities(logits, options) → Float64Array (the distribution
 * drawn from); sampleToken(logits, options, rng) → token id; checkSampleOptions(options) throws a RangeError
 * for temperature < 0, topK not a positive integer, topP outside (0, 1] (generate and the others call it).
 */
export * from "./distribution.js";
export * from "./generate.js";
