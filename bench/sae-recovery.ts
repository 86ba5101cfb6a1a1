/**
 * The recovery setting at full size: 512 planted features in 64 dimensions (power-law
 * frequencies, one feature per sample on average, 100,000 samples), each SAE variant with 512 latents,
 * trained as tests/dictionary-sae.test.ts trains the 64-in-32 version; prints the mean (and worst)
 * max-cosine between the true features and the decoder rows, dead latents and seconds.
 * `-- topk batchtopk` runs only the variants named; COURSE_PROFILE=ci runs a few steps.
 */
import { SparseAutoencoder, maxCosines, plantedFeatures, saeMetrics, trainSae, type SaeArchitecture, type SaeConfig, type TrainSaeOptions } from "../lib/dictionary/index.js";
import { shutdownEngine, tf, useBackend } from "../lib/engine/index.js";
import { byProfile } from "../lib/util/profile.js";

const [F, d, n] = [512, 64, 100_000];
const variants: [SaeArchitecture, Partial<SaeConfig>, Partial<TrainSaeOptions>][] = [
  ["standard", { sparsityCoefficient: 0.1 }, {}],
  ["topk", { k: 2 }, {}],
  ["batchtopk", { k: 1 }, {}],
  ["jumprelu", { sparsityCoefficient: 0.05, bandwidth: 0.1, initThreshold: 0.3 }, { auxKCoefficient: 1 }],
];
const named = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const [steps, batchSize] = [byProfile({ ci: 20, full: 4000 }), 512];

const info = await useBackend();
const { features, data } = plantedFeatures({ features: F, dims: d, samples: n, meanL0: 1, seed: 1 });
const x = tf.tensor2d(data, [n, d]);
console.log(`${F} features in ${d} dimensions, ${n} samples, ${steps} steps of ${batchSize} (${info.backend})`);
for (const [architecture, config, options] of variants) {
  if (named.length > 0 && !named.includes(architecture)) continue;
  const started = performance.now();
  const sae = new SparseAutoencoder({ dIn: d, dSae: F, architecture, ...config });
  await trainSae(sae, x, { steps, batchSize, learningRate: 5e-3, resampleEvery: 500, auxDeadWindow: 5 * batchSize, ...options });
  const metrics = await saeMetrics(sae, x);
  const cos = maxCosines(features, sae.params.W_dec.arraySync() as number[][]);
  const seconds = (performance.now() - started) / 1000;
  console.log(`  ${architecture.padEnd(9)}  mean max-cosine ${cos.mean.toFixed(4)} (worst ${cos.min.toFixed(3)}), dead ${metrics.deadFeatures}/${F} (${((100 * metrics.deadFeatures) / F).toFixed(1)} %), L0 ${metrics.l0.toFixed(2)}, explained variance ${metrics.explainedVariance.toFixed(3)}, ${seconds.toFixed(0)} s`);
  sae.dispose();
}
x.dispose();
await shutdownEngine();
