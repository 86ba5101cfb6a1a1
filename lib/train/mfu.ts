/**
 * Model FLOPs utilisation, as nanoGPT's estimate_mfu (after the PaLM paper's appendix B): the FLOPs a
 * step needs by the model's shape, per second, as a fraction of the hardware's peak.
 *
 *   flopsPerToken(model.config, model.numParams())   6·N + 12·L·H·Q·T (forward and backward)
 *   mfu(tokensPerSecond, flopsPerToken, peakFlops)   fraction of peakFlops reached
 *   peakFlopsFor("WebGPU on NVIDIA H200")            float32 peak of a known device, else null ("MFU n/a")
 */
import type { GPTConfig } from "../models/gpt/index.js";

/**
 * Training FLOPs per token: 6 per parameter (2 forward, 4 backward) for the matmuls with weights,
 * plus 12·L·H·Q·T for the attention scores and their weighted sums (L layers, H heads of width Q,
 * context T = blockSize). N is without position embeddings, as numParams() counts by default.
 * Neither term assumes an MLP: an attention-only model's (config.attnOnly) numParams() has no MLP
 * weights, and the attention term is the same with or without them.
 */
export function flopsPerToken(config: Pick<GPTConfig, "nLayer" | "nHead" | "nEmbd" | "blockSize">, numParams: number): number {
  const { nLayer: L, nHead: H, nEmbd, blockSize: T } = config;
  return 6 * numParams + 12 * L * H * (nEmbd / H) * T;
}

/** The fraction of `peakFlops` (FLOP/s) that training at tokensPerSecond reaches. */
export function mfu(tokensPerSecond: number, perToken: number, peakFlops: number): number {
  return (tokensPerSecond * perToken) / peakFlops;
}

/**
 * Dense float32 peaks (FLOP/s, no tensor cores: what TensorFlow.js's float32 kernels can use) from
 * the vendors' data sheets, matched against the engine's description. nanoGPT divides by an A100's
 * bf16 312e12 instead, which a float32 run could never approach.
 */
export const PEAK_FLOPS: readonly { match: RegExp; name: string; flops: number }[] = [
  { match: /H200|H100 SXM|H100 80GB HBM3/i, name: "NVIDIA H100/H200 SXM", flops: 67e12 },
  { match: /H100/i, name: "NVIDIA H100 PCIe", flops: 51e12 },
  { match: /A100/i, name: "NVIDIA A100", flops: 19.5e12 },
  { match: /RTX 4090/i, name: "NVIDIA RTX 4090", flops: 82.6e12 },
  { match: /RTX 3090/i, name: "NVIDIA RTX 3090", flops: 35.6e12 },
  { match: /\bL4\b/i, name: "NVIDIA L4", flops: 30.3e12 },
  { match: /\bT4\b/i, name: "NVIDIA T4", flops: 8.1e12 },
];

/** The float32 peak of the device a description names (e.g. describeEngine()'s), or null when unknown. */
export function peakFlopsFor(description: string): number | null {
  return PEAK_FLOPS.find((d) => d.match.test(description))?.flops ?? null;
}

/** "MFU 12.34%" or, without a peak, "MFU n/a". */
export function formatMfu(tokensPerSecond: number, perToken: number, peakFlops: number | null): string {
  return peakFlops ? `MFU ${(100 * mfu(tokensPerSecond, perToken, peakFlops)).toFixed(2)}%` : "MFU n/a";
}
