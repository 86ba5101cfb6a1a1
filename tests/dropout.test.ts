// Seeded dropout (lib/engine/random-kernels.ts): the counter-based hash against an independent
// Python implementation, the kept fraction, seeds, the gradient, and bit-identical masks on cpu,
// wasm and WebGPU (a software adapter when no GPU is present; skipped without any adapter unless
// COURSE_REQUIRE_WEBGPU=1, where that fails).
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { spawnSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import {
  BackendUnavailable,
  dropoutKernelName,
  dropoutMask,
  lowbias32,
  randomBits,
  randomUniform,
  seededDropout,
  shutdownEngine,
  tf,
  useBackend,
} from "../lib/engine/index.js";
import { dropout } from "../lib/models/gpt/layers.js";
import { Rng } from "../lib/util/random.js";

// The same u32 arithmetic written independently in Python (arbitrary-precision ints, masked).
const PYTHON_HASH = `
import json, math, sys
M = 0xffffffff
def lowbias32(x):
    x &= M
    x ^= x >> 16; x = (x * 0x7feb352d) & M
    x ^= x >> 15; x = (x * 0x846ca68b) & M
    x ^= x >> 16
    return x
def bits(seed, i):
    return lowbias32(lowbias32(i) ^ lowbias32(seed ^ 0x9e3779b9))
d = json.load(sys.stdin)
pairs = [[lowbias32(i), bits(s, i), (bits(s, i) >> 8) / 2**24] for s, i in d["pairs"]]
s, n, rate = d["mask"]
threshold = math.ceil(rate * 2**24)
kept = [i for i in range(n) if (bits(s, i) >> 8) >= threshold]
print(json.dumps({"pairs": pairs, "kept": kept}))
`;

function python(input: object): { pairs: [number, number, number][]; kept: number[] } {
  const run = spawnSync("/usr/bin/python3", ["-c", PYTHON_HASH], { input: JSON.stringify(input), encoding: "utf8" });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout);
}

/** Seeded normal values, with a few exact zeros, negatives and large values mixed in. */
function inputs(size: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const values = Float32Array.from({ length: size }, () => rng.normal());
  for (let i = 0; i < size; i += 97) values[i] = [0, -1e30, 1e-30, 1e30][(i / 97) % 4];
  return values;
}

async function dropoutValues(values: Float32Array, shape: number[], rate: number, seed: number): Promise<Float32Array> {
  const x = tf.tensor(values, shape);
  const y = seededDropout(x, rate, seed);
  const out = (await y.data()) as Float32Array;
  tf.dispose([x, y]);
  return out;
}

/** dy · mask(seed, rate), through tf.grad of sum(dropout(x) · w). */
async function dropoutGradient(shape: number[], rate: number, seed: number, weights: Float32Array): Promise<Float32Array> {
  const x = tf.tensor(inputs(weights.length, 5), shape);
  const w = tf.tensor(weights, shape);
  const grad = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(seededDropout(input, rate, seed), w)))(x);
  const out = (await grad.data()) as Float32Array;
  tf.dispose([x, w, grad]);
  return out;
}

const sameBits = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

afterAll(async () => {
  await shutdownEngine();
});

describe("the hash", () => {
  it("equals an independent Python implementation of the same u32 arithmetic", () => {
    const rng = new Rng(42);
    const pairs: [number, number][] = [
      [0, 0], [0, 1], [1, 0], [1337, 0], [1337, 12345], [0xffffffff, 0xffffffff], [2024, 25165823],
      ...Array.from({ length: 200 }, (): [number, number] => [rng.seed(), rng.seed()]),
    ];
    const expected = python({ pairs, mask: [7, 4096, 0.25] }).pairs;
    pairs.forEach(([seed, index], k) => {
      expect([lowbias32(index), randomBits(seed, index), randomUniform(seed, index)], `seed ${seed}, index ${index}`).toEqual(expected[k]);
    });
    // A few written out, so that a change to both implementations shows up too.
    expect(lowbias32(1)).toBe(1753845952);
    expect(randomBits(0, 0)).toBe(2926543089);
    expect(randomBits(1337, 12345)).toBe(1028563769);
    expect(randomUniform(2024, 25165823)).toBe(0.7656285166740417);
  });

  it("drops exactly the elements whose uniform is below the rate (Python, 4096 elements)", async () => {
    await useBackend("cpu");
    const { kept } = python({ pairs: [], mask: [7, 4096, 0.25] });
    const ours = await dropoutValues(new Float32Array(4096).fill(1), [4096], 0.25, 7);
    const keptHere = [...ours.keys()].filter((i) => ours[i] !== 0);
    expect(keptHere).toEqual(kept);
    expect(keptHere.every((i) => ours[i] === Math.fround(1 / 0.75))).toBe(true);
  });
});

