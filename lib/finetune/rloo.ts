/**
 * RLHF with RLOO (Ahmadian et al. 2024, "Back to Basics"): REINFORCE where each of K samples of a
 * prompt is baselined by the mean reward of the other K − 1, and the reward is leashed to the
 * frozen SFT reference by a KL penalty, R = r − β·KL.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { GPT } from "../models/gpt/index.js";
import type { AdamW } from "../train/index.js";
import { generateBatch } from "../sample/index.js";
import type { Rng } from "../util/random.js";
import { chatBatch, type ChatBatch } from "./chat.js";
import { maskedEntropy, tokenLogProbs } from "./losses.js";
import { gradsByName } from "./objectives.js";

/**
 * Leave-one-out advantages of rewards grouped K at a time (rewards[g·K + i] is sample i of prompt g):
 * A_i = R_i − mean_{j≠i} R_j = K/(K−1)·(R_i − mean R).
 */
export function rlooAdvantages(rewards: readonly number[], K: number): number[] {
  if (!(Number.isInteger(K) && K >= 2)) throw new RangeError(`rlooAdvantages: K must be an integer ≥ 2, got ${K}`);
  if (rewards.length % K !== 0) throw new RangeError(`rlooAdvantages: ${rewards.length} rewards are not groups of K = ${K}`);
  const out: number[] = [];
  for (let g = 0; g < rewards.length; g += K) {
    const group = rewards.slice(g, g + K);
    const mean = group.reduce((a, b) => a + b, 0) / K;
    for (const r of group) out.push((K / (K - 1)) * (r - mean));
  }
  return out;
}

/**
 * KL(π‖π_ref) of each sampled sequence by the per-token log-ratio estimator: Σ_t mask·(log π − log π_ref)
 * at the sampled tokens (unbiased for sequences drawn from π; one sample can be negative).
 */
export function sequenceKL(policyLogProbs: readonly number[][], referenceLogProbs: readonly number[][], mask: readonly number[][]): number[] {
  return policyLogProbs.map((row, b) => row.reduce((sum, lp, t) => sum + mask[b][t] * (lp - referenceLogProbs[b][t]), 0));
}

/**
 * The adaptive KL coefficient of Ziegler et al. (2019): β grows when the measured KL is above
 * the target and shrinks below it, by at most 20 % of the error per `horizon` samples.
 */
export class AdaptiveKL {
  constructor(public beta: number, readonly target: number, readonly horizon = 10_000) {
    if (!(beta > 0 && target > 0 && horizon > 0)) throw new RangeError("AdaptiveKL: beta, target and horizon must be positive");
  }

  update(kl: number, samples: number): number {
    const error = Math.min(0.2, Math.max(-0.2, (kl - this.target) / this.target));
    this.beta *= 1 + (error * samples) / this.horizon;
    return this.beta;
  }
}

export interface RLOOOptions {
  /** Samples per prompt (≥ 2). */
  K: number;
  maxNewTokens: number;
  /** Ends a response (e.g. <|assistant_end|>); it counts as part of the response. */
  stopToken: number;
  padId: number;
  /** A fixed KL coefficient β, or an AdaptiveKL steering toward its target. */
  kl: number | AdaptiveKL;
  learningRate?: number;
  temperature?: number;
  rng: Rng;
}

export interface RLOOStats {
  /** Mean of the learned (or rule) reward r, before the KL penalty. */
  reward: number;
  /** Mean per-sequence KL to the reference (nats). */
  kl: number;
  /** Mean per-token entropy of the policy on its responses (nats). */
  entropy: number;
  /** Mean response length in tokens (the stop token included). */
  length: number;
  /** β used this step. */
  beta: number;
  /** The prompts' responses (ids after the prompt), K per prompt, in order. */
  responses: number[][];
}

/**
 * One RLOO update: sample K responses per prompt from `policy`, score them with `reward(prompt,
 * response)` (a reward model's scores, or a rule), penalise by β·KL to `reference`, and step
 * `optimizer` along A_i·∇ Σ_t log π(response_i), averaged over the samples.
 */
export async function rlooStep(
  policy: GPT,
  reference: GPT,
  optimizer: AdamW,
  prompts: readonly number[][],
  reward: (prompts: number[][], responses: number[][]) => number[] | Promise<number[]>,
  options: RLOOOptions,
): Promise<RLOOStats> {
  const { K } = options;
  const repeated = prompts.flatMap((p) => Array.from({ length: K }, () => [...p]));
  const longest = Math.max(...repeated.map((p) => p.length)) + options.maxNewTokens;
  if (longest > policy.config.blockSize + 1) throw new RangeError(`rlooStep: prompt + maxNewTokens (${longest}) exceeds blockSize + 1 (${policy.config.blockSize + 1})`);
  const samples = await generateBatch(policy, repeated, {
    maxNewTokens: options.maxNewTokens,
    stopTokens: [options.stopToken],
    temperature: options.temperature ?? 1,
    rng: options.rng,
  });
  const responses = samples.map((s, i) => s.slice(repeated[i].length));
  const rows = samples.map((s, i) => ({ ids: s, mask: s.map((_, t) => (t >= repeated[i].length ? 1 : 0)) }));
  const batch = chatBatch(rows, options.padId, policy.config.blockSize);
  try {
    const scores = await reward(repeated, responses);
    const { policyLp, referenceLp, mask, entropy } = await measure(policy, reference, batch);
    const kls = sequenceKL(policyLp, referenceLp, mask);
    const beta = typeof options.kl === "number" ? options.kl : options.kl.beta;
    const advantages = rlooAdvantages(scores.map((r, i) => r - beta * kls[i]), K);
    const { value, grads } = gradsByName(policy.params, () => {
      const { logits } = policy.forward(batch.x);
      const logProbs = tf.sum(tf.mul(tokenLogProbs(logits, batch.y), batch.mask), 1);
      return tf.neg(tf.mean(tf.mul(logProbs, tf.tensor1d(advantages)))) as tf.Scalar;
    });
    optimizer.step(grads, { learningRate: options.learningRate });
    value.dispose();
    tf.dispose(grads);
    const kl = mean(kls);
    if (typeof options.kl !== "number") options.kl.update(kl, samples.length);
    return { reward: mean(scores), kl: kl, entropy: entropy, length: mean(responses.map((r) => r.length)), beta: beta, responses: responses };
  } finally {
    tf.dispose([batch.x, batch.y, batch.mask]);
  }
}

async function measure(policy: GPT, reference: GPT, batch: ChatBatch) {
  const [p, r, e] = tf.tidy(() => {
    const { logits } = policy.forward(batch.x);
    return [tokenLogProbs(logits, batch.y), tokenLogProbs(reference.forward(batch.x).logits, batch.y), maskedEntropy(logits, batch.mask)];
  });
  const out = { policyLp: (await p.array()) as number[][], referenceLp: (await r.array()) as number[][], mask: (await batch.mask.array()) as number[][], entropy: (await e.data())[0] };
  tf.dispose([p, r, e]);
  return out;
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}
