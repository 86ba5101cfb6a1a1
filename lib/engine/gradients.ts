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
  if (tf.getGradient(tf.Sum) != null) return; // already there, e.g. @tensorflow/tfjs-node loaded
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
