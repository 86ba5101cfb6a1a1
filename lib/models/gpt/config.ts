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
};

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
  return config;
}
