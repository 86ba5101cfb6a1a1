// Op parity across backends: every op the course's models, training and tokenizers use,
// forward and gradient, computed on wasm and on WebGPU must agree with tfjs's cpu backend.
// The reference is tfjs's stock JavaScript cpu backend; the course's native cpu kernels (when
// built) are compared to it like another backend. The reference is itself checked against hand-computed numbers (engine.test.ts) and, for a
// whole attention block, against PyTorch (below).
//
// Tolerance: |x - ref| <= tol * (|ref| + mean |ref|), elementwise; tol = 1e-5 for wasm (same float32
// arithmetic, different summation order), 1e-4 for WebGPU (GPU exp/tanh/log differ in the last bits).
//
// WebGPU runs on a software adapter (lavapipe) when no GPU is present. Without any adapter the
// WebGPU tests are skipped with the reason printed, unless COURSE_REQUIRE_WEBGPU=1 (CI), where that fails.
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackendUnavailable, shutdownEngine, tf, useBackend } from "../lib/engine/index.js";
import { setNativeKernelsEnabled } from "../lib/native/index.js";
import { Rng } from "../lib/util/random.js";

type Inputs = Record<string, tf.Tensor>;
interface InputSpec {
  shape: number[];
  /** normal: N(0,1); positive: uniform in [0.5, 2); int: integers in [0, high). */
  kind?: "normal" | "positive" | "int";
  high?: number;
}
interface Case {
  name: string;
  inputs: Record<string, InputSpec>;
  f: (x: Inputs) => tf.Tensor;
  /** Inputs to differentiate (default: every float input); [] for forward-only ops. */
  wrt?: string[];
  /** Tolerance multiplier for this case (e.g. long reductions). */
  slack?: number;
}
interface Result {
  forward: Float32Array | Int32Array | Uint8Array;
  grads: Float32Array[];
}

const mm = (transposeA: boolean, transposeB: boolean) => (x: Inputs) => tf.matMul(x.a, x.b, transposeA, transposeB);
const causal = (t: number) => tf.cast(tf.linalg.bandPart(tf.ones([t, t]), -1, 0), "bool");

