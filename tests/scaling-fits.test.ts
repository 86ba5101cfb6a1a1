// Scaling-law fits against published numbers (Epoch AI's replication of Chinchilla on their own
// extraction of its data), synthetic laws with known exponents, and hand-computed counts.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  EPOCH_CHINCHILLA_FIT,
  bootstrapChinchilla,
  chinchillaFlopsPerSequence,
  chinchillaLoss,
  computeOptimal,
  computeOptimalExponents,
  countGPTParams,
  fitChinchilla,
  fitIsoFlop,
  fitParabola,
  fitPowerLaw,
  fitPowerLawWithBand,
  loadChinchillaPoints,
  minimizeLBFGS,
  type ChinchillaParams,
  type IsoFlopPoint,
  type LossPoint,
} from "../lib/scaling/index.js";
import { GPT, GPT2_PRESETS, gptConfig } from "../lib/models/index.js";
import { Rng } from "../lib/util/random.js";

const KEYS: (keyof ChinchillaParams)[] = ["E", "A", "B", "alpha", "beta"];

describe("L-BFGS", () => {
  it("minimises the Rosenbrock function from (-1.2, 1)", () => {
    const rosenbrock = (x: Float64Array) => ({
      value: 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2,
      gradient: Float64Array.from([-400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0]), 200 * (x[1] - x[0] ** 2)]),
    });
    const result = minimizeLBFGS(rosenbrock, [-1.2, 1], { gradientTolerance: 1e-10 });
    expect(result.x[0]).toBeCloseTo(1, 6);
    expect(result.x[1]).toBeCloseTo(1, 6);
    expect(result.iterations).toBeLessThan(100);
  });
});

describe("Chinchilla fit on Epoch AI's extraction", () => {
  it("reproduces Epoch's E, A, B, α, β within one of their standard errors, and their bootstrap spread", async () => {
    const points = await loadChinchillaPoints({ excludeHighestLoss: 5 });
    expect(points.length).toBe(240);
    const fit = fitChinchilla(points, { refine: 100 });
    const { estimate, standardError } = EPOCH_CHINCHILLA_FIT;
    for (const key of KEYS) expect(Math.abs(fit[key] - estimate[key]), key).toBeLessThan(standardError[key]);
    // Tighter than that for the exponents and E: the same objective has the same optimum.
    expect(fit.E).toBeCloseTo(1.8172, 2);
    expect(fit.alpha).toBeCloseTo(0.3478, 2);
    expect(fit.beta).toBeCloseTo(0.3658, 2);
    const { spread } = bootstrapChinchilla(points, fit, { resamples: 1000, seed: 7 });
    // Our standard errors land within a factor of two of Epoch's.
    for (const key of KEYS) {
      expect(spread[key].standardError, key).toBeGreaterThan(standardError[key] / 2);
      expect(spread[key].standardError, key).toBeLessThan(standardError[key] * 2);
      expect(spread[key].low).toBeLessThan(fit[key]);
      expect(spread[key].high).toBeGreaterThan(fit[key]);
    }
  }, 60_000);

  it("gives the compute-optimal frontier of the fit: N*·D* = C/6 and the exponent β/(α+β)", () => {
    const p = EPOCH_CHINCHILLA_FIT.estimate;
    const at = (c: number) => computeOptimal(p, c);
    const c = 5.76e23; // Chinchilla's budget
    expect(at(c).n * at(c).d).toBeCloseTo(c / 6, -10);
    const slope = Math.log(at(1e24).n / at(1e21).n) / Math.log(1e3);
    expect(slope).toBeCloseTo(computeOptimalExponents(p).a, 10);
    expect(computeOptimalExponents(p).a).toBeCloseTo(0.3658 / (0.3478 + 0.3658), 10);
    // Optimal: moving along the isoFLOP line in either direction raises the loss.
    const { n, d, loss } = at(c);
    expect(chinchillaLoss(p, n * 1.1, d / 1.1)).toBeGreaterThan(loss);
    expect(chinchillaLoss(p, n / 1.1, d * 1.1)).toBeGreaterThan(loss);
  });

  it("rejects too few or non-positive points with one line", () => {
    expect(() => fitChinchilla([{ n: 1, d: 1, loss: 1 }])).toThrow(/at least 5 points/);
    const bad = Array.from({ length: 5 }, (_, i) => ({ n: 1e6 * (i + 1), d: 1e9, loss: i === 2 ? 0 : 3 }));
    expect(() => fitChinchilla(bad)).toThrow(/must be positive/);
  });
});

