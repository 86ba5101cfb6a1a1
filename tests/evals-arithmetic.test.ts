// The arithmetic eval: exact rationals, the seeded generator checked against Python's fractions on
// 10,000 problems, reply parsing, tolerance, Wilson intervals, splits and the heatmap.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  Rational,
  accuracyBySplit,
  arithmeticEval,
  arithmeticHeatmap,
  arithmeticProblems,
  calculate,
  lengthBucket,
  parseNumber,
  topOperator,
  wilsonInterval,
  withinTolerance,
  type SampleResult,
} from "../lib/evals/index.js";

const PYTHON = "/usr/bin/python3";

// Evaluates each line with Fraction over Python's own parser (ast), reporting value, depth, operations and root operator.
const FRACTIONS_SCRIPT = String.raw`
import ast, sys, json
from fractions import Fraction
OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
       ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a ** b}
NAMES = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
def ev(n):
    if isinstance(n, ast.Constant): return Fraction(n.value), 0, 0
    assert isinstance(n, ast.BinOp), n
    a, da, oa = ev(n.left); b, db, ob = ev(n.right)
    return OPS[type(n.op)](a, b), 1 + max(da, db), 1 + oa + ob
out = []
for line in sys.stdin:
    tree = ast.parse(line.strip(), mode="eval").body
    v, d, o = ev(tree)
    out.append([str(v), d, o, NAMES[type(tree.op)]])
print(json.dumps(out))
`;

describe("Rational", () => {
  it("keeps lowest terms with a positive denominator", () => {
    expect(new Rational(6n, -4n).toString()).toBe("-3/2");
    expect(new Rational(0n, -7n).toString()).toBe("0");
    expect(Rational.of(1).div(Rational.of(3)).add(Rational.of(1).div(Rational.of(6))).toString()).toBe("1/2");
    expect(new Rational(2n, 3n).pow(-3).toString()).toBe("27/8");
    expect(() => Rational.of(1).div(Rational.of(0))).toThrow(/division by zero/);
  });

  it("converts huge fractions to the nearest double", () => {
    const third = new Rational(10n ** 400n, 3n * 10n ** 400n);
    expect(third.toNumber()).toBe(1 / 3);
    expect(new Rational(-(2n ** 80n) - 1n, 2n ** 70n).toNumber()).toBe(-1024.0000000000000000000008470329472543003 /* rounds to -1024 */);
    expect(new Rational(1n, 7n * 10n ** 300n).toNumber() / 1.4285714285714286e-301).toBeCloseTo(1, 14);
    expect(new Rational(123456789n, 1000n).toNumber()).toBe(123456.789);
  });

  it("bounds |value| exactly", () => {
    expect(new Rational(-2000001n, 2n).absAtMost(1_000_000n)).toBe(false);
    expect(new Rational(-2000000n, 2n).absAtMost(1_000_000n)).toBe(true);
  });
});

