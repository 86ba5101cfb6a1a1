/**
 * variableGradsFreeing (lib/train/backprop.ts) against tf.variableGrads: the same loss and
 * bit-identical gradients for a GPT with dropout, no tensor left behind, and, late in the backward
 * pass, a fraction of the bytes alive that tf.variableGrads keeps (it frees nothing until the end).
 * On the stock cpu kernels as well as the native ones: the walk is backend-independent.
 */
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../lib/engine/index.js";
import { GPT } from "../lib/models/gpt/index.js";
import { variableGradsFreeing } from "../lib/train/backprop.js";
import { Rng } from "../lib/util/random.js";

await useBackend("cpu");

const config = { vocabSize: 40, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32, dropout: 0.1, bias: true };

/** Bytes alive when the gradient reaches the token embedding's output: the last node but a few. */
function probed(model: GPT, x: tf.Tensor2D, y: tf.Tensor2D, seed: number) {
  const variables = Object.values(model.params);
  let bytesLate = 0;
  const probe = tf.customGrad(((t: tf.Tensor, save: tf.GradSaveFunc) => {
    save([]);
    return { value: tf.clone(t), gradFunc: (dy: tf.Tensor) => { bytesLate = tf.memory().numBytes; return [tf.clone(dy)]; } };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const f = () => {
    // The probe sits on the loss's path right after the parameters are read, so its gradient runs last.
    const scaledWte = probe(model.params["transformer.wte.weight"]) as tf.Tensor;
    const extra = tf.mul(tf.sum(scaledWte), 0);
    const { logits, loss } = model.forward(x, y, { training: true, rng: new Rng(seed) });
    logits.dispose();
    return tf.add(loss!, extra) as tf.Scalar;
  };
  return { f, variables, bytesLate: () => bytesLate };
}

describe("variableGradsFreeing", () => {
  it("gives tf.variableGrads' loss and gradients bit for bit, leaves no tensors, and frees memory as it goes", () => {
    const model = new GPT(config, { seed: 3 });
    const rng = new Rng(5);
    const ids = () => tf.tensor2d(Int32Array.from({ length: 4 * 16 }, () => rng.randint(0, config.vocabSize)), [4, 16], "int32");
    const [x, y] = [ids(), ids()];
    const reference = probed(model, x, y, 11);
    const before = tf.memory().numTensors;
    const expected = tf.variableGrads(reference.f, reference.variables);
    const referenceBytes = reference.bytesLate();
    const ours = probed(model, x, y, 11);
    const got = variableGradsFreeing(ours.f, ours.variables);
    expect(got.value.dataSync()).toEqual(expected.value.dataSync());
    expect(Object.keys(got.grads).sort()).toEqual(Object.keys(expected.grads).sort());
    for (const [name, g] of Object.entries(expected.grads)) expect(got.grads[name].dataSync(), name).toEqual(g.dataSync());
    // Late in the backward pass tf.variableGrads still holds every activation and gradient.
    expect(ours.bytesLate()).toBeLessThan(0.5 * referenceBytes);
    const returned = 2 * (1 + Object.keys(expected.grads).length);
    expect(tf.memory().numTensors - before).toBe(returned);
    tf.dispose([expected.value, got.value, ...Object.values(expected.grads), ...Object.values(got.grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    model.dispose();
  });

  it("inside another gradient computation it is tf.variableGrads (second derivatives still work)", () => {
    const w = tf.variable(tf.scalar(3));
    // d/dw of (d/dw w³) = 6w
    const second = tf.grad((v: tf.Tensor) => {
      const { grads } = variableGradsFreeing(() => tf.mul(tf.mul(w, w), tf.mul(w, v)) as tf.Scalar, [w]);
      return grads[w.name];
    });
    expect(second(tf.scalar(1)).dataSync()[0]).toBeCloseTo(27, 4); // d/dv (3 w² v) = 3 w² = 27
    w.dispose();
  });
});
