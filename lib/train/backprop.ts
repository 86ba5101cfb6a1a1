/**
 * Reverse-mode gradients that free memory as the backward pass goes, as PyTorch's autograd does.
 *
 *   const { value, grads } = variableGradsFreeing(() => loss(), variables);   // tf.variableGrads' result
 *
 * tf.variableGrads keeps every tensor saved for the backward pass, and every gradient of every
 * intermediate tensor, until the whole backward pass ends: its peak is all the forward
 * activations plus all their gradients. Here each node's saved tensors and its outputs' gradients
 * are disposed as soon as that node's gradient has been computed (no later node can need them:
 * the tape runs in reverse, so every consumer of a tensor comes first), and a gradient summed into
 * another is disposed at once. The tape and the gradient functions are tfjs's own; only the walk
 * is written here. Inside another gradient computation (higher-order gradients) it is
 * tf.variableGrads itself.
 */
import * as tf from "@tensorflow/tfjs-core";

/** The parts of tfjs's engine and tape the walk uses (public at run time, not in the typings). */
interface TapeNode {
  id: number;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
}
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(name: string, f: () => T): T;
}

export function variableGradsFreeing(f: () => tf.Scalar, variables: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const engine = tf.engine() as unknown as EngineInternals;
  if (engine.state.gradientDepth !== 0) return tf.variableGrads(f, variables);
  const y = engine.scopedRun(() => engine.startTape(), () => engine.endTape(), () => engine.tidy("forward", f));
  if (!(y instanceof tf.Tensor) || y.rank !== 0) throw new Error("variableGradsFreeing: f must return a scalar tensor");
  const tape = engine.state.activeTape ?? [];
  const nodes = nodesBetween(tape, variables, y);
  return engine.tidy("backward", () => {
    let gradOf: Map<number, tf.Tensor>;
    try {
      gradOf = walkBack(engine, nodes, y);
    } finally {
      for (const node of tape) for (const t of node.saved ?? []) t.dispose();
      engine.state.activeTape = null;
    }
    const grads: tf.NamedTensorMap = {};
    for (const v of variables) {
      const g = gradOf.get(v.id);
      if (g) grads[v.name] = g;
    }
    return { value: y, grads };
  });
}

/** Gradients by tensor id, after running the nodes' gradient functions from y back to the variables. */
function walkBack(engine: EngineInternals, nodes: TapeNode[], y: tf.Tensor): Map<number, tf.Tensor> {
  const gradOf = new Map<number, tf.Tensor>([[y.id, tf.onesLike(y)]]);
  const inUse = (t: tf.Tensor) => {
    for (const g of gradOf.values()) if (g === t) return true;
    return false;
  };
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (!node.gradient) throw new Error(`Cannot compute gradient: no gradient function for node ${node.id}`);
    const dxs = node.gradient(node.outputs.map((o) => gradOf.get(o.id) ?? null));
    const inputs = Object.entries(node.inputs);
    // One scope for the node's input gradients (a scope per input costs more than small kernels).
    const computed = engine.tidy("dx", () => inputs.map(([name]) => dxs[name]()));
    for (let k = 0; k < inputs.length; k++) {
      const x = inputs[k][1];
      const name = inputs[k][0];
      const dx = computed[k];
      if (dx.dtype !== "float32" || !tf.util.arraysEqual(dx.shape, x.shape)) {
        throw new Error(`gradient of input ${name} is ${dx.dtype} ${dx.shape}, its input is float32 ${x.shape}`);
      }
      const previous = gradOf.get(x.id);
      if (!previous) {
        gradOf.set(x.id, dx);
        continue;
      }
      gradOf.set(x.id, tf.add(previous, dx));
      if (!inUse(previous)) previous.dispose();
      if (!inUse(dx) && dx !== previous) dx.dispose();
    }
    // Every consumer of this node's outputs has run: their gradients and its saved tensors are done with.
    for (const o of node.outputs) {
      const g = gradOf.get(o.id);
      gradOf.delete(o.id);
      if (g && !inUse(g)) g.dispose();
    }
    for (const t of node.saved ?? []) if (!inUse(t)) t.dispose();
  }
  return gradOf;
}

/**
 * The nodes on a path from the variables to y, in tape order, each with only the inputs that
 * depend on a variable (gradients of the other inputs are never needed).
 */
function nodesBetween(tape: TapeNode[], variables: tf.Variable[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(variables.map((v) => v.id));
  const dependsOnX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      dependsOnX.add(node.id);
      for (const o of node.outputs) fromX.add(o.id);
    }
  }
  const toY = new Set<number>([y.id]);
  const leadsToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (!node.outputs.some((o) => toY.has(o.id))) continue;
    leadsToY.add(node.id);
    for (const t of Object.values(node.inputs)) toY.add(t.id);
  }
  return tape
    .filter((node) => dependsOnX.has(node.id) && leadsToY.has(node.id))
    .map((node) => ({ ...node, inputs: Object.fromEntries(Object.entries(node.inputs).filter(([, t]) => fromX.has(t.id))) }));
}
