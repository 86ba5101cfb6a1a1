/**
 * The native cpu kernels against tfjs's stock JS kernels: every kernel on random shapes
 * (broadcasting, transposes, odd axes), gradients of composite ops, int32 fallback, the
 * buffer pool's safety. Skips (printing why) when the addon is not built, unless
 * COURSE_REQUIRE_NATIVE=1.
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../lib/engine/index.js";
import {
  installNativeCpuKernels, nativeAddon, nativeKernelStats, nativeStatus, resetNativeKernelStats, setNativeKernelsEnabled,
} from "../lib/native/index.js";
import { Rng } from "../lib/util/random.js";

await useBackend("cpu");
const status = nativeStatus();
const required = process.env.COURSE_REQUIRE_NATIVE === "1";
if (!status.loaded) console.warn(`native kernel tests skipped: ${status.reason}`);
const describeNative = status.loaded || required ? describe : describe.skip;

const rng = new Rng(7);
function random(shape: number[], opts: { low?: number; high?: number } = {}): tf.Tensor {
  const { low = -2, high = 2 } = opts;
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, () => low + (high - low) * rng.random()), shape);
}

/** Runs f with native kernels and with the stock ones; returns both results' values and shapes. */
function both(f: () => tf.Tensor | tf.Tensor[]): { native: tf.Tensor[]; stock: tf.Tensor[] } {
  setNativeKernelsEnabled(true);
  const native = ([] as tf.Tensor[]).concat(tf.tidy(f));
  setNativeKernelsEnabled(false);
  const stock = ([] as tf.Tensor[]).concat(tf.tidy(f));
  setNativeKernelsEnabled(true);
  return { native, stock };
}

/** |native - stock| <= 1e-5 · (|stock| + mean |stock|), elementwise, same shapes and dtypes. */
function expectAgree(f: () => tf.Tensor | tf.Tensor[], rtol = 1e-5): void {
  const { native, stock } = both(f);
  expect(native.length).toBe(stock.length);
  native.forEach((n, i) => {
    const s = stock[i];
    expect(n.shape).toEqual(s.shape);
    expect(n.dtype).toBe(s.dtype);
    const a = n.dataSync();
    const b = s.dataSync();
    let scale = 0;
    for (let j = 0; j < b.length; j++) if (Number.isFinite(b[j])) scale += Math.abs(b[j]) / b.length;
    for (let j = 0; j < b.length; j++) {
      if (Number.isNaN(b[j])) {
        expect(Number.isNaN(a[j]), `element ${j}: stock NaN, native ${a[j]}`).toBe(true);
        continue;
      }
      if (!Number.isFinite(b[j])) {
        expect(a[j], `element ${j}`).toBe(b[j]);
        continue;
      }
      const tol = rtol * (Math.abs(b[j]) + scale) + 1e-30;
      if (!(Math.abs(a[j] - b[j]) <= tol)) {
        expect.fail(`output ${i} element ${j} of ${b.length}: native ${a[j]} vs stock ${b[j]} (tol ${tol})`);
      }
    }
  });
  tf.dispose([...native, ...stock]);
}

/** Asserts that `kernel` ran natively at least once inside f (so a test cannot pass by falling back). */
function expectNative(kernel: string, f: () => void): void {
  resetNativeKernelStats();
  f();
  expect(nativeKernelStats()[kernel]?.native ?? 0, `${kernel} ran natively`).toBeGreaterThan(0);
}

