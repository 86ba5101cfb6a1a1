/**
 * Seeded dropout whose random mask is made where the tensor lives, the same on every backend.
 *
 *   const y = seededDropout(x, 0.2, seed);   // x · scale where kept, 0 where dropped
 *
 * tf.dropout with a seed draws its random numbers one by one in JavaScript (seedrandom's alea)
 * and uploads them: on a GPU that costs far more than the rest of a training step. Here each
 * element's random number is a hash of (seed, element index), a "counter-based" generator: any
 * element can be computed on its own, in parallel, in a few 32-bit integer operations that
 * JavaScript (Math.imul, >>>) and WGSL (u32) do identically. So the mask is bit-identical on
 * cpu, wasm and webgpu, and the backward pass recomputes it instead of storing it.
 *
 * The kernel "CourseDropout" (inputs {x}, attrs {rate, seed}) is registered for cpu, wasm and
 * webgpu; any other backend (tensorflow) gets the same mask made in JavaScript and multiplied in.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { allocFloats, rawEntry, rawValuesOf } from "../native/pool.js";
import { state } from "../native/state.js";
import type { CpuBackend } from "../native/tensors.js";

export const dropoutKernelName = "CourseDropout";

/**
 * Chris Wellons' lowbias32 integer hash (github.com/skeeto/hash-prospector): a bijection on
 * 32-bit integers whose output bits each flip with probability ≈ 1/2 when any input bit flips.
 */
export function lowbias32(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The key that stands for a seed. The constant keeps (seed, index) and (index, seed) apart. */
function seedKey(seed: number): number {
  return lowbias32(seed ^ 0x9e3779b9);
}

/**
 * 32 random bits for element `index` under `seed`: the hashed index, XORed with the seed's key,
 * hashed again. (Keying the raw index, index ^ key, would make two seeds' masks XOR-shifted
 * copies of each other.)
 */
export function randomBits(seed: number, index: number): number {
  return lowbias32(lowbias32(index) ^ seedKey(seed));
}

/** The uniform number in [0, 1) for (seed, index): the top 24 bits, so exact in float32. */
export function randomUniform(seed: number, index: number): number {
  return (randomBits(seed, index) >>> 8) / 0x1000000;
}

/** What every backend computes with: integers and one float32, so none rounds differently. */
export interface DropoutConstants {
  /** seedKey(seed), XORed in before the second hash. */
  key: number;
  /** Keep an element when its top 24 bits are >= threshold, i.e. uniform >= rate. */
  threshold: number;
  /** float32(1 / (1 − rate)): kept elements are multiplied by it (inverted dropout). */
  scale: number;
}

export function dropoutConstants(rate: number, seed: number): DropoutConstants {
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`dropout rate must be in [0, 1), got ${rate}`);
  return { key: seedKey(seed), threshold: Math.ceil(rate * 0x1000000), scale: Math.fround(1 / (1 - rate)) };
}

/** out[i] = keep(i) ? x[i] · scale : 0 for every element of out, in JavaScript. */
function applyMask(x: ArrayLike<number>, out: Float32Array, { key, threshold, scale }: DropoutConstants): void {
  for (let i = 0; i < out.length; i++) {
    out[i] = lowbias32(lowbias32(i) ^ key) >>> 8 >= threshold ? x[i] * scale : 0;
  }
}

/** The mask as numbers (scale where kept, 0 where dropped): what the kernels multiply x by. */
export function dropoutMask(size: number, rate: number, seed: number): Float32Array {
  const mask = new Float32Array(size).fill(1);
  applyMask(mask, mask, dropoutConstants(rate, seed)); // 1 · scale where kept
  return mask;
}

interface DropoutAttrs {
  rate: number;
  seed: number;
}

function checkFloat32(x: tf.TensorInfo): void {
  if (x.dtype !== "float32") throw new TypeError(`seededDropout needs a float32 tensor, got ${x.dtype}`);
}

const cpuDropout: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const { rate, seed } = attrs as unknown as DropoutAttrs;
  checkFloat32(x);
  const cpu = backend as unknown as CpuBackend;
  // A pooled output, and the input read without marking its buffer escaped (lib/native/pool.ts):
  // otherwise every dropout of a training step leaves two large buffers to the garbage collector.
  const out = allocFloats(tf.util.sizeFromShape(x.shape));
  const values = rawValuesOf(rawEntry(cpu, x.dataId)) as ArrayLike<number>;
  const constants = dropoutConstants(rate, seed);
  const native = state();
  if (native.addon && native.enabled && values instanceof Float32Array) {
    native.addon.dropout(values, out, constants.key, constants.threshold, constants.scale); // the same mask, in C++
  } else {
    applyMask(values, out, constants);
  }
  return cpu.makeTensorInfo(x.shape, "float32", out);
};

