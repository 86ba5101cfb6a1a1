import * as tf from "@tensorflow/tfjs-core";
import { join } from "node:path";
import { engineDir, projectRequire } from "./modules.js";

/**
 * Makes autodiff work. tfjs-core's Node bundle registers no gradient functions (the
 * `@tensorflow/tfjs` union package normally adds them), so `tf.grad` would fail with
 * "gradient function not found". vendor/tfjs-core-gradients.cjs is tfjs-core's own
 * register_all_gradients, bundled to CommonJS by vendor/build-gradients.mjs.
 */
export function registerGradients(): void {
  if (tf.getGradient(tf.Sum) == null) {
    const vendored = projectRequire()(join(engineDir(), "vendor", "tfjs-core-gradients.cjs")) as {
      tfjsCoreVersion: string;
    };
    if (vendored.tfjsCoreVersion !== tf.version_core) {
      console.warn(
        `tfjs gradients were bundled from tfjs-core ${vendored.tfjsCoreVersion} but ${tf.version_core} is ` +
          `installed: run node lib/engine/vendor/build-gradients.mjs`,
      );
    }
  }
  fixBroadcastGradients();
}

const fixedMark = "courseEngineFix";

/**
 * Some of tfjs's gradients ignore broadcasting and return a gradient of the output's shape:
 * x[B,T,C]·W[C,N] gives dW of shape [B,C,N], squaredDifference(x[3,4], y[4]) gives dy of
 * [3,4], and backprop then fails ("gradient ... does not match the shape of the input").
 * Sum such a gradient over the broadcast dimensions, as every other tfjs gradient does.
 */
const broadcastingKernels = [tf.BatchMatMul, tf.SquaredDifference, tf.Maximum, tf.Minimum];

function fixBroadcastGradients(): void {
  for (const kernelName of broadcastingKernels) {
    const original = tf.getGradient(kernelName);
    if (original == null || (original as unknown as Record<string, unknown>)[fixedMark]) continue;
    const inputNames = original.inputsToSave ?? [];
    const gradFunc: tf.GradFunc = (dy, saved, attrs) => {
      const grads = original.gradFunc(dy, saved, attrs);
      const fixed: Record<string, () => tf.Tensor> = {};
      for (const [name, grad] of Object.entries(grads)) {
        const input = saved[inputNames.indexOf(name)];
        fixed[name] = input == null ? grad : () => sumToShape(grad(), input.shape);
      }
      return fixed;
    };
    tf.registerGradient({ ...original, gradFunc, [fixedMark]: true } as tf.GradConfig);
  }
}

function sumToShape(gradient: tf.Tensor, shape: number[]): tf.Tensor {
  if (tf.util.arraysEqual(gradient.shape, shape)) return gradient;
  const axes = tf.backend_util.getReductionAxes(shape, gradient.shape);
  return tf.reshape(axes.length > 0 ? tf.sum(gradient, axes) : gradient, shape);
}
