/** How to train: nanoGPT's train.py settings, camelCased, with its defaults. */
export interface TrainConfig {
  /** Sequences per micro-batch. */
  batchSize: number;
  /** Micro-batches whose gradients are summed before each optimizer step. */
  gradientAccumulationSteps: number;
  /**
   * Tokens per optimizer step, as build-nanogpt's total_batch_size (524288 = 2¹⁹ for GPT-2): the
   * Trainer derives gradientAccumulationSteps = totalBatchTokens / (batchSize · blockSize), which
   * must divide exactly. null: gradientAccumulationSteps as given.
   */
  totalBatchTokens: number | null;
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
  /**
   * Iterations of linear warm-up. Not given: derived from maxIters as min(2000, ⌊maxIters / 10⌋)
   * (nanoGPT's 2000 for its 600000 steps; 4 for a 40-step run). Given: kept as is (presets and
   * checkpoints store theirs, so a resumed run keeps its schedule); a value ≥ maxIters warns.
   */
  warmupIters: number;
  /**
   * Iteration at which the cosine decay reaches minLr. Not given: maxIters (as nanoGPT's configs set
   * it). Given: kept; a value ≥ 2 × maxIters warns (the run would end before half the decay).
   */
  lrDecayIters: number;
  minLr: number;
  /** Seeds batches and dropout (the model's init has its own seed). */
  seed: number;
  /** Folder for ckpt.safetensors; null: no checkpoints. */
  outDir: string | null;
  /** Save at every evaluation; false: only when the val loss improves (interrupts and the end always save). */
  alwaysSaveCheckpoint: boolean;
}

/**
 * nanoGPT train.py's defaults (GPT-2 124M on OpenWebText). Its warmupIters and lrDecayIters are
 * what trainConfig() derives for maxIters 600000; a config that does not give them gets its own.
 */
