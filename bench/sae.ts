/**
 * SAE training throughput: a TopK sparse autoencoder with a 16× expansion on 128-dimensional
 * activations (d_sae = 2048, k = 32), trained by lib/dictionary's trainSae (the course's AdamW, unit-norm
 * decoder rows), in tokens per second, next to the same loop in PyTorch (bench/torch_sae.py, 2 threads)
 * in the same run, as a ratio. Random activations: throughput does not depend on what they hold.
 * COURSE_PROFILE=ci runs fewer steps.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { SparseAutoencoder, trainSae } from "../lib/dictionary/index.js";
import { shutdownEngine, tf, useBackend } from "../lib/engine/index.js";
import { byProfile } from "../lib/util/profile.js";

const PYTHON = "/usr/bin/python3";
const [dIn, expansion, k, batchSize] = [128, 16, 32, 1024];
const steps = byProfile({ ci: 5, full: 30 });
const warmup = 2;

const info = await useBackend();
const activations = tf.randomNormal([batchSize * 4, dIn], 0, 1, "float32", 0) as tf.Tensor2D;
const sae = new SparseAutoencoder({ dIn, dSae: dIn * expansion, architecture: "topk", k });
await trainSae(sae, activations, { steps: warmup, batchSize, decoderBiasInit: "mean" });
const start = performance.now();
await trainSae(sae, activations, { steps, batchSize, decoderBiasInit: "mean", logEvery: steps });
const seconds = (performance.now() - start) / 1000;
const ours = (batchSize * steps) / seconds;
sae.dispose();
activations.dispose();
console.log(`SAE training, TopK (k = ${k}), d_in ${dIn} × ${expansion} = ${dIn * expansion} features, batch ${batchSize}, ${steps} steps`);
console.log(`  ${info.backend} (${info.device}): ${ours.toFixed(0)} tokens/s (${((1000 * seconds) / steps).toFixed(0)} ms/step)`);

if (!existsSync(PYTHON) || spawnSync(PYTHON, ["-c", "import torch"]).status !== 0) {
  console.log("  PyTorch: skipped (no torch for /usr/bin/python3)");
} else {
  const run = spawnSync(PYTHON, ["bench/torch_sae.py", "--d-in", String(dIn), "--expansion", String(expansion), "--k", String(k),
    "--batch", String(batchSize), "--steps", String(steps), "--threads", "2"], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`bench/torch_sae.py failed: ${run.stderr.trim().split("\n").pop()}`);
  const torch = JSON.parse(run.stdout) as { tokensPerSecond: number; msPerStep: number; torch: string };
  console.log(`  PyTorch ${torch.torch} (2 threads): ${torch.tokensPerSecond.toFixed(0)} tokens/s (${torch.msPerStep.toFixed(0)} ms/step)`);
  console.log(`  ratio (ours / PyTorch): ${(ours / torch.tokensPerSecond).toFixed(2)}`);
}
await shutdownEngine();
