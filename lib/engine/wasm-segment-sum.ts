import * as tf from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

/**
 * UnsortedSegmentSum for the wasm backend, which has none: the gradient of gather (an
 * embedding lookup) needs it. out[segmentIds[i], ...] += x[i, ...]; ids outside
 * [0, numSegments) are dropped, as in tfjs's cpu kernel. Plain JavaScript on the wasm heap.
 */
export const unsortedSegmentSum: tf.KernelFunc = (args) => {
  const backend = args.backend as BackendWasm;
  const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = args.attrs as { numSegments: number };
  const rows = tf.util.sizeFromShape(segmentIds.shape);
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const rowSize = tf.util.sizeFromShape(x.shape) / Math.max(rows, 1);
  const out = backend.makeOutput(outShape, x.dtype);
  // Views are taken after makeOutput: allocating may grow the heap and detach older views.
  const outValues = backend.typedArrayFromHeap(out);
  const values = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  outValues.fill(0);
  for (let i = 0; i < rows; i++) {
    const segment = ids[i];
    if (segment < 0 || segment >= numSegments) continue;
    const from = i * rowSize;
    const to = segment * rowSize;
    for (let j = 0; j < rowSize; j++) outValues[to + j] += values[from + j];
  }
  return out;
};
