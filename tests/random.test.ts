import { describe, expect, it } from "vitest";
import { Rng } from "../lib/util/random.js";

describe("Rng", () => {
  it("is deterministic for a seed and differs across seeds", () => {
    const a = Array.from({ length: 5 }, ((r) => () => r.nextUint32())(new Rng(42)));
    const b = Array.from({ length: 5 }, ((r) => () => r.nextUint32())(new Rng(42)));
    const c = Array.from({ length: 5 }, ((r) => () => r.nextUint32())(new Rng(43)));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it("has uniform and normal moments close to theory", () => {
    const rng = new Rng(7);
    const n = 200_000;
    let sum = 0, sumSq = 0, nSum = 0, nSumSq = 0, outOfRange = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.random();
      if (u < 0 || u >= 1) outOfRange++;
      sum += u; sumSq += u * u;
      const z = rng.normal();
      nSum += z; nSumSq += z * z;
    }
    expect(outOfRange).toBe(0);
    expect(sum / n).toBeCloseTo(0.5, 2);
    expect(sumSq / n - (sum / n) ** 2).toBeCloseTo(1 / 12, 2);
    expect(nSum / n).toBeCloseTo(0, 2);
    expect(nSumSq / n).toBeCloseTo(1, 1);
  });

  it("draws categories in proportion to their weights", () => {
    const rng = new Rng(3);
    const counts = [0, 0, 0];
    for (let i = 0; i < 60_000; i++) counts[rng.categorical([1, 0, 3])]++;
    expect(counts[1]).toBe(0);
    expect(counts[2] / counts[0]).toBeGreaterThan(2.8);
    expect(counts[2] / counts[0]).toBeLessThan(3.2);
    expect(() => rng.categorical([0, 0])).toThrow(/positive sum/);
  });

  it("resumes exactly from a saved state", () => {
    const rng = new Rng(11);
    rng.normal();
    const state = rng.getState();
    const expected = [rng.normal(), rng.random(), rng.randint(0, 100)];
    const resumed = new Rng(0);
    resumed.setState(state);
    expect([resumed.normal(), resumed.random(), resumed.randint(0, 100)]).toEqual(expected);
  });
});
