import { describe, expect, it } from "vitest";
import { formatArray } from "../lib/display/index.js";

describe("formatArray", () => {
  it("prints a list of ids on one line, as Python prints a list", () => {
    // console.log would print these nine numbers as a three-line grid.
    expect(formatArray([46, 47, 47, 1, 58, 46, 43, 56, 43])).toBe("[46, 47, 47, 1, 58, 46, 43, 56, 43]");
  });

  it("takes typed arrays, which JSON.stringify turns into objects", () => {
    expect(formatArray(Int32Array.of(18, 47, 56))).toBe("[18, 47, 56]");
    expect(formatArray(new Uint8Array(0))).toBe("[]");
  });

  it("rounds non-integers to `digits` and quotes strings", () => {
    expect(formatArray([0.5, 1 / 3, 2], { digits: 2 })).toBe("[0.50, 0.33, 2]");
    expect(formatArray(Float32Array.of(0.25, -1.5))).toBe("[0.2500, -1.5000]");
    expect(formatArray(["e ", "er"])).toBe('["e ", "er"]');
    expect(formatArray([10n ** 20n])).toBe("[100000000000000000000]");
  });

  it("keeps the first and last items of a long array around an ellipsis", () => {
    const ids = Array.from({ length: 10 }, (_, i) => i);
    expect(formatArray(ids, { maxItems: 10 })).toBe("[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]");
    expect(formatArray(ids, { maxItems: 4 })).toBe("[0, 1, …, 8, 9] (10 items)");
    expect(formatArray(ids, { maxItems: 5 })).toBe("[0, 1, 2, …, 8, 9] (10 items)");
    expect(formatArray(Array.from({ length: 101 }, () => 7))).toMatch(/^\[(7, ){50}…, (7, ){49}7\] \(101 items\)$/);
  });
});
