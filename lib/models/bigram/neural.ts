import * as tf from "@tensorflow/tfjs-core";
import { Rng } from "../../util/random.js";
import { sampleWord } from "./counts.js";
import { bigramPairs, type CharVocab } from "./vocab.js";

export interface NeuralBigramConfig {
  /** Step size of plain gradient descent; the lecture uses 50 on the full-batch loss. */
  learningRate: number;
  /** Weight of the L2 penalty `regularization * mean(W²)` (0.01 in the lecture; 0 = none). */
  regularization: number;
  /** Seed for W's standard-normal initialisation. */
  seed: number;
  /**
   * "onehot": logits = oneHot(x) @ W, as in the lecture.
   * "gather": logits = W[x], the same numbers without the big matmul.
   */
  encoding: "onehot" | "gather";
}

export const defaultNeuralBigramConfig: NeuralBigramConfig = {
  learningRate: 50,
  regularization: 0,
  seed: 2147483647,
  encoding: "onehot",
};

/** The whole training set as tensors: inputs (indices and one-hot rows) and one-hot targets. */
export interface BigramBatch {
  size: number;
  xs: tf.Tensor1D;
  xenc: tf.Tensor2D;
  yenc: tf.Tensor2D;
  dispose(): void;
}

export function bigramBatch(words: string[], vocab: CharVocab): BigramBatch {
  const { xs, ys } = bigramPairs(words, vocab);
  const xsTensor = tf.tensor1d(xs, "int32");
  const ysTensor = tf.tensor1d(ys, "int32");
  const xenc = tf.tidy(() => tf.cast(tf.oneHot(xsTensor, vocab.size), "float32") as tf.Tensor2D);
  const yenc = tf.tidy(() => tf.cast(tf.oneHot(ysTensor, vocab.size), "float32") as tf.Tensor2D);
  ysTensor.dispose();
  return {
    size: xs.length,
    xs: xsTensor,
    xenc,
    yenc,
    dispose: () => tf.dispose([xsTensor, xenc, yenc]),
  };
}

export interface StepResult {
  /** The loss that was minimised: nll + the L2 penalty. */
  loss: number;
  /** Average negative log-likelihood alone, comparable with the counts model's. */
  nll: number;
}

/**
 * makemore's neural bigram: a single linear layer W (vocab × vocab) on one-hot
 * characters, softmax over the next character, trained by full-batch gradient
 * descent. At the optimum softmax(W) equals the counts model's probabilities.
 */
export class NeuralBigram {
  readonly config: NeuralBigramConfig;
  readonly W: tf.Variable<tf.Rank.R2>;

  constructor(
    readonly vocab: CharVocab,
    config: Partial<NeuralBigramConfig> = {},
  ) {
    this.config = { ...defaultNeuralBigramConfig, ...config };
    const rng = new Rng(this.config.seed);
    const size = vocab.size;
    const init = Float32Array.from({ length: size * size }, () => rng.normal());
    this.W = tf.tidy(() => tf.variable(tf.tensor2d(init, [size, size]), true));
  }

  /** Logits for each input: row x of W (a one-hot row times W picks exactly that row). */
  logits(batch: BigramBatch, w: tf.Tensor2D = this.W): tf.Tensor2D {
    return this.config.encoding === "onehot" ? tf.matMul(batch.xenc, w) : tf.gather(w, batch.xs);
  }

  /** Average negative log-likelihood of the targets under softmax(logits). */
  nll(batch: BigramBatch, w: tf.Tensor2D = this.W): tf.Scalar {
    return tf.tidy(() => {
      const logProbs = tf.logSoftmax(this.logits(batch, w));
      return tf.neg(tf.mean(tf.sum(tf.mul(logProbs, batch.yenc), 1))) as tf.Scalar;
    });
  }

  penalty(w: tf.Tensor2D = this.W): tf.Scalar {
    return tf.tidy(() => tf.mul(tf.mean(tf.square(w)), this.config.regularization) as tf.Scalar);
  }

  /** One step of full-batch gradient descent: W -= learningRate * dLoss/dW. Returns the loss before the step. */
  async step(batch: BigramBatch): Promise<StepResult> {
    const losses = tf.tidy(() => {
      const { value, grad } = tf.valueAndGrad((w: tf.Tensor2D) => tf.add(this.nll(batch, w), this.penalty(w)) as tf.Scalar)(this.W);
      const nll = tf.sub(value, this.penalty());
      this.W.assign(tf.sub(this.W, tf.mul(grad, this.config.learningRate)));
      return tf.stack([value, nll]);
    });
    const [loss, nll] = await losses.data();
    losses.dispose();
    return { loss, nll };
  }

  /** The loss at the current W, without a step. */
  async evaluate(batch: BigramBatch): Promise<StepResult> {
    const losses = tf.tidy(() => {
      const nll = this.nll(batch);
      return tf.stack([tf.add(nll, this.penalty()), nll]);
    });
    const [loss, nll] = await losses.data();
    losses.dispose();
    return { loss, nll };
  }

  /** Run `steps` steps; returns the per-step results (the loss before each step). */
  async fit(
    batch: BigramBatch,
    steps: number,
    onStep?: (step: number, result: StepResult) => void | Promise<void>,
  ): Promise<StepResult[]> {
    const history: StepResult[] = [];
    for (let i = 0; i < steps; i++) {
      const result = await this.step(batch);
      history.push(result);
      if (onStep) await onStep(i, result);
    }
    return history;
  }

  /** softmax(W), row-major: row a is the learned P(next | a), to compare with BigramCounts.probabilities(). */
  async probabilities(): Promise<Float32Array> {
    const probs = tf.softmax(this.W);
    const values = (await probs.data()) as Float32Array;
    probs.dispose();
    return values;
  }

  async sampleMany(count: number, rng: Rng, maxLength = 100): Promise<string[]> {
    const probs = await this.probabilities();
    return Array.from({ length: count }, () => sampleWord(probs, this.vocab, rng, maxLength));
  }

  dispose(): void {
    this.W.dispose();
  }
}
