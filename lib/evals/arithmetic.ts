/**
 * The arithmetic eval: seeded random expression trees over + − × ÷ and small powers, solved exactly
 * with rationals, asked as "the number only", scored with a relative tolerance. Each sample carries
 * its depth (nesting of operations) and length (number of operations) as splits, so accuracy can be
 * read, and drawn, by how hard the expression is.
 *
 *   const spec = arithmeticEval({ n: 1000, maxDepth: 6, seed: 1 });
 *   const result = await runEval(spec, provider);  →  accuracyBySplit(result, "depth"), arithmeticHeatmap(result)
 */
import { Rng } from "../util/random.js";
import { Rational } from "./rational.js";
import { contentId, qaSample, type EvalSpec, type Message, type QASample, type Sample, type Scored } from "./structs.js";

export type BinaryOp = "+" | "-" | "*" | "/";
export type Expr =
  | { kind: "num"; value: number }
  | { kind: "pow"; base: number; exponent: number }
  | { kind: "bin"; op: BinaryOp; left: Expr; right: Expr };

export interface GeneratorOptions {
  /** Operands are integers in [minOperand, maxOperand] (default 1–10, as the seed). */
  minOperand?: number;
  maxOperand?: number;
  /** Exponents of powers are in [minExponent, maxExponent] (default 2–4). */
  minExponent?: number;
  maxExponent?: number;
  /** Chance that the shallower side of an operation stops growing at each level (default 0.5). */
  stopProbability?: number;
  /** Chance that a bottom-level operation is a power instead of + − × ÷ (default 0.2). */
  powerProbability?: number;
  /** Expressions whose exact value exceeds this in absolute value are drawn again (default 1e6). */
  maxAbs?: number;
  /** The binary operations to draw from (default all four). */
  operators?: BinaryOp[];
}

const DEFAULTS: Required<Omit<GeneratorOptions, "operators">> = {
  minOperand: 1,
  maxOperand: 10,
  minExponent: 2,
  maxExponent: 4,
  stopProbability: 0.5,
  powerProbability: 0.2,
  maxAbs: 1e6,
};
const OPS: BinaryOp[] = ["+", "-", "*", "/"];

/** The exact value; throws a RangeError on division by zero. */
export function evaluate(e: Expr): Rational {
  switch (e.kind) {
    case "num":
      return Rational.of(e.value);
    case "pow":
      return Rational.of(e.base).pow(e.exponent);
    case "bin": {
      const a = evaluate(e.left);
      const b = evaluate(e.right);
      return e.op === "+" ? a.add(b) : e.op === "-" ? a.sub(b) : e.op === "*" ? a.mul(b) : a.div(b);
    }
  }
}

/** Nesting depth: a number is 0, a power or an operation on two numbers is 1. */
export function depth(e: Expr): number {
  return e.kind === "bin" ? 1 + Math.max(depth(e.left), depth(e.right)) : e.kind === "pow" ? 1 : 0;
}

/** Number of operations (powers included). */
export function operationCount(e: Expr): number {
  return e.kind === "bin" ? 1 + operationCount(e.left) + operationCount(e.right) : e.kind === "pow" ? 1 : 0;
}

/** Python syntax, every operation on an operation in parentheses: "(3 + 2 ** 3) * 4". */
export function render(e: Expr): string {
  if (e.kind === "num") return String(e.value);
  if (e.kind === "pow") return `${e.base} ** ${e.exponent}`;
  const side = (x: Expr) => (x.kind === "bin" ? `(${render(x)})` : render(x));
  return `${side(e.left)} ${e.op} ${side(e.right)}`;
}

/** One random expression of exactly `targetDepth` (≥ 1); its value may be out of bounds (see drawExpression). */
export function randomExpression(rng: Rng, targetDepth: number, options: GeneratorOptions = {}): Expr {
  const o = { ...DEFAULTS, ...options };
  const ops = options.operators ?? OPS;
  if (ops.length === 0 || ops.some((op) => !OPS.includes(op))) throw new RangeError(`operators must be some of ${OPS.join(" ")}, got ${ops.join(" ")}`);
  const operand = (): Expr => ({ kind: "num", value: rng.randint(o.minOperand, o.maxOperand + 1) });
  const grow = (d: number): Expr => {
    if (d === 0) return operand();
    if (d === 1 && rng.random() < o.powerProbability) {
      return { kind: "pow", base: rng.randint(o.minOperand, o.maxOperand + 1), exponent: rng.randint(o.minExponent, o.maxExponent + 1) };
    }
    let other = 0;
    while (other < d - 1 && rng.random() >= o.stopProbability) other++;
    const deep = grow(d - 1);
    const shallow = grow(other);
    const deepLeft = rng.random() < 0.5;
    return { kind: "bin", op: ops[rng.randint(0, ops.length)], left: deepLeft ? deep : shallow, right: deepLeft ? shallow : deep };
  };
  return grow(targetDepth);
}

