// Anthropic's toy model of superposition, 5 features in 2 dimensions: dense features keep the two most
// important (norms ≈ 1, the rest ≈ 0, at right angles); sparse ones form a regular pentagon (72° ± 5°).
import { beforeAll, describe, expect, it } from "vitest";
import { columnGeometry, neighbourAngles, trainToySuperposition } from "../lib/dictionary/index.js";
import { tf, useBackend } from "../lib/engine/index.js";

beforeAll(async () => {
  await useBackend("cpu");
});

describe("toy model of superposition", () => {
  it("dense features: only the two most important are stored, orthogonally", async () => {
    const before = tf.memory().numTensors;
    const { W } = await trainToySuperposition({ nFeatures: 5, nHidden: 2, sparsity: 0, steps: 2000, learningRate: 1e-2, seed: 1 });
    expect(tf.memory().numTensors).toBe(before);
    const norms = columnGeometry(W).map((g) => g.norm);
    expect(norms[0]).toBeCloseTo(1, 1);
    expect(norms[1]).toBeCloseTo(1, 1);
    expect(Math.max(...norms.slice(2))).toBeLessThan(0.1);
    const [a, b] = columnGeometry(W);
    expect(Math.abs(((a.angle - b.angle + 360) % 180) - 90)).toBeLessThan(3);
  });

  it("at 90 % sparsity all five are stored as a pentagon: neighbours 72° ± 5° apart", async () => {
    const { W } = await trainToySuperposition({ nFeatures: 5, nHidden: 2, sparsity: 0.9, steps: 2000, learningRate: 1e-2, seed: 1 });
    const angles = neighbourAngles(W);
    console.log(`pentagon angles: ${angles.map((a) => a.toFixed(1)).join("°, ")}°`);
    expect(angles).toHaveLength(5);
    for (const angle of angles) expect(Math.abs(angle - 72)).toBeLessThan(5);
  });
});
