/** How to train: nanoGPT's train.py settings, camelCased, with its defaults. */
export interface TrainConfig {
  /** Sequences per micro-batch. */
  batchSize: number;
  /** Micro-batches whose gradients are summed before each optimizer step. */
  gradientAccumulationSteps: number;
  /** Optimizer steps to run (iterations 0 … maxIters−1); the loss is evaluated once more at maxIters. */
  maxIters: number;
  /** Evaluate train and val loss every evalInterval iterations. */
  evalInterval: number;
  /** Batches per loss estimate. */
  evalIters: number;
  /** Report the training loss every logInterval iterations (progress callbacks may use it). */
  logInterval: number;
  learningRate: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  /** Clip the global gradient norm to this; 0 disables clipping. */
  gradClip: number;
  decayLr: boolean;
  warmupIters: number;
  lrDecayIters: number;
  minLr: number;
  /** Seeds batches and dropout (the model's init has its own seed). */
  seed: number;
  /** Folder for ckpt.safetensors; null: no checkpoints. */
  outDir: string | null;
  /** Save at every evaluation; false: only when the val loss improves (interrupts and the end always save). */
  alwaysSaveCheckpoint: boolean;
}

/** nanoGPT train.py's defaults (GPT-2 124M on OpenWebText). */
export const TRAIN_DEFAULTS: TrainConfig = {
  batchSize: 12,
  gradientAccumulationSteps: 1,
  maxIters: 600000,
  evalInterval: 2000,
  evalIters: 200,
  logInterval: 1,
  learningRate: 6e-4,
  weightDecay: 1e-1,
  beta1: 0.9,
  beta2: 0.95,
  gradClip: 1.0,
  decayLr: true,
  warmupIters: 2000,
  lrDecayIters: 600000,
  minLr: 6e-5,
  seed: 1337,
  outDir: null,
  alwaysSaveCheckpoint: true,
};

export function trainConfig(partial: Partial<TrainConfig> = {}): TrainConfig {
  const config = { ...TRAIN_DEFAULTS, ...partial };
  for (const key of ["batchSize", "gradientAccumulationSteps", "evalInterval", "evalIters", "logInterval"] as const) {
    if (!Number.isInteger(config[key]) || config[key] <= 0) {
      throw new RangeError(`TrainConfig.${key} must be a positive integer, got ${config[key]}`);
    }
  }
  if (!Number.isInteger(config.maxIters) || config.maxIters < 0) {
    throw new RangeError(`TrainConfig.maxIters must be a non-negative integer, got ${config.maxIters}`);
  }
  if (config.decayLr && config.lrDecayIters <= config.warmupIters) {
    throw new RangeError(`TrainConfig.lrDecayIters (${config.lrDecayIters}) must exceed warmupIters (${config.warmupIters})`);
  }
  return config;
}