describeNative("native cpu kernels", () => {
  beforeAll(() => {
    expect(status.loaded, status.reason).toBe(true);
    expect(status.kernels).toContain("BatchMatMul");
  });
  afterEach(() => setNativeKernelsEnabled(true));

  it("installs once: a second call changes nothing and wraps no kernel twice", () => {
    const again = installNativeCpuKernels();
    expect(again).toEqual({ loaded: true, kernels: status.kernels });
    expect(nativeStatus()).toMatchObject({ loaded: true, enabled: true });
    expect(["openblas", "builtin"]).toContain(nativeStatus().blas);
    resetNativeKernelStats();
    tf.dispose(tf.add(random([3]), random([3])));
    expect(nativeKernelStats().Add).toEqual({ native: 1, fallback: 0 });
  });

  it("the addon throws on sizes that would overrun a buffer, rather than corrupting memory", () => {
    const addon = nativeAddon()!;
    const small = new Float32Array(4);
    expect(() => addon.softmax(small, small, 3, 2)).toThrow(/too small/);
    expect(() => addon.matMul(small, small, small, 1, 1, 1, 2, 2, 3, false, false)).toThrow(/bad sizes/);
    expect(() => addon.binary(0, small, small, small, Int32Array.of(5), Int32Array.of(1), Int32Array.of(0))).toThrow(/too small/);
    expect(() => addon.stridedCopy(small, small, Int32Array.of(2, 2), Int32Array.of(3, 1), 0)).toThrow(/too small/);
    expect(() => addon.copy2d(small, 0, 2, small, 1, 2, 2, 2)).toThrow(/too small/);
    expect(() => addon.reduce(0, small, small, 1, -1, 1)).toThrow(/non-negative integer/);
    expect(() => addon.unary(99, small, small)).toThrow(/bad op/);
  });

  describe("BatchMatMul", () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[7, 5], [5, 3], false, false],
      [[5, 7], [5, 3], true, false],
      [[7, 5], [3, 5], false, true],
      [[5, 7], [3, 5], true, true],
      [[4, 6, 5], [4, 5, 3], false, false],
      [[4, 5, 6], [4, 3, 5], true, true],
      [[4, 6, 5], [5, 3], false, false], // shared right-hand matrix
      [[4, 5, 6], [5, 3], true, false],
      [[1, 6, 5], [4, 5, 3], false, false], // broadcast left
      [[2, 3, 6, 5], [2, 3, 3, 5], false, true],
      [[2, 3, 6, 5], [5, 3], false, false],
      [[33, 70], [70, 129], false, false], // past the blocking sizes
      ...[false, true].flatMap((ta) => [false, true].map((tb): [number[], number[], boolean, boolean] =>
        [ta ? [70, 1] : [1, 70], tb ? [129, 70] : [70, 129], ta, tb])), // one row: sgemv
      [[12, 1, 64], [12, 40, 64], false, true], // one query per head over 40 cached keys
    ];
    for (const blas of ["openblas", "builtin"] as const) {
      it.each(cases)(`${blas}: %j x %j (transposeA %s, transposeB %s)`, (aShape, bShape, ta, tb) => {
        const addon = nativeAddon()!;
        if (blas === "openblas" && !addon.useOpenBlas(true)) return; // OpenBLAS not installed
        addon.useOpenBlas(blas === "openblas");
        try {
          const a = random(aShape);
          const b = random(bShape);
          expectNative("BatchMatMul", () => tf.dispose(tf.matMul(a, b, ta, tb)));
          expectAgree(() => tf.matMul(a, b, ta, tb));
        } finally {
          addon.useOpenBlas(true);
        }
      });
    }

    it("fused matMul with bias and relu", () => {
      const a = random([6, 5]);
      const b = random([4, 5]);
      const bias = random([4]);
      expectNative("_FusedMatMul", () => tf.dispose(tf.fused.matMul({ a, b, transposeB: true, bias, activation: "relu" })));
      expectAgree(() => tf.fused.matMul({ a, b, transposeB: true, bias, activation: "relu" }));
      expectAgree(() => tf.fused.matMul({ a, b, transposeB: true, bias }));
      expectAgree(() => tf.fused.matMul({ a, b, transposeB: true }));
      expectAgree(() => tf.fused.matMul({ a, b, transposeB: true, bias, activation: "elu" })); // falls back
    });
  });

  describe("elementwise", () => {
    const shapes: [number[], number[]][] = [
      [[3, 4], [3, 4]],
      [[3, 4], [4]],
      [[3, 4], [3, 1]],
      [[2, 3, 4], [3, 1]],
      [[], [2, 3]],
      [[5, 1, 4], [1, 3, 1]],
      [[2, 1, 3, 1, 2], [4, 3, 1, 1]],
      [[1, 7], [6, 1]],
    ];
    const ops: [string, string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
      ["add", "Add", tf.add],
      ["sub", "Sub", tf.sub],
      ["mul", "Multiply", tf.mul],
      ["div", "RealDiv", tf.div],
      ["maximum", "Maximum", tf.maximum],
      ["minimum", "Minimum", tf.minimum],
      ["squaredDifference", "SquaredDifference", tf.squaredDifference],
    ];
    for (const [name, kernel, op] of ops) {
      it.each(shapes)(`${name} %j with %j`, (aShape, bShape) => {
        const a = random(aShape);
        const b = random(bShape);
        expectNative(kernel, () => tf.dispose(op(a, b)));
        expectAgree(() => [op(a, b), op(b, a)]);
      });
    }

    it("pow with positive bases and a scalar exponent", () => {
      const a = random([4, 5], { low: 0.1, high: 3 });
      const b = random([5]);
      expectNative("Pow", () => tf.dispose(tf.pow(a, b)));
      expectAgree(() => [tf.pow(a, b), tf.pow(a, tf.scalar(3)), tf.pow(a, tf.scalar(0.5))]);
    });

    const unary: [string, (x: tf.Tensor) => tf.Tensor, { low?: number; high?: number }?][] = [
      ["Exp", tf.exp, { low: -80, high: 80 }],
      ["Log", tf.log, { low: 1e-3, high: 100 }],
      ["Sqrt", tf.sqrt, { low: 0, high: 100 }],
      ["Rsqrt", tf.rsqrt, { low: 1e-3, high: 100 }],
      ["Tanh", tf.tanh],
      ["Neg", tf.neg],
      ["Square", tf.square],
      ["Abs", tf.abs],
      ["Relu", tf.relu],
      ["Sigmoid", tf.sigmoid, { low: -20, high: 20 }],
      ["Reciprocal", tf.reciprocal, { low: 0.1, high: 10 }],
      ["Erf", tf.erf, { low: -4, high: 4 }],
      ["Log1p", tf.log1p, { low: -0.9, high: 10 }],
      ["Expm1", tf.expm1],
      ["Sin", tf.sin],
      ["Cos", tf.cos],
      ["Sign", tf.sign],
    ];
    it.each(unary)("%s", (kernel, op, range) => {
      const x = random([37, 29], range);
      expectNative(kernel, () => tf.dispose(op(x)));
      expectAgree(() => op(x));
    });

    it("exp at the edges: overflow, underflow, NaN", () => {
      const x = tf.tensor([0, 88.7, 89, 1000, -87.3, -88, -104, -1e9, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
      expectAgree(() => tf.exp(x), 2e-6);
    });

    it("tanh near 0, around the polynomial's cut-off, and saturated", () => {
      const x = tf.tensor([0, 1e-7, -3e-4, 0.01, 0.1249, 0.125, 0.1251, -0.2, 0.5, 5, -9, 20, 50, -1e4, Number.NaN]);
      expectAgree(() => tf.tanh(x), 2e-6);
    });

    it("softmax, with masked and large logits", () => {
      const x = random([6, 5, 17], { low: -30, high: 30 });
      const mask = tf.tensor([0, -1e9, 0, -1e9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1e9]);
      expectNative("Softmax", () => tf.dispose(tf.softmax(x)));
      expectAgree(() => [tf.softmax(x), tf.softmax(tf.add(x, mask)), tf.softmax(tf.mul(x, 100))]);
    });
  });

  describe("reductions", () => {
    const cases: [number[], number | number[], boolean][] = [
      [[7, 9], 1, false],
      [[7, 9], 0, false],
      [[7, 9], -1, true],
      [[3, 4, 5], [0, 1], false],
      [[3, 4, 5], [1, 2], true],
      [[3, 4, 5], 1, false],
      [[3, 4, 5], [0, 2], false], // not adjacent
      [[2, 3, 4, 5], [0, 2], true],
      [[300, 200], 0, false], // long sums
      [[11], 0, false],
    ];
    const ops: [string, (x: tf.Tensor, axis: number | number[], keep: boolean) => tf.Tensor][] = [
      ["Sum", tf.sum],
      ["Mean", tf.mean],
      ["Max", tf.max],
      ["Min", tf.min],
      ["Prod", (x, axis, keep) => tf.prod(tf.add(tf.mul(x, 0.05), 1), axis, keep)],
    ];
    for (const [kernel, op] of ops) {
      it.each(cases)(`${kernel} of %j over %j (keepDims %s)`, (shape, axis, keep) => {
        const x = random(shape);
        expectNative(kernel, () => tf.dispose(op(x, axis, keep)));
        expectAgree(() => op(x, axis, keep));
      });
    }
  });

  describe("data movement", () => {
    it.each([
      [[3, 4], [1, 0]],
      [[2, 3, 4], [0, 2, 1]],
      [[2, 3, 4, 5], [0, 2, 1, 3]],
      [[3, 2, 4, 2, 5], [2, 0, 3, 1, 4]],
      [[2, 3, 4, 5], [3, 2, 1, 0]],
    ])("transpose %j by %j, float32 and int32", (shape, perm) => {
      const x = random(shape);
      expectNative("Transpose", () => tf.dispose(tf.transpose(x, perm)));
      expectAgree(() => [tf.transpose(x, perm), tf.transpose(tf.cast(tf.mul(x, 100), "int32"), perm)]);
    });

    it("slice, split, concat, stack, unstack, pad", () => {
      const x = random([4, 6, 5]);
      expectNative("Slice", () => tf.dispose(tf.slice(x, [1, 2, 1], [2, 3, 3])));
      expectNative("SplitV", () => tf.dispose(tf.split(x, [1, 2, 3], 1)));
      expectNative("Concat", () => tf.dispose(tf.concat([x, x], 2)));
      expectNative("Pack", () => tf.dispose(tf.stack([x, x, x], 1)));
      expectNative("PadV2", () => tf.dispose(tf.pad(x, [[1, 0], [0, 2], [3, 1]], 0.5)));
      expectAgree(() => [
        tf.slice(x, [1, 2, 1], [2, 3, 3]),
        tf.slice(x, [1, 0, 0], [2, 6, 5]), // contiguous: the stock kernel's view
        ...tf.split(x, [1, 2, 3], 1),
        ...tf.split(x, 2, 0),
        ...tf.split(x, 5, 2),
        tf.concat([x, x], 0),
        tf.concat([x, tf.slice(x, [0, 0, 0], [4, 6, 2])], 2),
        tf.concat([tf.slice(x, [0, 0, 0], [4, 1, 5]), x, x], 1),
        tf.stack([x, x, x], 0),
        tf.stack([x, x], 3),
        ...tf.unstack(x, 1),
        tf.pad(x, [[1, 0], [0, 2], [3, 1]], 0.5),
        tf.pad(tf.cast(x, "int32"), [[0, 0], [1, 1], [0, 0]]),
      ]);
    });

    it("gather along any axis, of float32 and int32 tables", () => {
      const x = random([6, 4, 5]);
      const idx = tf.tensor([[5, 0], [2, 2], [1, 3]], undefined, "int32");
      expectNative("GatherV2", () => tf.dispose(tf.gather(x, idx)));
      expectAgree(() => [tf.gather(x, idx), tf.gather(x, tf.tensor([3, 0, 3], undefined, "int32"), 1),
        tf.gather(x, tf.tensor([4, 4], undefined, "int32"), 2), tf.gather(tf.cast(x, "int32"), idx)]);
    });

    it("gather with an out-of-range index throws like the stock kernel", () => {
      const x = random([4, 3]);
      const bad = tf.tensor([1, 4], undefined, "int32");
      setNativeKernelsEnabled(false);
      const stockError = (() => { try { tf.gather(x, bad); } catch (e) { return (e as Error).message; } })();
      setNativeKernelsEnabled(true);
      expect(stockError).toMatch(/index/);
      expect(() => tf.gather(x, bad)).toThrow(stockError);
    });

    it("scatterND and unsortedSegmentSum add duplicate indices", () => {
      const updates = random([7, 5]);
      const rows = tf.tensor([[3], [0], [3], [1], [3], [0], [2]], undefined, "int32");
      const ids = tf.tensor1d([3, 0, 3, 1, 3, 0, -1], "int32");
      const small = random([3]);
      expectNative("ScatterNd", () => tf.dispose(tf.scatterND(rows, updates, [4, 5])));
      expectNative("UnsortedSegmentSum", () => tf.dispose(tf.unsortedSegmentSum(updates, ids, 4)));
      expectAgree(() => [tf.scatterND(rows, updates, [4, 5]), tf.unsortedSegmentSum(updates, ids, 4),
        tf.scatterND(tf.tensor([[1, 2], [0, 0], [1, 2]], undefined, "int32"), small, [2, 3])]);
    });
  });

  describe("gradients of composite ops", () => {
    it("attention-like block: matMul, mask, softmax, transpose", () => {
      const q = random([2, 3, 8, 4]);
      const k = random([2, 3, 8, 4]);
      const v = random([2, 3, 8, 4]);
      const mask = tf.mul(tf.sub(tf.linalg.bandPart(tf.ones([8, 8]), -1, 0), 1), 1e9);
      const f = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => {
        const att = tf.softmax(tf.add(tf.mul(tf.matMul(q, k, false, true), 0.5), mask));
        return tf.sum(tf.square(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3])));
      };
      expectAgree(() => tf.grads(f)([q, k, v]));
    });

    it("layer norm, GELU, log-softmax cross-entropy, embedding gather", () => {
      const x = random([6, 16]);
      const w = random([16]);
      const table = random([10, 16]);
      const ids = tf.tensor([1, 4, 4, 9, 0, 1], undefined, "int32");
      const f = (x: tf.Tensor, w: tf.Tensor, table: tf.Tensor) => {
        const h = tf.add(x, tf.gather(table, ids));
        const { mean, variance } = tf.moments(h, -1, true);
        const normed = tf.mul(tf.mul(tf.sub(h, mean), tf.rsqrt(tf.add(variance, 1e-5))), w);
        const gelu = tf.mul(tf.mul(normed, 0.5), tf.add(tf.erf(tf.mul(normed, Math.SQRT1_2)), 1));
        const logits = tf.matMul(gelu, table, false, true);
        return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(ids, 10)), -1)));
      };
      expectAgree(() => tf.grads(f)([x, w, table]));
    });
  });

  describe("fallbacks", () => {
    it("int32 math runs the stock kernels and gives exact results", () => {
      const a = tf.tensor([[1, -2, 3], [4, 5, -6]], undefined, "int32");
      const b = tf.tensor([[7], [-8]], undefined, "int32");
      resetNativeKernelsStatsAnd(() => {
        const sum = tf.add(a, b);
        expect(sum.dtype).toBe("int32");
        expect(Array.from(sum.dataSync())).toEqual([8, 5, 10, -4, -3, -14]);
        expect(Array.from(tf.mul(a, b).dataSync())).toEqual([7, -14, 21, -32, -40, 48]);
        expect(Array.from(tf.sum(a, 1).dataSync())).toEqual([2, 3]);
        expect(Array.from(tf.matMul(a, tf.transpose(a)).dataSync())).toEqual([14, -24, -24, 77]);
        const stats = nativeKernelStats();
        expect(stats.Add.fallback).toBeGreaterThan(0);
        expect(stats.Multiply.fallback).toBeGreaterThan(0);
        expect(stats.Sum.fallback).toBeGreaterThan(0);
        expect(stats.BatchMatMul.fallback).toBeGreaterThan(0);
        expect(stats.Add.native + stats.Multiply.native + stats.Sum.native + stats.BatchMatMul.native).toBe(0);
      });
    });

    it("empty tensors and bool inputs fall back", () => {
      expect(tf.add(tf.zeros([0, 3]), tf.ones([3])).shape).toEqual([0, 3]);
      expect(tf.transpose(tf.tensor([[true, false]], undefined, "bool")).dtype).toBe("bool");
      expect(tf.sum(tf.zeros([2, 0]), 1).dataSync()).toEqual(new Float32Array([0, 0]));
    });
  });

  describe("buffer reuse", () => {
    it("values read with dataSync are never recycled into later outputs", () => {
      const a = random([64, 64]);
      const b = random([64, 64]);
      const product = tf.mul(a, b);
      const values = product.dataSync();
      const copy = Float32Array.from(values);
      product.dispose();
      for (let i = 0; i < 5; i++) tf.tidy(() => tf.add(tf.mul(a, 3), tf.sub(b, 1)));
      expect(values).toEqual(copy);
    });

    it("values read through a reshape or a stock kernel's view are never recycled", () => {
      const a = random([64, 64]);
      const product = tf.mul(a, 2);
      const flat = tf.reshape(product, [4096]);
      const values = flat.dataSync(); // the same buffer as product's
      const view = tf.slice(tf.mul(a, 3), [8, 0], [8, 64]); // contiguous: the stock kernel returns a view
      const viewValues = Float32Array.from(view.dataSync());
      const copy = Float32Array.from(values);
      tf.dispose([product, flat]);
      for (let i = 0; i < 5; i++) tf.tidy(() => tf.add(tf.mul(a, 5), 1));
      expect(values).toEqual(copy);
      expect(view.dataSync()).toEqual(viewValues);
    });

    it("recycled buffers give the same results as fresh ones", () => {
      const x = random([32, 48]);
      const w = random([48, 48]);
      const run = () => tf.tidy(() => {
        let h = x;
        for (let i = 0; i < 4; i++) h = tf.tanh(tf.matMul(h, w));
        return tf.sum(h, 0);
      });
      const first = run();
      const again = [run(), run(), run()];
      for (const t of again) expect(t.dataSync()).toEqual(first.dataSync());
      tf.dispose([first, ...again]);
    });
  });
});

function resetNativeKernelsStatsAnd(f: () => void): void {
  resetNativeKernelStats();
  tf.tidy(f);
}