const cases: Case[] = [
  { name: "matMul", inputs: { a: { shape: [5, 7] }, b: { shape: [7, 3] } }, f: mm(false, false) },
  { name: "matMul transposeB", inputs: { a: { shape: [5, 7] }, b: { shape: [3, 7] } }, f: mm(false, true) },
  { name: "matMul transposeA", inputs: { a: { shape: [7, 5] }, b: { shape: [7, 3] } }, f: mm(true, false) },
  { name: "matMul transposeA+B", inputs: { a: { shape: [7, 5] }, b: { shape: [3, 7] } }, f: mm(true, true) },
  { name: "matMul 4-D", inputs: { a: { shape: [2, 3, 5, 7] }, b: { shape: [2, 3, 7, 4] } }, f: mm(false, false) },
  { name: "matMul 4-D transposeB", inputs: { a: { shape: [2, 3, 5, 7] }, b: { shape: [2, 3, 4, 7] } }, f: mm(false, true) },
  { name: "matMul 4-D transposeA", inputs: { a: { shape: [2, 3, 7, 5] }, b: { shape: [2, 3, 7, 4] } }, f: mm(true, false) },
  { name: "matMul 4-D transposeA+B", inputs: { a: { shape: [2, 3, 7, 5] }, b: { shape: [2, 3, 4, 7] } }, f: mm(true, true) },
  { name: "matMul 3-D by 2-D (x·W)", inputs: { a: { shape: [2, 6, 8] }, b: { shape: [8, 5] } }, f: mm(false, false) },
  { name: "add broadcast [2,3,4]+[4]", inputs: { a: { shape: [2, 3, 4] }, b: { shape: [4] } }, f: (x) => tf.add(x.a, x.b) },
  { name: "sub broadcast [2,3,4]-[3,1]", inputs: { a: { shape: [2, 3, 4] }, b: { shape: [3, 1] } }, f: (x) => tf.sub(x.a, x.b) },
  { name: "mul broadcast [2,3,4]*[2,1,4]", inputs: { a: { shape: [2, 3, 4] }, b: { shape: [2, 1, 4] } }, f: (x) => tf.mul(x.a, x.b) },
  { name: "div broadcast", inputs: { a: { shape: [2, 3, 4] }, b: { shape: [3, 4], kind: "positive" } }, f: (x) => tf.div(x.a, x.b) },
  { name: "scalar ops", inputs: { a: { shape: [3, 4] } }, f: (x) => tf.sub(tf.div(tf.mul(tf.add(x.a, 2), 3), 4), 1) },
  { name: "neg, abs", inputs: { a: { shape: [3, 4] } }, f: (x) => tf.add(tf.neg(x.a), tf.abs(x.a)) },
  { name: "exp", inputs: { a: { shape: [3, 4] } }, f: (x) => tf.exp(x.a) },
  { name: "log", inputs: { a: { shape: [3, 4], kind: "positive" } }, f: (x) => tf.log(x.a) },
  { name: "sqrt", inputs: { a: { shape: [3, 4], kind: "positive" } }, f: (x) => tf.sqrt(x.a) },
  { name: "rsqrt", inputs: { a: { shape: [3, 4], kind: "positive" } }, f: (x) => tf.rsqrt(x.a) },
  { name: "square", inputs: { a: { shape: [3, 4] } }, f: (x) => tf.square(x.a) },
  { name: "pow(x, 3)", inputs: { a: { shape: [3, 4] } }, f: (x) => tf.pow(x.a, 3) },
  { name: "pow(positive, 1.5)", inputs: { a: { shape: [3, 4], kind: "positive" } }, f: (x) => tf.pow(x.a, 1.5) },
  { name: "tanh", inputs: { a: { shape: [3, 4] } }, f: (x) => tf.tanh(x.a) },
  { name: "sigmoid", inputs: { a: { shape: [3, 4] } }, f: (x) => tf.sigmoid(x.a) },
  { name: "relu", inputs: { a: { shape: [3, 4] } }, f: (x) => tf.relu(x.a) },
  { name: "erf", inputs: { a: { shape: [3, 4] } }, f: (x) => tf.erf(x.a) },
  { name: "maximum, minimum (broadcast)", inputs: { a: { shape: [3, 4] }, b: { shape: [4] } }, f: (x) => tf.add(tf.maximum(x.a, x.b), tf.mul(tf.minimum(x.a, x.b), 2)) },
  {
    name: "gelu (tanh approximation)",
    inputs: { a: { shape: [3, 4] } },
    f: ({ a }) => tf.mul(tf.mul(a, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(a, tf.mul(0.044715, tf.pow(a, 3))))))),
  },
  { name: "softmax", inputs: { a: { shape: [2, 3, 5] } }, f: (x) => tf.softmax(x.a) },
  { name: "logSoftmax", inputs: { a: { shape: [2, 3, 5] } }, f: (x) => tf.logSoftmax(x.a) },
  { name: "gather rows (embedding)", inputs: { e: { shape: [6, 4] }, i: { shape: [2, 5], kind: "int", high: 6 } }, f: (x) => tf.gather(x.e, x.i) },
  { name: "gather axis 1", inputs: { e: { shape: [3, 6] }, i: { shape: [4], kind: "int", high: 6 } }, f: (x) => tf.gather(x.e, x.i, 1) },
  { name: "oneHot", inputs: { i: { shape: [2, 5], kind: "int", high: 7 } }, f: (x) => tf.oneHot(x.i, 7), wrt: [] },
  {
    name: "cross-entropy via oneHot",
    inputs: { l: { shape: [6, 7] }, t: { shape: [6], kind: "int", high: 7 } },
    f: (x) => tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(x.l), tf.oneHot(x.t, 7)), -1))),
  },
  {
    name: "cross-entropy via gather",
    inputs: { l: { shape: [6, 7] }, t: { shape: [6], kind: "int", high: 7 } },
    f: (x) => {
      const flat = tf.reshape(tf.logSoftmax(x.l), [-1]);
      const picked = tf.add(tf.mul(tf.range(0, 6, 1, "int32"), tf.scalar(7, "int32")), x.t);
      return tf.neg(tf.mean(tf.gather(flat, picked)));
    },
  },
  { name: "sum over axes", inputs: { a: { shape: [3, 4, 5] } }, f: (x) => tf.concat([tf.reshape(tf.sum(x.a, 0), [-1]), tf.reshape(tf.sum(x.a, [1, 2]), [-1]), tf.reshape(tf.sum(x.a, -1, true), [-1]), tf.reshape(tf.sum(x.a), [1])]) },
  { name: "mean over axes", inputs: { a: { shape: [3, 4, 5] } }, f: (x) => tf.concat([tf.reshape(tf.mean(x.a, 1), [-1]), tf.reshape(tf.mean(x.a, -1, true), [-1]), tf.reshape(tf.mean(x.a), [1])]) },
  { name: "max over axes", inputs: { a: { shape: [3, 4, 5] } }, f: (x) => tf.concat([tf.reshape(tf.max(x.a, 0), [-1]), tf.reshape(tf.max(x.a, -1), [-1])]) },
  { name: "moments (layer norm)", inputs: { a: { shape: [2, 3, 8] } }, f: ({ a }) => { const { mean, variance } = tf.moments(a, -1, true); return tf.mul(tf.sub(a, mean), tf.rsqrt(tf.add(variance, 1e-5))); } },
  { name: "transpose 4-D", inputs: { a: { shape: [2, 3, 4, 5] } }, f: (x) => tf.transpose(x.a, [0, 2, 1, 3]) },
  { name: "reshape", inputs: { a: { shape: [2, 3, 4] } }, f: (x) => tf.reshape(x.a, [6, 2, 2]) },
  { name: "slice", inputs: { a: { shape: [4, 6, 3] } }, f: (x) => tf.slice(x.a, [1, 2, 0], [2, 3, -1]) },
  { name: "concat axis 1 and -1", inputs: { a: { shape: [2, 3, 4] }, b: { shape: [2, 2, 4] }, c: { shape: [2, 5, 3] } }, f: (x) => tf.concat([tf.concat([x.a, x.b], 1), x.c], -1) },
  { name: "split, stack, unstack", inputs: { a: { shape: [2, 6, 3] } }, f: (x) => tf.stack(tf.split(x.a, 3, 1).map((t) => tf.unstack(t, 0)[1]), 0) },
  { name: "expandDims, squeeze, tile", inputs: { a: { shape: [3, 4] } }, f: (x) => tf.tile(tf.squeeze(tf.expandDims(x.a, 0), [0]), [2, 1]) },
  { name: "where(bandPart mask) then softmax", inputs: { a: { shape: [2, 5, 5] } }, f: (x) => tf.softmax(tf.where(causal(5), x.a, tf.fill([5, 5], -Infinity))) },
  { name: "masked fill with -1e9", inputs: { a: { shape: [5, 5] } }, f: (x) => tf.softmax(tf.add(x.a, tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([5, 5]), -1, 0)), -1e9))) },
  { name: "squaredDifference", inputs: { a: { shape: [3, 4] }, b: { shape: [4] } }, f: (x) => tf.squaredDifference(x.a, x.b) },
  { name: "clipByValue", inputs: { a: { shape: [4, 5] } }, f: (x) => tf.clipByValue(tf.mul(x.a, 2), -1, 1.5) },
  { name: "unsortedSegmentSum", inputs: { a: { shape: [6, 3] }, s: { shape: [6], kind: "int", high: 4 } }, f: (x) => tf.unsortedSegmentSum(x.a, x.s as tf.Tensor1D, 4) },
  { name: "argMax, topk (forward)", inputs: { a: { shape: [4, 9] } }, f: (x) => tf.concat([tf.cast(tf.argMax(x.a, -1), "float32"), tf.reshape(tf.topk(x.a, 3).values, [-1])]), wrt: [] },
  { name: "cast, comparisons (forward)", inputs: { a: { shape: [3, 4] }, b: { shape: [3, 4] } }, f: (x) => tf.add(tf.cast(tf.greater(x.a, x.b), "float32"), tf.cast(tf.equal(x.a, x.a), "float32")), wrt: [] },
  {
    name: "AdamW update",
    inputs: { p: { shape: [4, 5] }, g: { shape: [4, 5] }, m: { shape: [4, 5] }, v: { shape: [4, 5], kind: "positive" } },
    f: ({ p, g, m, v }) => {
      const [beta1, beta2, lr, eps, decay, step] = [0.9, 0.95, 1e-3, 1e-8, 0.1, 3];
      const m2 = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
      const v2 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
      const mHat = tf.div(m2, 1 - beta1 ** step);
      const vHat = tf.div(v2, 1 - beta2 ** step);
      const update = tf.add(tf.div(mHat, tf.add(tf.sqrt(vHat), eps)), tf.mul(p, decay));
      return tf.sub(p, tf.mul(update, lr));
    },
    wrt: [],
  },
  {
    name: "tiny attention block, end to end",
    inputs: {
      x: { shape: [2, 4, 8] }, wq: { shape: [8, 8] }, wk: { shape: [8, 8] }, wv: { shape: [8, 8] }, wo: { shape: [8, 8] },
      head: { shape: [8, 11] }, t: { shape: [2, 4], kind: "int", high: 11 },
    },
    f: (w) => attentionLoss(w),
    slack: 10,
  },
];

