/**
 * The native kernels' buffer pool (lib/native/pool.ts): a training step's buffers come back from
 * the pool on the next step (no fresh allocations after warm-up, live tensors flat), the pool holds
 * more than the old fixed 256 MB, dropout's buffers are pooled too, drops lengths left idle, drops its least recently used buffers past its cap, and empties
 * when the machine runs short of memory. Skips (printing why) when the addon is not built, unless
 * COURSE_REQUIRE_NATIVE=1.
 */
import { afterEach, describe, expect, it } from "vitest";
import { totalmem } from "node:os";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../lib/engine/index.js";
import { seededDropout } from "../lib/engine/random-kernels.js";
import { GPT } from "../lib/models/gpt/index.js";
import { nativeStatus } from "../lib/native/index.js";
import { pooledBytes, poolStats, releasePooledBuffers, resetPoolStats, setPoolLimits } from "../lib/native/pool.js";
import { Trainer } from "../lib/train/index.js";
import { Rng } from "../lib/util/random.js";

await useBackend("cpu");
const status = nativeStatus();
if (!status.loaded) console.warn(`native pool tests skipped: ${status.reason}`);
const describeNative = status.loaded || process.env.COURSE_REQUIRE_NATIVE === "1" ? describe : describe.skip;

const MiB = 1024 * 1024;

/** `count` native outputs of `floats` elements each, alive at once. */
function outputs(count: number, floats: number, base: tf.Tensor): tf.Tensor[] {
  return Array.from({ length: count }, (_, i) => tf.add(base, i));
}

describeNative("native buffer pool", () => {
  afterEach(() => {
    setPoolLimits();
    releasePooledBuffers();
  });

  it("a training step's buffers come back from the pool: no fresh ones after warm-up, live tensors flat", async () => {
    const config = { vocabSize: 65, blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 64, dropout: 0, bias: false };
    const model = new GPT(config, { seed: 1 });
    const rng = new Rng(3);
    const tokens = Uint16Array.from({ length: 5000 }, () => rng.randint(0, config.vocabSize));
    const trainer = new Trainer(model, { train: tokens, val: tokens }, { batchSize: 8, maxIters: 100, warmupIters: 0 });
    await trainer.step();
    await trainer.step();
    resetPoolStats();
    const live: number[] = [];
    for (let i = 0; i < 4; i++) {
      await trainer.step();
      live.push(tf.memory().numTensors);
    }
    const stats = poolStats();
    expect(stats.hits).toBeGreaterThan(100); // pooled outputs every step (a step makes hundreds)
    expect(stats.misses).toBe(0);
    expect(new Set(live).size).toBe(1);
    trainer.dispose();
    model.dispose();
  });

  it("dropout takes its output from the pool and leaves its input reusable", () => {
    const base = tf.zeros([64 * 1024]);
    const round = () => tf.dispose(tf.tidy(() => seededDropout(tf.add(base, 1), 0.2, 7)));
    round();
    resetPoolStats();
    for (let i = 0; i < 3; i++) round();
    expect(poolStats().misses).toBe(0);
    expect(poolStats().hits).toBe(6); // the add's output and the dropout's, every round
    base.dispose();
  });

  it("keeps more than the old 256 MB cap: a second round of 320 MB of outputs allocates nothing", () => {
    expect(poolStats().capBytes).toBe(Math.floor(totalmem() / 4));
    setPoolLimits({ freeMemory: () => Number.POSITIVE_INFINITY }); // whatever else runs on this machine
    const floats = 8 * MiB; // 32 MB each
    const base = tf.zeros([floats]);
    tf.dispose(outputs(10, floats, base));
    expect(pooledBytes()).toBeGreaterThanOrEqual(10 * 4 * floats);
    resetPoolStats();
    tf.dispose(outputs(10, floats, base));
    expect(poolStats().misses).toBe(0);
    expect(poolStats().hits).toBe(10);
    base.dispose();
  });

  it("past its cap the pool drops the least recently used lengths first", () => {
    const [small, large] = [MiB / 4, MiB / 2]; // 1 MB and 2 MB buffers
    setPoolLimits({ capBytes: 8 * MiB, freeMemory: () => Number.POSITIVE_INFINITY });
    const a = tf.zeros([small]);
    const b = tf.zeros([large]);
    tf.dispose(outputs(4, small, a)); // 4 MB of 1 MB buffers
    tf.dispose(outputs(2, large, b)); // + 4 MB of 2 MB buffers: full
    resetPoolStats();
    tf.dispose(outputs(1, large, b)); // takes one 2 MB buffer and gives it back: the 2 MB length is the most recent
    expect(pooledBytes()).toBe(8 * MiB);
    const c = tf.zeros([MiB]);
    tf.dispose(outputs(1, MiB, c)); // a fresh 4 MB buffer: room is made from the 1 MB buffers
    expect(pooledBytes()).toBe(8 * MiB);
    expect(poolStats().releasedBytes).toBe(4 * MiB);
    resetPoolStats();
    tf.dispose(outputs(2, large, b));
    expect(poolStats().hits).toBe(2); // both 2 MB buffers are still there
    tf.dispose(outputs(1, small, a));
    expect(poolStats().misses).toBe(1); // the 1 MB ones are gone
    tf.dispose([a, b, c]);
  });

  it("drops lengths nobody asked for in a while (a growing KV cache's), keeping the ones in use", () => {
    setPoolLimits({ idleAllocations: 8, freeMemory: () => Number.POSITIVE_INFINITY });
    const inUse = tf.zeros([4096]);
    // Ten lengths seen once each, as a cache growing by one position per token makes them;
    // the length in use is asked for again and again in between.
    for (let n = 1; n <= 10; n++) {
      tf.dispose(tf.tidy(() => tf.add(tf.zeros([2048 + n]), 1)));
      tf.dispose(tf.add(inUse, 1));
    }
    const stats = poolStats();
    expect(stats.releasedBytes).toBeGreaterThan(0); // the oldest once-seen lengths are gone
    expect(pooledBytes()).toBeLessThan(10 * 4 * 2048); // not all ten are kept
    resetPoolStats();
    tf.dispose(tf.add(inUse, 1));
    expect(poolStats().hits).toBe(1); // the length in use is still there
    inUse.dispose();
  });

  it("empties when the machine is short of memory, and on releasePooledBuffers()", () => {
    const floats = 8 * MiB;
    const base = tf.zeros([floats]);
    tf.dispose(outputs(3, floats, base));
    expect(pooledBytes()).toBe(3 * 4 * floats);
    releasePooledBuffers();
    expect(pooledBytes()).toBe(0);
    let free = 64 * 1024 * MiB;
    setPoolLimits({ minFreeBytes: 1024 * MiB, freeMemory: () => free });
    tf.dispose(outputs(3, floats, base));
    expect(pooledBytes()).toBe(3 * 4 * floats); // plenty free: kept
    free = 512 * MiB;
    resetPoolStats();
    tf.dispose(outputs(3, floats, base)); // the pressure check (every 64 MB pooled) sees little free memory
    expect(pooledBytes()).toBeLessThan(3 * 4 * floats);
    expect(poolStats().releasedBytes).toBeGreaterThan(0);
    base.dispose();
  });
});