describe("seededDropout on cpu", () => {
  it("keeps a fraction 1 − rate of 1M elements, scaled by 1/(1 − rate)", async () => {
    await useBackend("cpu");
    const n = 1 << 20;
    for (const rate of [0.1, 0.2, 0.5]) {
      const out = await dropoutValues(new Float32Array(n).fill(2), [1024, 1024], rate, 99);
      const scaled = Math.fround(2 * Math.fround(1 / (1 - rate)));
      const kept = out.filter((v) => v !== 0).length;
      expect(out.filter((v) => v !== 0 && v !== scaled).length).toBe(0);
      // Binomial: standard deviation sqrt(n·p·(1−p)) ≤ 512; allow 5 of them.
      expect(Math.abs(kept - n * (1 - rate)), `rate ${rate}`).toBeLessThan(5 * Math.sqrt(n * rate * (1 - rate)));
    }
  });

  it("gives the same mask for the same seed and independent masks for different seeds", async () => {
    await useBackend("cpu");
    const n = 1 << 18;
    const ones = new Float32Array(n).fill(1);
    const a = await dropoutValues(ones, [n], 0.5, 1);
    const b = await dropoutValues(ones, [n], 0.5, 1);
    const c = await dropoutValues(ones, [n], 0.5, 2);
    expect(sameBits(a, b)).toBe(true);
    let both = 0;
    for (let i = 0; i < n; i++) if (a[i] !== 0 && c[i] !== 0) both++;
    // Independent masks keep an element in both a quarter of the time (sd = sqrt(n·3/16) ≈ 222).
    expect(Math.abs(both - n / 4)).toBeLessThan(5 * Math.sqrt((n * 3) / 16));
    // And a mask does not repeat along the tensor: the second half differs from the first.
    let sameHalves = 0;
    for (let i = 0; i < n / 2; i++) if ((a[i] !== 0) === (a[i + n / 2] !== 0)) sameHalves++;
    expect(Math.abs(sameHalves - n / 4)).toBeLessThan(5 * Math.sqrt(n / 8));
  });

  it("has the gradient dy · mask / (1 − rate)", async () => {
    await useBackend("cpu");
    const shape = [4, 8, 16];
    const w = inputs(512, 8);
    const grad = await dropoutGradient(shape, 0.3, 123, w);
    const mask = dropoutMask(512, 0.3, 123);
    expect(Array.from(grad)).toEqual(Array.from(w, (v, i) => (mask[i] === 0 ? 0 : Math.fround(v * mask[i]))));
    expect(mask.filter((m) => m === 0).length).toBeGreaterThan(100); // some are really dropped
  });

  it("is the identity at rate 0 in the GPT layer, checks its arguments and leaks no tensors", async () => {
    await useBackend("cpu");
    const x = tf.tensor(inputs(60, 3), [3, 4, 5]);
    expect(dropout(x, 0, 1)).toBe(x);
    const before = tf.memory().numTensors;
    const y = dropout(x, 0.5, 1);
    expect(y.shape).toEqual([3, 4, 5]);
    y.dispose();
    tf.grad((t: tf.Tensor) => tf.sum(dropout(t, 0.5, 1)))(x).dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => seededDropout(x, 1, 1)).toThrow(/rate/);
    expect(() => seededDropout(x, -0.1, 1)).toThrow(/rate/);
    const ints = tf.tensor([1, 2, 3], [3], "int32");
    expect(() => seededDropout(ints, 0.5, 1)).toThrow(/float32/);
    tf.dispose([x, ints]);
  });

  it("makes the same mask in JavaScript on a backend without the kernel (the tensorflow path)", async () => {
    await useBackend("cpu");
    const expected = await dropoutValues(inputs(1000, 4), [10, 100], 0.2, 77);
    // A cpu backend under another name, with every cpu kernel but CourseDropout.
    tf.registerBackend("cpu-without-dropout", () => Object.assign(new MathBackendCPU(), { firstUse: false }));
    for (const kernel of tf.getKernelsForBackend("cpu")) {
      if (kernel.kernelName !== dropoutKernelName) tf.registerKernel({ ...kernel, backendName: "cpu-without-dropout" });
    }
    await tf.setBackend("cpu-without-dropout");
    try {
      const out = await dropoutValues(inputs(1000, 4), [10, 100], 0.2, 77);
      // x · 0 is −0 for negative x here, +0 in the kernels: equal as numbers.
      expect(Array.from(out)).toEqual(Array.from(expected).map((v, i) => (v === 0 ? out[i] : v)));
      expect(Array.from(out, (v) => v === 0)).toEqual(Array.from(expected, (v) => v === 0));
    } finally {
      tf.removeBackend("cpu-without-dropout");
      for (const kernel of tf.getKernelsForBackend("cpu-without-dropout")) tf.unregisterKernel(kernel.kernelName, "cpu-without-dropout");
      await useBackend("cpu");
    }
  });
});