/**
 * A pre-LN causal self-attention block (2 heads) with a tanh-GELU MLP-free residual, a
 * vocabulary head and cross-entropy: the ops of a GPT training step in one scalar.
 */
function attentionLoss({ x, wq, wk, wv, wo, head, t }: Inputs): tf.Tensor {
  const [B, T, C] = x.shape;
  const nh = 2, hs = C / nh;
  const { mean, variance } = tf.moments(x, -1, true);
  const h = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5)));
  const split = (w: tf.Tensor) => tf.transpose(tf.reshape(tf.matMul(h, w), [B, T, nh, hs]), [0, 2, 1, 3]);
  const [q, k, v] = [split(wq), split(wk), split(wv)];
  const scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hs));
  const att = tf.softmax(tf.where(causal(T), scores, tf.fill([T, T], -Infinity)));
  const y = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [B, T, C]);
  const g = tf.add(x, tf.matMul(y, wo));
  const act = tf.mul(tf.mul(g, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(g, tf.mul(0.044715, tf.pow(g, 3)))))));
  const logits = tf.reshape(tf.matMul(act, head), [B * T, -1]);
  const logProbs = tf.logSoftmax(logits);
  return tf.neg(tf.mean(tf.sum(tf.mul(logProbs, tf.oneHot(tf.reshape(t, [-1]) as tf.Tensor1D, logits.shape[1]!)), -1)));
}