/** Draw until the expression divides by no zero and its value is within maxAbs; returns it with its value. */
export function drawExpression(rng: Rng, targetDepth: number, options: GeneratorOptions = {}): { expr: Expr; value: Rational } {
  const maxAbs = BigInt(Math.floor(options.maxAbs ?? DEFAULTS.maxAbs));
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const expr = randomExpression(rng, targetDepth, options);
    let value: Rational;
    try {
      value = evaluate(expr);
    } catch {
      continue; // divided by zero
    }
    if (value.absAtMost(maxAbs)) return { expr, value };
  }
  throw new Error(`drawExpression: no expression of depth ${targetDepth} within |value| <= ${maxAbs} in 10,000 draws`);
}

export interface ArithmeticProblem {
  expression: string;
  depth: number;
  operations: number;
  /** The exact value, "p/q" or an integer. */
  exact: string;
}

/**
 * `n` distinct problems, depths drawn uniformly from 1..maxDepth. Small depths have few distinct
 * expressions (depth 1: about 430): a depth that keeps repeating is dropped from the draw.
 */
export function arithmeticProblems(n: number, maxDepth: number, seed: number, options: GeneratorOptions = {}): ArithmeticProblem[] {
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`arithmeticProblems: n must be a non-negative integer, got ${n}`);
  if (!(Number.isInteger(maxDepth) && maxDepth >= 1)) throw new RangeError(`arithmeticProblems: maxDepth must be an integer >= 1, got ${maxDepth}`);
  const rng = new Rng(seed);
  const seen = new Set<string>();
  const out: ArithmeticProblem[] = [];
  const depths = Array.from({ length: maxDepth }, (_, i) => i + 1);
  while (out.length < n) {
    if (depths.length === 0) throw new Error(`arithmeticProblems: fewer than ${n} distinct expressions up to depth ${maxDepth}`);
    const k = rng.randint(0, depths.length);
    let added = false;
    for (let tries = 0; tries < 50 && !added; tries++) {
      const { expr, value } = drawExpression(rng, depths[k], options);
      const expression = render(expr);
      if (seen.has(expression)) continue;
      seen.add(expression);
      out.push({ expression, depth: depth(expr), operations: operationCount(expr), exact: value.toString() });
      added = true;
    }
    if (!added) depths.splice(k, 1);
  }
  return out;
}

/** Length buckets for splits and heatmap columns: 1, 2, 3, 4, 5-6, 7-9, 10-14, 15-19, 20+. */
export function lengthBucket(operations: number): string {
  const edges = [1, 2, 3, 4, 5, 7, 10, 15, 20];
  for (let i = edges.length - 1; i >= 0; i--) {
    if (operations >= edges[i]) {
      const next = edges[i + 1];
      if (next === undefined) return `${edges[i]}+`;
      return next - 1 === edges[i] ? `${edges[i]}` : `${edges[i]}-${next - 1}`;
    }
  }
  return "0";
}
export const LENGTH_BUCKETS = ["1", "2", "3", "4", "5-6", "7-9", "10-14", "15-19", "20+"];

const NUMBER = /[-−]?\s*(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?(?:\s*\/\s*[-−]?\d+)?|[-−]?\.\d+/g;

/**
 * The number a reply gives, or null: the last number in it ("The answer is -12.5." → -12.5),
 * accepting "1,234", "7/3", "1e-3", a Unicode minus and \boxed{...}. Returns it as a double and as text.
 */
export function parseNumber(reply: string): { value: number; text: string } | null {
  const boxed = /\\boxed\{([^}]*)\}/.exec(reply);
  const source = boxed ? boxed[1] : reply;
  const matches = source.match(NUMBER);
  if (!matches) return null;
  const text = matches[matches.length - 1].replace(/\s+/g, "").replace(/−/g, "-");
  const [a, b] = text.split("/");
  const value = b === undefined ? Number(a.replace(/,/g, "")) : Number(a.replace(/,/g, "")) / Number(b);
  return Number.isFinite(value) ? { value, text } : null;
}

/** |x − v| ≤ rtol · |v| (and |x| ≤ atol when v is 0). */
export function withinTolerance(x: number, v: number, rtol = 1e-3, atol = 1e-9): boolean {
  return Math.abs(x - v) <= Math.max(rtol * Math.abs(v), atol);
}

export interface ArithmeticEvalOptions extends GeneratorOptions {
  n: number;
  maxDepth: number;
  seed?: number;
  /** Relative tolerance for a right answer (default 1e-3; the prompt asks for 4 significant digits). */
  rtol?: number;
  /** "chat": a system and a user message for a chat model; "bare": just "expression=" for a model trained on such lines. */
  template?: "chat" | "bare";
  maxTokens?: number;
}

