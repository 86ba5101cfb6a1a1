// The engine's fixes to tfjs's wasm backend (lib/engine/wasm-*.ts): matrix products routed to
// XNNPACK (transposed operands copied, batches folded or split into views) and the added
// UnsortedSegmentSum. Each must give tfjs cpu's numbers and leak no wasm memory.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineInfo, tf, useBackend } from "../lib/engine/index.js";
import { Rng } from "../lib/util/random.js";

function values(shape: number[], seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
}

/** Runs f on cpu and on wasm with the same inputs; returns both outputs. */
async function onBoth(shapes: number[][], f: (...xs: tf.Tensor[]) => tf.Tensor): Promise<{ cpu: Float32Array; wasm: Float32Array }> {
  const run = async (backend: "cpu" | "wasm") => {
    await useBackend(backend);
    const out = tf.tidy(() => f(...shapes.map((shape, i) => tf.tensor(values(shape, 7 + i), shape))));
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return data;
  };
  return { cpu: await run("cpu"), wasm: await run("wasm") };
}

function expectClose(actual: Float32Array, expected: Float32Array, tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  const scale = expected.reduce((s, v) => s + Math.abs(v), 0) / expected.length;
  for (let i = 0; i < expected.length; i++) {
    if (Math.abs(actual[i] - expected[i]) > tol * (Math.abs(expected[i]) + scale)) {
      expect.fail(`element ${i}: ${actual[i]} vs ${expected[i]}`);
    }
  }
}

function wasmDataIds(): number {
  return (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
}

beforeAll(async () => {
  await useBackend("wasm");
});

afterAll(async () => {
  await useBackend("cpu");
});

describe("wasm matMul", () => {
  it("reports its patched kernels", () => {
    expect(engineInfo()?.notes.join(" ")).toMatch(/BatchMatMul.*_FusedMatMul.*UnsortedSegmentSum/);
  });

  const combos: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];
  const shapesFor = (ta: boolean, tb: boolean, batchA: number[], batchB: number[], m = 5, k = 7, n = 3) => [
    [...batchA, ...(ta ? [k, m] : [m, k])],
    [...batchB, ...(tb ? [n, k] : [k, n])],
  ];

  for (const [ta, tb] of combos) {
    for (const [label, batchA, batchB] of [
      ["2-D", [], []],
      ["4-D batched", [2, 3], [2, 3]],
      ["3-D by 2-D (folded rows)", [4], []],
      ["2-D by 3-D (shared a)", [], [4]],
      ["batch broadcast [2,3] x [2,1]", [2, 3], [2, 1]],
    ] as [string, number[], number[]][]) {
      it(`${label}, transposeA=${ta} transposeB=${tb} equals cpu`, async () => {
        const { cpu, wasm } = await onBoth(shapesFor(ta, tb, batchA, batchB), (a, b) => tf.matMul(a, b, ta, tb));
        expectClose(wasm, cpu);
      });
    }
  }

  it("matches a hand-computed product with both operands transposed", async () => {
    await useBackend("wasm");
    // aᵀ·bᵀ with a = [[1,3],[2,4]] and b = [[5,7],[6,8]] is [[1,2],[3,4]]·[[5,6],[7,8]].
    const out = tf.matMul(tf.tensor2d([[1, 3], [2, 4]]), tf.tensor2d([[5, 7], [6, 8]]), true, true);
    expect(Array.from(await out.data())).toEqual([19, 22, 43, 50]);
  });

  it("gives right results when the same weights meet new inputs (XNNPACK caches operators by weights)", async () => {
    await useBackend("wasm");
    const w = tf.tensor2d([[1, 0], [0, 2], [1, 1]]);
    const first = await tf.matMul(tf.tensor2d([[1, 2, 3]]), w).data();
    const second = await tf.matMul(tf.tensor2d([[1, 1, 1], [0, 0, 1]]), w).data();
    const w2 = tf.tensor2d([[0, 1], [1, 0], [2, 2]]);
    const third = await tf.matMul(tf.tensor2d([[1, 2, 3]]), w2).data();
    expect(Array.from(first)).toEqual([4, 7]);
    expect(Array.from(second)).toEqual([2, 3, 1, 1]);
    expect(Array.from(third)).toEqual([8, 7]);
  });

  it("frees its transposed copies and views", async () => {
    await useBackend("wasm");
    const a = tf.tensor(values([2, 3, 7, 5], 1), [2, 3, 7, 5]);
    const b = tf.tensor(values([2, 3, 4, 7], 2), [2, 3, 4, 7]);
    const before = { ids: wasmDataIds(), tensors: tf.memory().numTensors };
    for (let i = 0; i < 3; i++) tf.matMul(a, b, true, true).dispose();
    tf.dispose(tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y, true, true)))([a, b]));
    expect(wasmDataIds()).toBe(before.ids);
    expect(tf.memory().numTensors).toBe(before.tensors);
    tf.dispose([a, b]);
  });

  it("gradients of x·W, xᵀ-flagged and batched products equal cpu", async () => {
    const grads = (x: tf.Tensor, w: tf.Tensor, v: tf.Tensor) =>
      tf.concat(
        tf.grads((x2: tf.Tensor, w2: tf.Tensor, v2: tf.Tensor) =>
          tf.sum(tf.mul(tf.matMul(tf.matMul(x2, w2), v2, false, true), 0.5)),
        )([x, w, v]).map((g) => tf.reshape(g, [-1])),
      );
    const { cpu, wasm } = await onBoth([[3, 6, 8], [8, 4], [3, 5, 4]], grads);
    expectClose(wasm, cpu);
  });

  it("fused matMul with transposes, bias and relu equals cpu", async () => {
    const { cpu, wasm } = await onBoth([[7, 5], [3, 7], [3]], (a, b, bias) =>
      tf.fused.matMul({ a, b, transposeA: true, transposeB: true, bias, activation: "relu" }),
    );
    expectClose(wasm, cpu);
    expect(cpu.some((v) => v === 0) && cpu.some((v) => v > 0)).toBe(true); // relu really clipped something
  });
});

describe("wasm UnsortedSegmentSum", () => {
  it("sums rows into segments and drops out-of-range ids (hand-computed)", async () => {
    await useBackend("wasm");
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);
    const out = tf.unsortedSegmentSum(x, tf.tensor1d([2, 0, 2, 5], "int32"), 3);
    expect(out.shape).toEqual([3, 2]);
    expect(Array.from(await out.data())).toEqual([3, 4, 0, 0, 6, 8]);
  });

  it("makes the embedding (gather) gradient work, equal to cpu", async () => {
    const indices = [0, 2, 0, 5, 5, 5, 1];
    const { cpu, wasm } = await onBoth([[6, 4], [7, 4]], (table, upstream) =>
      tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, tf.tensor1d(indices, "int32")), upstream)))(table),
    );
    expectClose(wasm, cpu);
    // Row 3 and 4 are never looked up: zero gradient; row 5 three times.
    expect(Array.from(wasm.slice(12, 20))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });
});