/** Seeded input values: the same numbers on every backend. */
function inputValues(spec: InputSpec, seed: number): Float32Array | Int32Array {
  const rng = new Rng(seed);
  const size = spec.shape.reduce((a, b) => a * b, 1);
  if (spec.kind === "int") return Int32Array.from({ length: size }, () => rng.randint(0, spec.high ?? 2));
  if (spec.kind === "positive") return Float32Array.from({ length: size }, () => 0.5 + 1.5 * rng.random());
  return Float32Array.from({ length: size }, () => rng.normal());
}

/** Forward values and gradients, read with data() (WebGPU cannot read synchronously under Node). */
async function evaluate(c: Case): Promise<Result> {
  const names = Object.keys(c.inputs);
  const { forward, grads } = tf.tidy(() => {
    const tensors: Inputs = {};
    names.forEach((name, i) => {
      const spec = c.inputs[name];
      tensors[name] = tf.tensor(inputValues(spec, 1000 + 17 * i), spec.shape, spec.kind === "int" ? "int32" : "float32");
    });
    const forward = c.f(tensors);
    const wrt = c.wrt ?? names.filter((name) => c.inputs[name].kind !== "int");
    if (wrt.length === 0) return { forward, grads: [] as tf.Tensor[] };
    // A fixed random weighting of the output, so that no gradient is trivially zero (softmax sums to 1).
    const weights = tf.tensor(inputValues({ shape: [forward.size] }, 99), forward.shape);
    const loss = (...xs: tf.Tensor[]) => tf.sum(tf.mul(c.f({ ...tensors, ...Object.fromEntries(wrt.map((n, i) => [n, xs[i]])) }), weights));
    return { forward, grads: tf.grads(loss)(wrt.map((name) => tensors[name])) };
  });
  const result = {
    forward: (await forward.data()) as Result["forward"],
    grads: (await Promise.all(grads.map((g) => g.data()))) as Float32Array[],
  };
  tf.dispose([forward, ...grads]);
  return result;
}

