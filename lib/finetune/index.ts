/**
 * Fine-tuning a GPT into a chat model, after nanochat: SFT, a reward model, RLHF (RLOO) and DPO.
 *
 *   const tok = await loadTiktokenEncoding("gpt2"); const chat = addChatTokens(tok);   // role markers as new ids
 *   const model = await growEmbedding(base, tok.vocabSize, [chat.userStart, ...], 50257); // new rows = mean row
 *   const r = renderConversation(tok, chat, [{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello." }]);
 *   const batch = chatBatch([r], chat.assistantEnd, model.config.blockSize);   // x, y, mask (B, T)
 *   const { loss, grads } = sftLossAndGrads(model, batch); optimizer.step(grads);  // masked cross-entropy
 *   const rm = new RewardModel(copyOfSft); rm.lossAndGrads(chosen, rejected);       // Bradley–Terry
 *   await rlooStep(policy, reference, optimizer, prompts, rewardFn, { K: 4, kl: new AdaptiveKL(0.1, 2), ... });
 *   dpoLossAndGrads(policy, pairs, referenceLogProbs(reference, pairs), 0.1);
 *
 * Exports: chat.ts (CHAT_TOKEN_NAMES, ChatTokens, ChatMessage, addChatTokens, growEmbedding,
 * renderConversation, renderForCompletion, chatBatch), losses.ts (maskedCrossEntropy,
 * tokenLogProbs, maskedEntropy, bradleyTerryLoss, dpoLoss), objectives.ts (sftLoss,
 * sftLossAndGrads, sequenceLogProbs, referenceLogProbs, dpoLossAndGrads, gradsByName), reward.ts
 * (gptHidden, RewardModel, padSequences), rloo.ts (rlooAdvantages, sequenceKL, AdaptiveKL,
 * rlooStep), data.ts (the rule-labelled instruction task: sftConversations, preferencePairs,
 * instructions, followsRule), replies.ts (cloneGPT, chatReplies, winRate, disposeBatches).
 */
export * from "./chat.js";
export * from "./losses.js";
export * from "./objectives.js";
export * from "./reward.js";
export * from "./rloo.js";
export * from "./data.js";
export * from "./replies.js";
