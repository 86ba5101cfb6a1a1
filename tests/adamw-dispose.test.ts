// AdamW's moments are the only tensors it holds: creating and disposing one leaves the tensor count
// where it was (before the fix, each parameter's two zerosLike tensors stayed alive).
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { describe, expect, it } from "vitest";
import { AdamW } from "../lib/train/adamw.js";

describe("AdamW tensors", () => {
  it("holds two moments per parameter and frees them all on dispose", () => {
    const params = { a: tf.variable(tf.ones([3, 4])), b: tf.variable(tf.zeros([4])) };
    const before = tf.memory().numTensors;
    const optimizer = new AdamW(params);
    expect(tf.memory().numTensors - before).toBe(4);
    optimizer.step({ a: tf.onesLike(params.a), b: tf.onesLike(params.b) });
    optimizer.dispose();
    expect(tf.memory().numTensors - before).toBe(2); // the two gradients above, still the caller's
    tf.dispose([params.a, params.b]);
  });
});