/** The largest error in units of the tolerance; <= 1 passes. */
function worst(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): number {
  expect(actual.length).toBe(expected.length);
  let meanAbs = 0;
  for (let i = 0; i < expected.length; i++) meanAbs += Math.abs(expected[i]) / expected.length;
  let score = 0;
  for (let i = 0; i < expected.length; i++) {
    if (!Number.isFinite(expected[i])) {
      expect(actual[i]).toBe(expected[i]);
      continue;
    }
    score = Math.max(score, Math.abs(actual[i] - expected[i]) / (tol * (Math.abs(expected[i]) + meanAbs) + 1e-30));
  }
  return score;
}

async function checkAgainst(reference: Map<string, Result>, tol: number): Promise<void> {
  for (const c of cases) {
    const ref = reference.get(c.name)!;
    const got = await evaluate(c);
    const limit = tol * (c.slack ?? 1);
    expect.soft(worst(got.forward, ref.forward, limit), `${c.name}: forward`).toBeLessThanOrEqual(1);
    expect(got.grads.length, `${c.name}: gradient count`).toBe(ref.grads.length);
    got.grads.forEach((g, i) => expect.soft(worst(g, ref.grads[i], limit), `${c.name}: gradient ${i}`).toBeLessThanOrEqual(1));
  }
}

const reference = new Map<string, Result>();
const nativeCpu = (await useBackend("cpu")).native === true;

beforeAll(async () => {
  await useBackend("cpu");
  setNativeKernelsEnabled(false);
  try {
    for (const c of cases) reference.set(c.name, await evaluate(c));
  } finally {
    setNativeKernelsEnabled(true);
  }
});

afterAll(async () => {
  await shutdownEngine();
});

describe("op parity with the cpu backend", () => {
  it("cpu reference has real gradients (not all zero)", () => {
    for (const c of cases) for (const g of reference.get(c.name)!.grads) expect(g.some((v) => v !== 0), c.name).toBe(true);
  });

  it.runIf(nativeCpu)("cpu with the native kernels agrees within 1e-5", async () => {
    await useBackend("cpu");
    await checkAgainst(reference, 1e-5);
  });

  it("wasm agrees within 1e-5", async () => {
    await useBackend("wasm");
    await checkAgainst(reference, 1e-5);
  });

  // The check can fail: a wrong op on the same inputs is far outside the tolerance.
  it("a wrong result is rejected", () => {
    const ref = reference.get("softmax")!;
    const wrong = ref.forward.map((v, i) => (i === 3 ? v * (1 + 1e-3) : v));
    expect(worst(wrong, ref.forward, 1e-5)).toBeGreaterThan(1);
  });
});