const SYSTEM = "You are a calculator. Reply with the number only: no words, no working.";

/** The arithmetic eval as an EvalSpec: QA samples whose ideal answer is the exact value. */
export function arithmeticEval(options: ArithmeticEvalOptions): EvalSpec {
  const { n, maxDepth, seed = 1, rtol = 1e-3, template = "chat", maxTokens = 32, ...generator } = options;
  const samples: QASample[] = arithmeticProblems(n, maxDepth, seed, generator).map((p) =>
    qaSample(p.expression, [p.exact], { depth: String(p.depth), length: lengthBucket(p.operations), operator: topOperator(p.expression) }, "arithmeticEval"),
  );
  const exactOf = (s: Sample) => (s.type === "QA" ? s.ideal_answers[0] : s.choices_right[0]);
  return {
    id: contentId({ eval: "arithmetic", n, maxDepth, seed, rtol, template, maxTokens, generator }),
    samples,
    maxTokens,
    temperature: 0,
    render(sample): Message[] {
      const expression = typeof sample.body === "string" ? sample.body : sample.body.map((m) => m.content).join("\n");
      if (template === "bare") return [{ role: "user", content: `${expression}=` }];
      return [
        { role: "system", content: SYSTEM },
        { role: "user", content: `What is ${expression}? Give the exact value, or a decimal with at least 4 significant digits.` },
      ];
    },
    score(sample, reply): Scored {
      const got = parseNumber(reply);
      if (!got) return { parsed: null, score: 0 };
      const [p, q] = exactOf(sample).split("/");
      const expected = new Rational(BigInt(p), BigInt(q ?? "1")).toNumber();
      return { parsed: got.text, score: withinTolerance(got.value, expected, rtol) ? 1 : 0 };
    },
    correctOutput: exactOf,
  };
}

/** The operator applied last (the root of the tree): "+", "-", "*", "/", or "**" for a lone power. */
export function topOperator(expression: string): string {
  // Operations on operations are parenthesised, so outside parentheses there is at most one of
  // + - * / (the root), next to powers, which bind tighter.
  let level = 0;
  let power = false;
  for (const token of expression.split(" ")) {
    for (const c of token) level += c === "(" ? 1 : c === ")" ? -1 : 0;
    if (level !== 0) continue;
    if (token === "+" || token === "-" || token === "*" || token === "/") return token;
    if (token === "**") power = true;
  }
  return power ? "**" : "none";
}

/**
 * Read an expression over integers, + - * / ** and parentheses (Python's precedence: ** binds
 * tightest and to the right, unary minus below it) into its exact value: a calculator without
 * `eval`. A malformed expression throws one line naming the position.
 */
export function calculate(text: string): Rational {
  const tokens = [...text.matchAll(/\s*(\d+|\*\*|[-+*/()]|\S)/g)].map((m) => ({ t: m[1], at: (m.index ?? 0) + m[0].length - m[1].length }));
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`calculate: ${what} at position ${tokens[i]?.at ?? text.length} of "${text}"`);
  };
  const peek = () => tokens[i]?.t;
  const primary = (): Rational => {
    const t = peek();
    if (t === "(") {
      i++;
      const v = sum();
      if (peek() !== ")") fail('expected ")"');
      i++;
      return v;
    }
    if (t !== undefined && /^\d+$/.test(t)) {
      i++;
      return new Rational(BigInt(t));
    }
    return fail(t === undefined ? "unexpected end" : `unexpected "${t}"`);
  };
  const power = (): Rational => {
    const base = primary();
    if (peek() !== "**") return base;
    i++;
    const exponent = unary(); // right-associative: 2 ** 3 ** 2 = 2 ** 9
    if (!exponent.isInteger() || !exponent.absAtMost(10_000n)) fail("exponent must be an integer of at most 10000");
    return base.pow(Number(exponent.num));
  };
  const unary = (): Rational => {
    if (peek() === "-") return (i++, unary()).mul(Rational.of(-1));
    if (peek() === "+") return (i++, unary());
    return power();
  };
  const product = (): Rational => {
    let v = unary();
    while (peek() === "*" || peek() === "/") v = tokens[i++].t === "*" ? v.mul(unary()) : v.div(unary());
    return v;
  };
  const sum = (): Rational => {
    let v = product();
    while (peek() === "+" || peek() === "-") v = tokens[i++].t === "+" ? v.add(product()) : v.sub(product());
    return v;
  };
  const value = sum();
  if (i < tokens.length) fail(`unexpected "${peek()}"`);
  return value;
}