// Shapes for the cross-backend comparison: odd sizes, and one with more than 65535 workgroups of
// 256 (WebGPU folds such a dispatch into 2-D, so its index arithmetic changes).
const shapes = [[7], [3, 5, 7, 11], [2, (1 << 23) + 12345]];

async function masksOn(): Promise<{ forward: Float32Array[]; grads: Float32Array[] }> {
  const forward: Float32Array[] = [];
  const grads: Float32Array[] = [];
  for (const [k, shape] of shapes.entries()) {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = size > 1e6 ? new Float32Array(size).fill(-1.5) : inputs(size, 10 + k);
    forward.push(await dropoutValues(values, shape, 0.2, 1000 + k));
    if (size < 1e6) grads.push(await dropoutGradient(shape, 0.2, 2000 + k, inputs(size, 20 + k)));
  }
  return { forward, grads };
}

describe("the same mask on every backend", () => {
  it("wasm gives bit-identical outputs and gradients to cpu", async () => {
    await useBackend("cpu");
    const cpu = await masksOn();
    await useBackend("wasm");
    const wasm = await masksOn();
    cpu.forward.forEach((values, i) => expect(sameBits(wasm.forward[i], values), `forward ${shapes[i]}`).toBe(true));
    cpu.grads.forEach((values, i) => expect(sameBits(wasm.grads[i], values), `gradient ${shapes[i]}`).toBe(true));
  });
});

const webgpuRequired = process.env.COURSE_REQUIRE_WEBGPU === "1";
const webgpu = await useBackend("webgpu", { allowSoftware: true }).then(
  () => ({ ok: true as const, reason: "" }),
  (error: unknown) => ({ ok: false as const, reason: error instanceof BackendUnavailable ? error.reason : String(error) }),
);
if (!webgpu.ok && !webgpuRequired) console.warn(`SKIPPING WebGPU dropout tests: ${webgpu.reason}`);

describe("WebGPU", () => {
  it.runIf(webgpuRequired)("is available (COURSE_REQUIRE_WEBGPU=1)", () => {
    expect(webgpu.reason).toBe("");
  });

  it.runIf(webgpu.ok)("gives bit-identical outputs and gradients to cpu", async () => {
    await useBackend("cpu");
    const cpu = await masksOn();
    const info = await useBackend("webgpu", { allowSoftware: true });
    console.log(`WebGPU adapter: ${info.device}`);
    const gpu = await masksOn();
    cpu.forward.forEach((values, i) => expect(sameBits(gpu.forward[i], values), `forward ${shapes[i]}`).toBe(true));
    cpu.grads.forEach((values, i) => expect(sameBits(gpu.grads[i], values), `gradient ${shapes[i]}`).toBe(true));
  });
});