const wasmDropout: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const wasm = backend as BackendWasm;
  const { x } = inputs as { x: tf.TensorInfo };
  const { rate, seed } = attrs as unknown as DropoutAttrs;
  checkFloat32(x);
  const out = wasm.makeOutput(x.shape, "float32");
  // Views are taken after makeOutput: allocating may grow the heap and detach older views.
  applyMask(wasm.typedArrayFromHeap(x), wasm.typedArrayFromHeap(out) as Float32Array, dropoutConstants(rate, seed));
  return out;
};

/** The slice of tfjs-backend-webgpu's WebGPUBackend this file uses. */
interface WebGpuBackend {
  runWebGPUProgram(
    program: object,
    inputs: tf.TensorInfo[],
    dtype: tf.DataType,
    uniforms: { type: "float32" | "int32" | "uint32"; data: number[] }[],
  ): tf.TensorInfo;
}

/**
 * A tfjs WebGPU program (the shape tfjs-backend-webgpu 4.22 expects: its makeShader adds the
 * buffer `x`, `result`, the uniforms and setOutputAtIndex, and calls main(index) once per
 * element). It runs on the tensor flattened to 1-D, so one shader serves every shape.
 */
class DropoutProgram {
  readonly variableNames = ["x"];
  readonly outputShape: number[];
  readonly shaderKey = "courseDropout";
  readonly dispatchLayout = { x: [0] };
  readonly workgroupSize: [number, number, number] = [256, 1, 1];
  dispatch: [number, number, number];
  readonly size = true;
  readonly uniforms = "key : u32, threshold : u32, scale : f32,";

  constructor(size: number) {
    this.outputShape = [size];
    // Beyond 65535 workgroups tfjs folds the dispatch into 2-D/3-D itself (reshapeDispatch).
    this.dispatch = [Math.ceil(size / this.workgroupSize[0]), 1, 1];
  }

  getUserCode(): string {
    return `
      fn lowbias32(value : u32) -> u32 {
        var h = value;
        h = h ^ (h >> 16u);
        h = h * 0x7feb352du;
        h = h ^ (h >> 15u);
        h = h * 0x846ca68bu;
        h = h ^ (h >> 16u);
        return h;
      }
      fn main(index : i32) {
        if (index < uniforms.size) {
          let bits = lowbias32(lowbias32(u32(index)) ^ uniforms.key) >> 8u;
          setOutputAtIndex(index, select(0.0, x[index] * uniforms.scale, bits >= uniforms.threshold));
        }
      }
    `;
  }
}

const webgpuDropout: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const { rate, seed } = attrs as unknown as DropoutAttrs;
  checkFloat32(x);
  const size = tf.util.sizeFromShape(x.shape);
  const { key, threshold, scale } = dropoutConstants(rate, seed);
  const flat = (backend as unknown as WebGpuBackend).runWebGPUProgram(
    new DropoutProgram(size),
    [{ ...x, shape: [size] }],
    "float32",
    [
      { type: "uint32", data: [key] },
      { type: "uint32", data: [threshold] },
      { type: "float32", data: [scale] },
    ],
  );
  return { ...flat, shape: x.shape };
};

const kernels: Record<string, tf.KernelFunc> = { cpu: cpuDropout, wasm: wasmDropout, webgpu: webgpuDropout };

/**
 * Registers the CourseDropout kernels and their gradient (the same mask applied to dy, so no
 * mask is stored). Idempotent; seededDropout calls it, so calling it yourself is optional.
 */
export function installRandomKernels(): void {
  for (const [backendName, kernelFunc] of Object.entries(kernels)) {
    if (tf.getKernel(dropoutKernelName, backendName) == null) {
      tf.registerKernel({ kernelName: dropoutKernelName, backendName, kernelFunc });
    }
  }
  if (tf.getGradient(dropoutKernelName) == null) {
    tf.registerGradient({
      kernelName: dropoutKernelName,
      gradFunc: (dy, _saved, attrs) => ({
        x: () => tf.engine().runKernel(dropoutKernelName, { x: dy as tf.Tensor }, attrs as unknown as tf.NamedAttrMap),
      }),
    });
  }
}

/**
 * Inverted dropout: each element is kept with probability 1 − rate and then scaled by 1/(1 − rate),
 * or set to 0. The mask depends only on (seed, element index in row-major order): the same seed
 * gives the same mask on every backend. Seeds are taken as unsigned 32-bit integers.
 */
export function seededDropout<T extends tf.Tensor>(x: T, rate: number, seed: number): T {
  dropoutConstants(rate, seed); // validates rate before any kernel runs
  installRandomKernels();
  const attrs = { rate, seed: seed >>> 0 };
  if (tf.getKernel(dropoutKernelName, tf.getBackend()) != null) {
    return tf.engine().runKernel(dropoutKernelName, { x }, attrs) as T;
  }
  // No kernel here (the tensorflow backend): the same mask, made in JavaScript and multiplied in.
  return tf.tidy(() => tf.mul(x, tf.tensor(dropoutMask(x.size, rate, attrs.seed), x.shape)));
}
