// The engine's API: choosing backends (explicit, COURSE_BACKEND, auto), what it reports, its
// errors, autodiff being available, hand-computed results on every backend, and that
// shutdownEngine lets Node exit.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { afterAll, describe, expect, it } from "vitest";
import {
  BackendUnavailable,
  describeEngine,
  engineInfo,
  shutdownEngine,
  tf,
  useBackend,
  type BackendName,
} from "../lib/engine/index.js";

const installed = (name: string) => {
  try {
    createRequire(process.cwd() + "/").resolve(name);
    return true;
  } catch {
    return false;
  }
};
const tfjsNodeInstalled = installed("@tensorflow/tfjs-node") || installed("@tensorflow/tfjs-node-gpu");

const webgpuRequired = process.env.COURSE_REQUIRE_WEBGPU === "1";
const webgpuProbe = await useBackend("webgpu", { allowSoftware: true }).then(
  () => "",
  (error: unknown) => (error instanceof BackendUnavailable ? error.reason : String(error)),
);
if (webgpuProbe && !webgpuRequired) console.warn(`SKIPPING WebGPU checks in engine.test.ts: ${webgpuProbe}`);
const backends: BackendName[] = webgpuProbe ? ["cpu", "wasm"] : ["cpu", "wasm", "webgpu"];

afterAll(async () => {
  await shutdownEngine();
});

describe("useBackend", () => {
  it("sets the cpu backend and describes it", async () => {
    const info = await useBackend("cpu");
    expect(info.backend).toBe("cpu");
    expect(info.gpu).toBe(false);
    expect(tf.getBackend()).toBe("cpu");
    expect(typeof info.native).toBe("boolean");
    expect(info.notes.join(" ")).toMatch(info.native ? /native C kernels for \d+ ops: .*BatchMatMul/ : /JavaScript kernels only/);
    expect(describeEngine()).toMatch(/^cpu on .+core/);
    expect(engineInfo()).toBe(info);
  });

  it("is idempotent: the same choice again returns the same info without redoing the work", async () => {
    const first = await useBackend("wasm");
    const started = performance.now();
    const second = await useBackend("wasm");
    expect(second).toBe(first);
    expect(performance.now() - started).toBeLessThan(50);
    expect(tf.getBackend()).toBe("wasm");
    expect(first.device).toMatch(/WebAssembly SIMD, 1 thread/);
  });

  it("follows COURSE_BACKEND when no choice is given, and rejects a bad one", async () => {
    const saved = process.env.COURSE_BACKEND;
    try {
      process.env.COURSE_BACKEND = "cpu";
      expect((await useBackend()).backend).toBe("cpu");
      process.env.COURSE_BACKEND = "wasm";
      expect((await useBackend()).backend).toBe("wasm");
      process.env.COURSE_BACKEND = "tpu";
      await expect(useBackend()).rejects.toThrow(/COURSE_BACKEND must be one of tensorflow, webgpu, wasm, cpu, auto; got "tpu"/);
    } finally {
      if (saved === undefined) delete process.env.COURSE_BACKEND;
      else process.env.COURSE_BACKEND = saved;
    }
  });

  it("rejects an unknown choice", async () => {
    await expect(useBackend("gpu" as never)).rejects.toThrow(/unknown backend "gpu"/);
  });

  it.runIf(!tfjsNodeInstalled)("explains how to get the tensorflow backend when tfjs-node is missing", async () => {
    const attempt = useBackend("tensorflow");
    await expect(attempt).rejects.toBeInstanceOf(BackendUnavailable);
    await expect(attempt).rejects.toThrow(/@tensorflow\/tfjs-node is not installed.*npm run gpu:install.*npm run tf:install/);
  });

  it("refuses a software WebGPU adapter unless allowed", async () => {
    const attempt = useBackend("webgpu", { allowSoftware: false });
    const error = await attempt.then(() => undefined, (e: unknown) => e);
    const info = engineInfo();
    if (error === undefined) {
      expect(info?.adapter?.software).toBe(false); // a real GPU is fine
    } else {
      expect(error).toBeInstanceOf(BackendUnavailable);
      expect((error as BackendUnavailable).reason).toMatch(/software adapter.*allowSoftware|no WebGPU adapter|could not list adapters|failed to load/);
    }
  });

  it("auto picks a working backend and says why it passed over the others", async () => {
    const info = await useBackend("auto");
    expect(["tensorflow", "webgpu", "wasm", "cpu"]).toContain(info.backend);
    expect(tf.getBackend()).toBe(info.backend);
    if (!tfjsNodeInstalled) expect(info.notes.join("\n")).toMatch(/auto: skipped tensorflow: .*not installed/);
    if (info.backend === "webgpu") expect(info.adapter?.software).toBe(false);
    expect(info.gpu).toBe(info.backend === "webgpu" || (info.backend === "tensorflow" && /CUDA GPU/.test(info.device)));
    if (info.backend === "wasm") expect(info.notes.join("\n")).toMatch(/native cpu kernels not loaded/);
    const result = await tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).data();
    expect(Array.from(result)).toEqual([11]);
  });

  it.runIf(!webgpuProbe)("WebGPU reports its adapter and explains synchronous reads", async () => {
    const info = await useBackend("webgpu", { allowSoftware: true });
    expect(info.adapter?.description.length).toBeGreaterThan(0);
    expect(info.device).toContain(info.adapter!.description);
    expect(info.gpu).toBe(!info.adapter!.software);
    const product = tf.matMul(tf.ones([2, 2]), tf.ones([2, 2]));
    expect(() => product.dataSync()).toThrow(/await tensor.data\(\)/);
    expect(Array.from(await product.data())).toEqual([2, 2, 2, 2]);
  });

  it.runIf(webgpuRequired)("WebGPU is available (COURSE_REQUIRE_WEBGPU=1)", () => {
    expect(webgpuProbe).toBe("");
  });
});