describe("synthetic laws", () => {
  it("recovers α, β and E of a noisy L(N, D) within 0.01", () => {
    const truth = { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 };
    const rng = new Rng(3);
    const points: LossPoint[] = [];
    for (let i = 0; i < 12; i++) {
      for (let j = 0; j < 12; j++) {
        const n = 10 ** (6 + (3.5 * i) / 11);
        const d = 10 ** (8 + (4 * j) / 11);
        points.push({ n, d, loss: chinchillaLoss(truth, n, d) * Math.exp(0.005 * rng.normal()) });
      }
    }
    const fit = fitChinchilla(points, { refine: 60 });
    expect(Math.abs(fit.alpha - truth.alpha)).toBeLessThan(0.01);
    expect(Math.abs(fit.beta - truth.beta)).toBeLessThan(0.01);
    expect(Math.abs(fit.E - truth.E)).toBeLessThan(0.01);
  });

  it("fits L(N) = (N_c/N)^α as numpy's polyfit does on log-log, and recovers L∞", () => {
    const rng = new Rng(5);
    const ns = Array.from({ length: 20 }, (_, i) => 10 ** (5 + i / 5));
    const kaplan = ns.map((n) => (8.8e13 / n) ** 0.076 * Math.exp(0.002 * rng.normal()));
    const fit = fitPowerLaw(ns, kaplan);
    expect(fit.alpha).toBeCloseTo(0.076, 2);
    if (existsSync("/usr/bin/python3")) {
      const script = "import json,sys,numpy as np; x,y=json.load(sys.stdin); print(json.dumps(list(np.polyfit(np.log(x),np.log(y),1))))";
      const run = spawnSync("/usr/bin/python3", ["-c", script], { input: JSON.stringify([ns, kaplan]), encoding: "utf8" });
      if (run.status === 0) {
        const [slope, intercept] = JSON.parse(run.stdout) as number[];
        expect(fit.alpha).toBeCloseTo(-slope, 10);
        expect(Math.log(fit.scale)).toBeCloseTo(intercept / -slope, 6);
      }
    }
    const withFloor = ns.map((n) => (1e7 / n) ** 0.5 + 1.5);
    const floorFit = fitPowerLaw(ns, withFloor, { offset: true });
    expect(floorFit.offset).toBeCloseTo(1.5, 4);
    expect(floorFit.alpha).toBeCloseTo(0.5, 4);
    expect(floorFit.scale / 1e7).toBeCloseTo(1, 3);
  });

  it("puts the noiseless law inside a narrow bootstrap band", () => {
    const rng = new Rng(11);
    const ns = Array.from({ length: 16 }, (_, i) => 2 ** (8 + i / 2));
    const ys = ns.map((n) => (3e4 / n) ** 0.3 * Math.exp(0.02 * rng.normal()));
    const { fit, band, spread } = fitPowerLawWithBand(ns, ys, { resamples: 1000, seed: 2 });
    expect(Math.abs(fit.alpha - 0.3)).toBeLessThan(3 * spread.alpha.standardError + 1e-9);
    const inside = band.filter((b) => b.low <= (3e4 / b.x) ** 0.3 && (3e4 / b.x) ** 0.3 <= b.high).length;
    expect(inside / band.length).toBeGreaterThan(0.8);
    for (const b of band) {
      expect(b.high - b.low).toBeGreaterThan(0);
      expect(b.high - b.low).toBeLessThan(0.1 * b.y); // 2 % noise on 16 points: a few per cent wide
    }
  });

  it("finds IsoFLOP minima and an N*(C) exponent near β/(α+β)", () => {
    const truth = { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 };
    const points: IsoFlopPoint[] = [];
    for (const flops of [1e18, 1e19, 1e20, 1e21, 1e22]) {
      const centre = computeOptimal(truth, flops).n;
      for (let k = -4; k <= 4; k++) {
        const n = centre * 2 ** (k / 2);
        points.push({ n, flops, loss: chinchillaLoss(truth, n, flops / (6 * n)) });
      }
    }
    const iso = fitIsoFlop(points);
    expect(iso.profiles.length).toBe(5);
    expect(iso.nExponent).toBeCloseTo(0.28 / 0.62, 2);
    expect(iso.dExponent).toBeCloseTo(0.34 / 0.62, 2);
    for (const profile of iso.profiles) expect(profile.nOpt / computeOptimal(truth, profile.flops).n).toBeGreaterThan(0.9);
    expect(() => fitIsoFlop(points.slice(0, 9))).toThrow(/at least 2 budgets/);
    // Planned budgets group runs whose FLOPs drifted (rounded step counts) all the same.
    const drifted = points.map((p, i) => ({ ...p, flops: p.flops * (1 + 0.2 * Math.sin(i)), budget: p.flops }));
    const planned = fitIsoFlop(drifted);
    expect(planned.profiles.map((p) => p.flops)).toEqual([1e18, 1e19, 1e20, 1e21, 1e22]);
    expect(planned.nExponent).toBeCloseTo(iso.nExponent, 10);
  });

  it("fits a parabola exactly through exact points", () => {
    const p = fitParabola([1, 2, 3, 4], [1 * 3 - 2 + 1, 4 * 3 - 4 + 1, 9 * 3 - 6 + 1, 16 * 3 - 8 + 1]);
    expect(p.c2).toBeCloseTo(3, 10);
    expect(p.c1).toBeCloseTo(-2, 10);
    expect(p.c0).toBeCloseTo(1, 10);
  });
});

describe("counts", () => {
  it("counts 123,653,376 parameters for GPT-2 124M as nanoGPT prints, and matches GPT.numParams()", () => {
    const counts = countGPTParams(GPT2_PRESETS.gpt2);
    expect(counts.nanogpt).toBe(123_653_376);
    expect(counts.total).toBe(124_439_808);
    expect(counts.nonEmbedding).toBe(85_056_000); // 12 layers × 12·768² + biases and LayerNorms
    const config = gptConfig({ vocabSize: 65, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16, bias: false });
    const model = new GPT(config);
    expect(countGPTParams(config).nanogpt).toBe(model.numParams());
    expect(countGPTParams(config).total).toBe(model.numParams(false));
    model.dispose();
  });

  it("counts Chinchilla's FLOPs term by term (worked by hand)", () => {
    // T=2, V=3, d=4, h=2 (key size 2), L=1, f=8:
    // embeddings 2·2·3·4 = 48; qkv 2·3·2·4·4 = 192; logits 2·2·2·4 = 32; softmax 3·2·2·2 = 24;
    // values 32; out projection 2·2·4·4 = 64; mlp 2·2·(4·8 + 4·8) = 256; unembedding 48.
    // forward 48 + (192 + 32 + 24 + 32 + 64 + 256) + 48 = 696; training = 3 × 696 = 2088.
    expect(chinchillaFlopsPerSequence({ seqLen: 2, vocabSize: 3, dModel: 4, nHeads: 2, nLayers: 1, ffwSize: 8 })).toBe(2088);
  });
});