describe("arithmetic problems", () => {
  it("are seeded, distinct and within the bound", () => {
    const a = arithmeticProblems(500, 6, 7);
    expect(arithmeticProblems(500, 6, 7)).toEqual(a);
    expect(arithmeticProblems(500, 6, 8)).not.toEqual(a);
    expect(new Set(a.map((p) => p.expression)).size).toBe(500);
    const depths = new Set(a.map((p) => p.depth));
    expect([...depths].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    for (const p of a) {
      const [n, d] = p.exact.split("/");
      expect(new Rational(BigInt(n), BigInt(d ?? "1")).absAtMost(1_000_000n)).toBe(true);
    }
  });

  it.skipIf(!existsSync(PYTHON))("agree with Python's fractions on 10,000 problems up to depth 10", () => {
    const problems = arithmeticProblems(10_000, 10, 2024);
    const python = JSON.parse(
      execFileSync(PYTHON, ["-c", FRACTIONS_SCRIPT], { input: problems.map((p) => p.expression).join("\n") + "\n", maxBuffer: 64 << 20 }).toString(),
    ) as [string, number, number, string][];
    expect(python.length).toBe(10_000);
    const mismatches = problems.filter((p, i) => {
      const [value, depth, ops, op] = python[i];
      return value !== p.exact || depth !== p.depth || ops !== p.operations || op !== topOperator(p.expression);
    });
    expect(mismatches).toEqual([]);
    // Every depth is represented, and deep ones are not trivial.
    const perDepth = new Map<number, number>();
    for (const p of problems) perDepth.set(p.depth, (perDepth.get(p.depth) ?? 0) + 1);
    expect([...perDepth.keys()].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(perDepth.get(10)).toBeGreaterThan(900);
    expect(problems.filter((p) => p.exact.includes("/")).length).toBeGreaterThan(1000);
  });

  it("draw only the operators asked for", () => {
    const sums = arithmeticProblems(300, 4, 1, { operators: ["+", "-"], powerProbability: 0 });
    expect(sums.every((p) => /^[\d\s+\-()]+$/.test(p.expression))).toBe(true);
    expect(sums.some((p) => p.expression.includes("-")) && sums.some((p) => p.expression.includes("+"))).toBe(true);
    expect(() => arithmeticProblems(3, 2, 1, { operators: [] })).toThrow(/operators must be some of/);
  });

  it("rejects bad sizes with one line", () => {
    expect(() => arithmeticProblems(-1, 3, 1)).toThrow(/n must be a non-negative integer/);
    expect(() => arithmeticProblems(10, 0, 1)).toThrow(/maxDepth must be an integer >= 1/);
    expect(() => arithmeticProblems(1000, 1, 1, { maxOperand: 2 })).toThrow(/fewer than 1000 distinct expressions/);
  });
});

describe("calculate", () => {
  it("gives every generated expression its exact value, with Python's precedence", () => {
    for (const p of arithmeticProblems(2000, 8, 99)) expect(calculate(p.expression).toString(), p.expression).toBe(p.exact);
    expect(calculate("2 ** 3 ** 2").toString()).toBe("512");
    expect(calculate("-2 ** 2").toString()).toBe("-4");
    expect(calculate("2 ** -1").toString()).toBe("1/2");
    expect(calculate(" (1+2)*3 - 4/8 ").toString()).toBe("17/2");
  });

  it("rejects malformed text with the position", () => {
    expect(() => calculate("1 +")).toThrow('calculate: unexpected end at position 3 of "1 +"');
    expect(() => calculate("(1 + 2")).toThrow(/expected "\)" at position 6/);
    expect(() => calculate("1 + x")).toThrow(/unexpected "x" at position 4/);
    expect(() => calculate("2 ** (1/2)")).toThrow(/exponent must be an integer/);
    expect(() => calculate("1 / (2 - 2)")).toThrow(/division by zero/);
  });
});

describe("reply parsing and scoring", () => {
  it("reads the last number, in the forms models write", () => {
    const cases: [string, number | null][] = [
      ["42", 42],
      ["The answer is -12.5.", -12.5],
      ["3 + 4 = 7", 7],
      ["1,234,567", 1234567],
      ["−3", -3],
      ["7/3", 7 / 3],
      ["-7 / 3", -7 / 3],
      ["1.5e3", 1500],
      ["\\boxed{-2/5} because 3", -0.4],
      [".25", 0.25],
      ["I cannot compute that", null],
      ["", null],
    ];
    for (const [reply, value] of cases) {
      const got = parseNumber(reply);
      if (value === null) expect(got, reply).toBeNull();
      else expect(got?.value, reply).toBeCloseTo(value, 12);
    }
  });

  it("compares with a relative tolerance", () => {
    expect(withinTolerance(0.3333, 1 / 3)).toBe(true);
    expect(withinTolerance(0.33, 1 / 3)).toBe(false);
    expect(withinTolerance(1000.9, 1000)).toBe(true);
    expect(withinTolerance(1001.1, 1000)).toBe(false);
    expect(withinTolerance(0, 0)).toBe(true);
    expect(withinTolerance(1e-6, 0)).toBe(false);
  });

  it("scores right, wrong and unparsed replies", () => {
    const spec = arithmeticEval({ n: 30, maxDepth: 3, seed: 3 });
    const fraction = spec.samples.find((s) => s.type === "QA" && s.ideal_answers[0].includes("/"))!;
    const exact = (fraction as { ideal_answers: string[] }).ideal_answers[0];
    const [p, q] = exact.split("/").map(Number);
    expect(spec.score(fraction, exact)).toEqual({ parsed: exact, score: 1 });
    expect(spec.score(fraction, (p / q).toPrecision(6)).score).toBe(1);
    expect(spec.score(fraction, String((p / q) * 1.01)).score).toBe(0);
    expect(spec.score(fraction, "no idea")).toEqual({ parsed: null, score: 0 });
    expect(spec.render(fraction)[1].content).toContain(fraction.body as string);
    expect(arithmeticEval({ n: 30, maxDepth: 3, seed: 3, template: "bare" }).render(fraction)).toEqual([{ role: "user", content: `${fraction.body}=` }]);
    expect(spec.id).toBe(arithmeticEval({ n: 30, maxDepth: 3, seed: 3 }).id);
    expect(spec.id).not.toBe(arithmeticEval({ n: 30, maxDepth: 3, seed: 4 }).id);
  });

  it("puts operation counts in length buckets", () => {
    expect([1, 2, 4, 5, 6, 7, 9, 10, 19, 20, 99].map(lengthBucket)).toEqual(["1", "2", "4", "5-6", "5-6", "7-9", "7-9", "10-14", "15-19", "20+", "20+"]);
  });
});

describe("Wilson intervals and splits", () => {
  it("match hand-computed intervals", () => {
    // 8/10: centre (0.8 + 1.92/20)/(1.384) etc., as computed by hand and by statsmodels' proportion_confint(method="wilson")
    const a = wilsonInterval(8, 10);
    expect(a.low).toBeCloseTo(0.4902, 4);
    expect(a.high).toBeCloseTo(0.9433, 4);
    const b = wilsonInterval(0, 10);
    expect(b.low).toBe(0);
    expect(b.high).toBeCloseTo(0.2775, 4);
    const c = wilsonInterval(50, 100);
    expect(c.low).toBeCloseTo(0.4038, 4);
    expect(c.high).toBeCloseTo(0.5962, 4);
    expect(wilsonInterval(0, 0)).toEqual({ low: 0, high: 1 });
  });

  it("give accuracy per depth and a heatmap with n in each cell", () => {
    const spec = arithmeticEval({ n: 200, maxDepth: 4, seed: 5 });
    // A fake solver that is right exactly on depth 1 and never parses depth 4.
    const results: SampleResult[] = spec.samples.map((s) => {
      const depth = Number(s.splits.depth);
      const reply = depth === 1 ? spec.correctOutput(s) : depth === 4 ? "?" : "123456789";
      const scored = spec.score(s, reply);
      return { input: spec.render(s), other_output: null, output: reply, output_parsed: scored.parsed, output_correct: spec.correctOutput(s), sample: s, score: scored.score };
    });
    const byDepth = accuracyBySplit(results, "depth");
    expect(byDepth.map((r) => r.split)).toEqual(["1", "2", "3", "4"]);
    expect(byDepth[0].accuracy).toBe(1);
    expect(byDepth[1].accuracy).toBe(0);
    expect(byDepth[3].unparsed).toBe(byDepth[3].n);
    expect(byDepth.reduce((t, r) => t + r.n, 0)).toBe(200);
    const figure = arithmeticHeatmap(results);
    const trace = figure.data[0] as { z: (number | null)[][]; x: string[]; y: string[]; text: string[][] };
    expect(trace.y.length).toBe(4);
    expect(trace.z[0].filter((v) => v !== null).every((v) => v === 1)).toBe(true);
    const cells = trace.text.flat().filter(Boolean).map((t) => Number(/n=(\d+)/.exec(t)![1]));
    expect(cells.reduce((a, b) => a + b, 0)).toBe(200);
    const byOperator = arithmeticHeatmap(results, { columns: "operator" });
    expect((byOperator.data[0] as { x: string[] }).x.every((x) => ["+", "-", "*", "/", "**"].includes(x))).toBe(true);
  });
});
