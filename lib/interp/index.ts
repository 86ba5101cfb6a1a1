/**
 * Looking inside transformers, TransformerLens-style.
 *
 *   const lens = new HookedGPT(model);                        // any GPT (char model or GPT-2); weights used as they are
 *   const { logits, cache } = lens.runWithCache(tokens);      // tokens: (batch, pos) int32 tensor or number[][]
 *   cache.get("pattern", 0)                                   // blocks.0.attn.hook_pattern (batch, head, query, key)
 *   const { stack, labels } = cache.decomposeResid();         // embed, pos_embed, 0_attn_out, 0_mlp_out, …
 *   cache.logitAttrs(stack, correct, incorrect)               // direct logit attribution (stack sliced to one position)
 *   lens.runWithHooks(tokens, { fwdHooks: [[getActName("z", 1), (z) => tf.zerosLike(z)]] }) // replace an activation
 *   lens.hooks([[name, fn]], () => lens.runWithHooks(tokens)) // attached for the scope only, even if it throws
 *   await patchResidual(lens, { corrupted, clean: cache, metric: logitDiff(correct, incorrect) }) // (layer, pos)
 *   const probes = await probeLayers(cache, labels, { position: -1 }); probes[2].testAccuracy
 *   logits.dispose(); cache.dispose(); stack.dispose();
 *
 * Exports: toTokens(tokenizer, text, { prependBos?, bos?, allowedSpecial? }) → ids (BOS first by default),
 * toStrTokens(tokenizer, textOrIds, options?) → one string per token, toString(tokenizer, ids | ids[]) →
 * text | texts, toSingleToken(tokenizer, text) → id (an Error unless exactly one token), bosToken(tokenizer, bos?),
 * END_OF_TEXT, ToTokensOptions.
 * An attention-only GPT (config.attnOnly, TransformerLens's attn_only) has no resid_mid, ln2 or MLP hook points.
 * Hooks: HookedGPT, ActivationCache, getActName, hookNames, blockHookNames, headResults, MASKED_SCORE, and types
 * Tokens, HookFn, HookPoint, FwdHook, NameFilter, HookRunOptions, CacheOptions, PosSlice, ResidStack.
 * Patching: patchResidual, patchAttnHeads, patchAttnHeadsByPos, patchMlp, patchMlpByPos, logitDiff, Metric, PatchOptions.
 * Probes: trainProbe, probeLayers, Probe, ProbeOptions.
 * Toy models (toy/index.ts): ToyTokenizer, toyVocab, palindromes, sortingExamples, inductionRows, repeatedTokens, trainTestSplit,
 * trainToyModel (checkpoint in out/toy-models/<task>/<run hash>/, reused), repeatedBlocks, skipBigramRows, predictions, answerAccuracy, lossByPosition, inductionScores, previousTokenScores.
 * Visuals (figures for showPlot, or HTML): attentionPatterns, showAttentionHeads / attentionHeadsHtml (offline, inline JS), showColoredTokens /
 * coloredTokensHtml, probeHeatmap, probeLines, patchingHeatmap, attributionBars, residualPlot, layerDifferences, tokenLabels.
 */
export * from "./tokens.js";
export * from "./act-names.js";
export * from "./hooked.js";
export * from "./cache.js";
export * from "./patching.js";
export * from "./probes.js";
export * from "./toy/index.js";
export * from "./visuals.js";
