/**
 * The MLP's nonlinearity: "gelu" is the exact x·Φ(x) (PyTorch's nn.GELU(), nanoGPT's char models);
 * "gelu_tanh" is the tanh approximation GPT-2 was trained with (Hugging Face's "gelu_new").
 */
export type Activation = "gelu" | "gelu_tanh";
export const ACTIVATIONS: readonly Activation[] = ["gelu", "gelu_tanh"];

/** The shape of a GPT, as nanoGPT's GPTConfig (model.py). */
export interface GPTConfig {
  /** Number of distinct tokens. */
  vocabSize: number;
  /** Longest context the model attends over (number of learned positions). */
  blockSize: number;
  nLayer: number;
  nHead: number;
  /** Width of the residual stream; must be divisible by nHead. */
  nEmbd: number;
  /** Dropout probability used while training (0 disables it). */
  dropout: number;
  /** Whether Linear layers and LayerNorms have a bias (GPT-2: true; nanoGPT's train.py default: false). */
  bias: boolean;
  /** The MLP's nonlinearity; default "gelu" (exact). Optional so that configs saved before it existed still load. */
  activation?: Activation;
  /**
   * Attention-only blocks (TransformerLens's attn_only): no MLP and no second LayerNorm, so each block
   * is x + attn(ln_1(x)). Optional (absent means false) so that configs saved before it existed still load.
   */
  attnOnly?: boolean;
}

/** GPT-2 small (124M), nanoGPT's GPTConfig defaults. */
export const GPT2_SMALL: GPTConfig = {
  vocabSize: 50304,
  blockSize: 1024,
  nLayer: 12,
  nHead: 12,
  nEmbd: 768,
  dropout: 0,
  bias: true,
  activation: "gelu",
};

export type GPT2Preset = "gpt2" | "gpt2-medium" | "gpt2-large" | "gpt2-xl";

/** OpenAI's released GPT-2 shapes: vocab 50257, context 1024, biases, tanh GELU (124M, 350M, 774M, 1558M parameters). */
export const GPT2_PRESETS: Record<GPT2Preset, GPTConfig> = {
  gpt2: gpt2Shape(12, 12, 768),
  "gpt2-medium": gpt2Shape(24, 16, 1024),
  "gpt2-large": gpt2Shape(36, 20, 1280),
  "gpt2-xl": gpt2Shape(48, 25, 1600),
};

function gpt2Shape(nLayer: number, nHead: number, nEmbd: number): GPTConfig {
  return { vocabSize: 50257, blockSize: 1024, nLayer, nHead, nEmbd, dropout: 0, bias: true, activation: "gelu_tanh" };
}

/** A complete config from a partial one (missing keys from GPT-2 small), validated. */
export function gptConfig(partial: Partial<GPTConfig> = {}): GPTConfig {
  const config = { ...GPT2_SMALL, ...partial };
  const positive = ["vocabSize", "blockSize", "nLayer", "nHead", "nEmbd"] as const;
  for (const key of positive) {
    if (!Number.isInteger(config[key]) || config[key] <= 0) {
      throw new RangeError(`GPTConfig.${key} must be a positive integer, got ${config[key]}`);
    }
  }
  if (config.nEmbd % config.nHead !== 0) {
    throw new RangeError(`GPTConfig.nEmbd (${config.nEmbd}) must be divisible by nHead (${config.nHead})`);
  }
  if (!(config.dropout >= 0 && config.dropout < 1)) {
    throw new RangeError(`GPTConfig.dropout must be in [0, 1), got ${config.dropout}`);
  }
  const activation = config.activation ?? "gelu";
  if (!ACTIVATIONS.includes(activation)) {
    throw new RangeError(`GPTConfig.activation must be ${ACTIVATIONS.join(" or ")}, got ${JSON.stringify(activation)}`);
  }
  if (config.attnOnly !== undefined && typeof config.attnOnly !== "boolean") {
    throw new RangeError(`GPTConfig.attnOnly must be true or false, got ${JSON.stringify(config.attnOnly)}`);
  }
  return { ...config, activation };
}