describe("autodiff and hand-computed results on every backend", () => {
  for (const backend of backends) {
    it(`${backend}: matMul, softmax, logSoftmax, moments and cross-entropy`, async () => {
      await useBackend(backend, { allowSoftware: true });
      const read = async (t: tf.Tensor) => Array.from(await t.data());
      expect(await read(tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]])))).toEqual([19, 22, 43, 50]);
      const softmax = await read(tf.softmax(tf.tensor1d([1, 2, 3])));
      // e^k / (e + e^2 + e^3)
      [0.09003057, 0.24472847, 0.66524096].forEach((p, i) => expect(softmax[i]).toBeCloseTo(p, 6));
      const logSoftmax = await read(tf.logSoftmax(tf.tensor1d([0, Math.log(3)])));
      expect(logSoftmax[0]).toBeCloseTo(Math.log(1 / 4), 5);
      expect(logSoftmax[1]).toBeCloseTo(Math.log(3 / 4), 5);
      const { mean, variance } = tf.moments(tf.tensor1d([1, 2, 3, 4]));
      expect((await read(mean))[0]).toBeCloseTo(2.5, 6);
      expect((await read(variance))[0]).toBeCloseTo(1.25, 6);
      // Uniform logits over 5 classes: cross-entropy is ln 5 whatever the targets.
      const ce = tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(tf.zeros([3, 5])), tf.oneHot(tf.tensor1d([0, 4, 2], "int32"), 5)), -1)));
      expect((await read(ce))[0]).toBeCloseTo(Math.log(5), 5);
    });

    it(`${backend}: gradients, including gather with repeated indices and broadcast matMul`, async () => {
      await useBackend(backend, { allowSoftware: true });
      const read = async (t: tf.Tensor) => Array.from(await t.data());
      expect(await read(tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.tensor1d([1, -2, 3])))).toEqual([2, -4, 6]);
      // d/dE sum(gather(E, [0, 2, 0])): row 0 is used twice, row 1 never.
      const embeddingGrad = tf.grad((e: tf.Tensor) => tf.sum(tf.gather(e, tf.tensor1d([0, 2, 0], "int32"))))(tf.ones([3, 2]));
      expect(await read(embeddingGrad)).toEqual([2, 2, 0, 0, 1, 1]);
      // x[2,1,2]·W[2,1]: tfjs's own gradient would have the batch shape [2,2,1]; the engine sums it.
      const x = tf.tensor3d([[[1, 2]], [[3, 4]]]);
      const dW = tf.grad((w: tf.Tensor) => tf.sum(tf.matMul(x, w)))(tf.tensor2d([[1], [1]]));
      expect(dW.shape).toEqual([2, 1]);
      expect(await read(dW)).toEqual([4, 6]);
      // d/dx (x - y)^2 with y broadcast, summed back to y's shape.
      const dy = tf.grad((y: tf.Tensor) => tf.sum(tf.squaredDifference(tf.tensor2d([[1, 2], [3, 4]]), y)))(tf.tensor1d([0, 0]));
      expect(await read(dy)).toEqual([-8, -12]);
    });
  }
});

describe("shutdownEngine", () => {
  it("lets a Node process that used the engine exit", () => {
    const choice = webgpuProbe ? "wasm" : "webgpu";
    const script = `
      const { tf, useBackend, shutdownEngine, engineInfo } = await import(${JSON.stringify(process.cwd() + "/lib/engine/index.ts")});
      const info = await useBackend(${JSON.stringify(choice)}, { allowSoftware: true });
      const sum = await tf.sum(tf.matMul(tf.ones([4, 4]), tf.ones([4, 4]))).data();
      await shutdownEngine();
      const cpu = await useBackend("cpu");
      console.log(JSON.stringify({ backend: info.backend, sum: sum[0], native: cpu.native, notes: cpu.notes }));
      await shutdownEngine();
    `;
    const started = Date.now();
    const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, COURSE_NATIVE: "0" },
    });
    const seconds = (Date.now() - started) / 1000;
    expect(child.signal, `killed after ${seconds} s: ${child.stderr}`).toBeNull();
    expect(child.status, child.stderr).toBe(0);
    const lastLine = child.stdout.trim().split("\n").pop()!;
    expect(JSON.parse(lastLine)).toEqual({
      backend: choice,
      sum: 64,
      native: false,
      notes: ["cpu: JavaScript kernels only (native: disabled by COURSE_NATIVE=0)"],
    });
  });

  it("forgets the backend, and useBackend works again afterwards", async () => {
    await useBackend("cpu");
    await shutdownEngine();
    expect(engineInfo()).toBeUndefined();
    expect(describeEngine()).toMatch(/no backend chosen yet/);
    expect((await useBackend("cpu")).backend).toBe("cpu");
  });
});
