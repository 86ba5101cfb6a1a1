/**
 * Synthetic activations with known sparse features, for checking that an SAE recovers them:
 * `features` random unit directions in `dims` dimensions, feature f present in a sample with
 * probability ∝ (f + 1)^−exponent (scaled to a mean of `meanL0` present per sample), each with a
 * coefficient uniform in [0.5, 1.5).
 */
import { Rng } from "../util/random.js";

export interface PlantedFeaturesOptions {
  features: number;
  dims: number;
  samples: number;
  meanL0: number;
  /** Power-law exponent of the feature frequencies (default ½). */
  exponent?: number;
  seed?: number;
}

export function plantedFeatures(options: PlantedFeaturesOptions): { features: number[][]; data: Float32Array; frequency: number[] } {
  const { features: F, dims: d, samples: n, meanL0 } = options;
  const rng = new Rng(options.seed ?? 1);
  const features = Array.from({ length: F }, () => {
    const v = Array.from({ length: d }, () => rng.normal());
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
  const raw = features.map((_, f) => (f + 1) ** -(options.exponent ?? 0.5));
  const total = raw.reduce((a, b) => a + b, 0);
  const frequency = raw.map((r) => Math.min(1, (meanL0 * r) / total));
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < F; f++) {
      if (rng.random() >= frequency[f]) continue;
      const c = 0.5 + rng.random();
      for (let j = 0; j < d; j++) data[i * d + j] += c * features[f][j];
    }
  }
  return { features, data, frequency };
}

/** For each true feature its best cosine with a (unit) decoder row; the mean and the worst. */
export function maxCosines(features: readonly (readonly number[])[], decoderRows: readonly (readonly number[])[]): { mean: number; min: number; perFeature: number[] } {
  const perFeature = features.map((f) => {
    const norm = Math.hypot(...f);
    return Math.max(...decoderRows.map((row) => row.reduce((s, v, j) => s + v * f[j], 0) / (norm * (Math.hypot(...row) || 1))));
  });
  return { mean: perFeature.reduce((a, b) => a + b, 0) / perFeature.length, min: Math.min(...perFeature), perFeature };
}