const webgpuRequired = process.env.COURSE_REQUIRE_WEBGPU === "1";
const webgpu = await useBackend("webgpu", { allowSoftware: true }).then(
  (info) => ({ ok: true as const, info, reason: "" }),
  (error: unknown) => ({ ok: false as const, info: undefined, reason: error instanceof BackendUnavailable ? error.reason : String(error) }),
);
if (!webgpu.ok && !webgpuRequired) console.warn(`SKIPPING WebGPU parity tests: ${webgpu.reason}`);

describe("WebGPU", () => {
  it.runIf(webgpuRequired)("is available (COURSE_REQUIRE_WEBGPU=1)", () => {
    expect(webgpu.reason).toBe("");
  });

  it.runIf(webgpu.ok)("agrees with cpu within 1e-4", async () => {
    const info = await useBackend("webgpu", { allowSoftware: true });
    console.log(`WebGPU adapter: ${info.device}`);
    await checkAgainst(reference, 1e-4);
  });
});

describe("PyTorch reference", () => {
  it("tiny attention block loss and gradients match torch (cpu backend)", async () => {
    await useBackend("cpu");
    const c = cases.find((k) => k.name === "tiny attention block, end to end")!;
    const names = Object.keys(c.inputs);
    const values = Object.fromEntries(names.map((name, i) => [name, { shape: c.inputs[name].shape, data: Array.from(inputValues(c.inputs[name], 1000 + 17 * i)) }]));
    const ours = tf.tidy(() => {
      const t = Object.fromEntries(names.map((n) => [n, tf.tensor(values[n].data, values[n].shape, c.inputs[n].kind === "int" ? "int32" : "float32")]));
      const wrt = names.filter((n) => n !== "t");
      const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => attentionLoss({ ...t, ...Object.fromEntries(wrt.map((n, i) => [n, xs[i]])) }) as tf.Scalar)(wrt.map((n) => t[n]));
      return { loss: value.dataSync()[0], grads: Object.fromEntries(wrt.map((n, i) => [n, Array.from(grads[i].dataSync())])) };
    });
    const torch = spawnSync("/usr/bin/python3", ["-c", TORCH_ATTENTION], { input: JSON.stringify(values), encoding: "utf8" });
    expect(torch.status, torch.stderr).toBe(0);
    const expected = JSON.parse(torch.stdout) as { loss: number; grads: Record<string, number[]> };
    expect(Math.abs(ours.loss - expected.loss)).toBeLessThan(1e-5 * Math.abs(expected.loss));
    for (const [name, grad] of Object.entries(expected.grads)) {
      expect(worst(ours.grads[name], grad, 1e-4), name).toBeLessThanOrEqual(1);
    }
  });
});

// The same block in PyTorch, float64, reading the inputs as JSON from stdin.
const TORCH_ATTENTION = `
import json, math, sys, torch
d = json.load(sys.stdin)
t = {k: torch.tensor(v["data"], dtype=torch.float64).reshape(v["shape"]) for k, v in d.items()}
t["t"] = t["t"].long()
w = {k: t[k].clone().requires_grad_(True) for k in ["x", "wq", "wk", "wv", "wo", "head"]}
x = w["x"]; B, T, C = x.shape; nh = 2; hs = C // nh
h = (x - x.mean(-1, keepdim=True)) / torch.sqrt(x.var(-1, unbiased=False, keepdim=True) + 1e-5)
split = lambda m: (h @ m).view(B, T, nh, hs).transpose(1, 2)
q, k, v = split(w["wq"]), split(w["wk"]), split(w["wv"])
s = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
s = s.masked_fill(torch.tril(torch.ones(T, T)) == 0, float("-inf"))
y = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(B, T, C)
g = x + y @ w["wo"]
a = torch.nn.functional.gelu(g, approximate="tanh")
logits = (a @ w["head"]).view(B * T, -1)
loss = torch.nn.functional.cross_entropy(logits, t["t"].view(-1))
loss.backward()
print(json.dumps({"loss": loss.item(), "grads": {k: p.grad.flatten().tolist() for k, p in w.items()}}))
`;
