import * as tf from "@tensorflow/tfjs-core";
import type { GPT } from "../models/gpt/index.js";
import type { Rng } from "../util/random.js";
import { variableGradsFreeing } from "./backprop.js";
import type { Gradients } from "./clip.js";

/**
 * The mean cross-entropy of `model` on (x, y) and its gradient with respect to every parameter,
 * keyed by parameter name (loss.backward() in PyTorch). lossScale multiplies the loss first
 * (1/accumulationSteps when accumulating). The caller disposes loss and grads.
 */
export function lossAndGrads(
  model: GPT,
  x: tf.Tensor2D,
  y: tf.Tensor2D,
  options: { training?: boolean; rng?: Rng; lossScale?: number } = {},
): { loss: tf.Scalar; grads: Gradients } {
  const names = Object.keys(model.params);
  const variables = names.map((name) => model.params[name]);
  const scale = options.lossScale ?? 1;
  const { value, grads } = variableGradsFreeing(() => {
    const { logits, loss } = model.forward(x, y, { training: options.training, rng: options.rng });
    logits.dispose();
    return scale === 1 ? loss! : tf.mul(loss!, scale);
  }, variables);
  const byName: Gradients = {};
  names.forEach((name, i) => {
    const g = grads[variables[i].name];
    if (g) byName[name] = g;
  });
  return { loss: value, grads: byName };
}