export const TRAIN_DEFAULTS: TrainConfig = {
  batchSize: 12,
  gradientAccumulationSteps: 1,
  totalBatchTokens: null,
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

type Rule = "positiveInt" | "positiveIntOrNull" | "count" | "int" | "positive" | "nonNegative" | "unit" | "boolean" | "folder";

/** What each field accepts; trainConfig() is the library's last check, whatever parsed the values. */
const RULES: Record<keyof TrainConfig, Rule> = {
  batchSize: "positiveInt",
  gradientAccumulationSteps: "positiveInt",
  totalBatchTokens: "positiveIntOrNull",
  maxIters: "count",
  evalInterval: "positiveInt",
  evalIters: "positiveInt",
  logInterval: "positiveInt",
  learningRate: "positive",
  weightDecay: "nonNegative",
  beta1: "unit",
  beta2: "unit",
  gradClip: "nonNegative",
  decayLr: "boolean",
  warmupIters: "count",
  lrDecayIters: "count",
  minLr: "nonNegative",
  seed: "int",
  outDir: "folder",
  alwaysSaveCheckpoint: "boolean",
};

const DESCRIBE: Record<Rule, string> = {
  positiveInt: "a positive integer",
  positiveIntOrNull: "a positive integer or null",
  count: "a non-negative integer",
  int: "an integer",
  positive: "a finite number > 0",
  nonNegative: "a finite number ≥ 0",
  unit: "a number in [0, 1)",
  boolean: "true or false",
  folder: "a folder path or null",
};

function accepts(rule: Rule, v: unknown): boolean {
  switch (rule) {
    case "positiveInt":
      return Number.isSafeInteger(v) && (v as number) > 0;
    case "positiveIntOrNull":
      return v === null || (Number.isSafeInteger(v) && (v as number) > 0);
    case "count":
      return Number.isSafeInteger(v) && (v as number) >= 0;
    case "int":
      return Number.isSafeInteger(v);
    case "positive":
      return typeof v === "number" && Number.isFinite(v) && v > 0;
    case "nonNegative":
      return typeof v === "number" && Number.isFinite(v) && v >= 0;
    case "unit":
      return typeof v === "number" && v >= 0 && v < 1;
    case "boolean":
      return typeof v === "boolean";
    case "folder":
      return v === null || (typeof v === "string" && v.length > 0);
  }
}

/** The warm-up a run of maxIters gets when none is given: nanoGPT's 2000, or a tenth of a shorter run. */
export function defaultWarmupIters(maxIters: number): number {
  return Math.min(2000, Math.floor(maxIters / 10));
}

/**
 * A complete, checked TrainConfig: missing fields from TRAIN_DEFAULTS, except warmupIters and
 * lrDecayIters, which follow maxIters unless given. A field of the wrong type throws a TypeError,
 * one out of range a RangeError, an unknown field a TypeError; each names the field.
 */
export function trainConfig(partial: Partial<TrainConfig> = {}): TrainConfig {
  const given: Partial<Record<keyof TrainConfig, unknown>> = {};
  for (const [key, value] of Object.entries(partial)) {
    if (!Object.prototype.hasOwnProperty.call(RULES, key)) {
      throw new TypeError(`TrainConfig has no field "${key}" (known: ${Object.keys(RULES).join(", ")})`);
    }
    if (value !== undefined) given[key as keyof TrainConfig] = value;
  }
  const config = { ...TRAIN_DEFAULTS, ...given } as TrainConfig;
  if (given.warmupIters === undefined) config.warmupIters = defaultWarmupIters(config.maxIters as number);
  if (given.lrDecayIters === undefined) config.lrDecayIters = config.maxIters;
  for (const [key, rule] of Object.entries(RULES) as [keyof TrainConfig, Rule][]) {
    const value: unknown = config[key];
    if (accepts(rule, value)) continue;
    const type = rule === "boolean" ? "boolean" : rule === "folder" ? "string" : "number";
    const Problem = typeof value === type || (rule === "folder" && value === null) || (rule === "positiveIntOrNull" && typeof value === "number") ? RangeError : TypeError;
    throw new Problem(`TrainConfig.${key} must be ${DESCRIBE[rule]}, got ${JSON.stringify(value) ?? String(value)}`);
  }
  if (config.decayLr && config.lrDecayIters < config.warmupIters) {
    throw new RangeError(`TrainConfig.lrDecayIters (${config.lrDecayIters}) must be at least warmupIters (${config.warmupIters})`);
  }
  return config;
}

/**
 * Micro-batches per optimizer step for a total of `totalBatchTokens` tokens (build-nanogpt's
 * grad_accum_steps); a RangeError naming all three numbers when batchSize · blockSize does not divide it.
 */
export function accumulationSteps(totalBatchTokens: number, batchSize: number, blockSize: number): number {
  const micro = batchSize * blockSize;
  if (totalBatchTokens % micro !== 0) {
    throw new RangeError(
      `total_batch_tokens ${totalBatchTokens} is not a multiple of batch_size × block_size = ${batchSize} × ${blockSize} = ${micro} tokens` +
        ` (e.g. ${Math.max(1, Math.round(totalBatchTokens / micro)) * micro})`,
    );
  }
  return totalBatchTokens / micro;
}

/**
 * The config a Trainer runs for a model of `blockSize`: with totalBatchTokens, gradientAccumulationSteps
 * derived from it; `explicitSteps` (the caller gave gradientAccumulationSteps too) must then agree.
 */
export function withAccumulation(config: TrainConfig, blockSize: number, explicitSteps?: number): TrainConfig {
  if (config.totalBatchTokens === null) return config;
  const steps = accumulationSteps(config.totalBatchTokens, config.batchSize, blockSize);
  if (explicitSteps !== undefined && explicitSteps !== steps) {
    throw new RangeError(
      `gradient_accumulation_steps ${explicitSteps} contradicts total_batch_tokens ${config.totalBatchTokens}` +
        ` (= ${steps} × ${config.batchSize} × ${blockSize}): give one of them`,
    );
  }
  return { ...config, gradientAccumulationSteps: steps };
}

/** What makes no sense in a schedule someone gave explicitly (derived values never warn). */
export function scheduleWarnings(config: TrainConfig): string[] {
  const { decayLr, maxIters, warmupIters, lrDecayIters } = config;
  if (!decayLr || maxIters === 0) return [];
  const warnings: string[] = [];
  if (warmupIters >= maxIters) {
    warnings.push(`TrainConfig: warmupIters (${warmupIters}) ≥ maxIters (${maxIters}): the whole run is warm-up and never reaches learningRate`);
  }
  if (lrDecayIters >= 2 * maxIters) {
    warnings.push(`TrainConfig: lrDecayIters (${lrDecayIters}) ≥ 2 × maxIters (${maxIters}): the run ends before half the learning-rate decay`);
  }
  return warnings;
}
