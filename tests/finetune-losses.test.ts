// Fine-tuning losses against PyTorch (float64, tests/reference/finetune_losses.py): masked
// cross-entropy, Bradley–Terry and DPO, each loss and gradient within 1e-6; masked rows get exactly
// zero gradient; RLOO advantages, the KL estimator and the adaptive coefficient against values
// worked out by hand.
import { spawnSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { tf, useBackend } from "../lib/engine/index.js";
import { AdaptiveKL, bradleyTerryLoss, dpoLoss, maskedCrossEntropy, rlooAdvantages, sequenceKL } from "../lib/finetune/index.js";
import { Rng } from "../lib/util/random.js";

const PYTHON = "/usr/bin/python3";
const hasTorch = spawnSync(PYTHON, ["-c", "import torch"]).status === 0;
if (!hasTorch) console.warn(`SKIPPING PyTorch fine-tuning loss tests: ${PYTHON} cannot import torch (apt-get install python3-torch)`);

const rng = new Rng(13);
const draw = (n: number, scale = 3) => Array.from({ length: n }, () => Math.fround((rng.random() * 2 - 1) * scale));
const N = 7;
const V = 6;
const logits = Array.from({ length: N }, () => draw(V));
const targets = Array.from({ length: N }, () => rng.randint(0, V));
const mask = [1, 0, 1, 1, 0, 0, 1];
const chosen = draw(5);
const rejected = draw(5);
const dpo = { pc: draw(4, 20), pr: draw(4, 20), rc: draw(4, 20), rr: draw(4, 20), beta: 0.1 };

function expectClose(actual: ArrayLike<number>, expected: number[], tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(Math.abs(actual[i] - e), `index ${i}: ${actual[i]} vs ${e}`).toBeLessThan(tol));
}

beforeAll(async () => {
  await useBackend("cpu");
});

describe("against PyTorch", () => {
  let ref: any;
  beforeAll(() => {
    if (!hasTorch) return;
    const input = JSON.stringify({ logits: logits, targets: targets, mask: mask, chosen: chosen, rejected: rejected, dpo: dpo });
    const ran = spawnSync(PYTHON, ["tests/reference/finetune_losses.py"], { input: input, encoding: "utf8" });
    if (ran.status !== 0) throw new Error(ran.stderr);
    ref = JSON.parse(ran.stdout);
  });

  it.skipIf(!hasTorch)("masked cross-entropy and its gradient equal F.cross_entropy(ignore_index) within 1e-6", () => {
    const t = tf.tensor1d(targets, "int32");
    const m = tf.tensor1d(mask);
    const x = tf.tensor2d(logits);
    const loss = maskedCrossEntropy(x, t, m);
    const grad = tf.grad((l: tf.Tensor) => maskedCrossEntropy(l as tf.Tensor2D, t, m))(x);
    expectClose(loss.dataSync(), [ref.ce.loss]);
    expectClose(grad.dataSync(), ref.ce.grad.flat());
    // The masked rows get exactly zero, not merely small, gradient.
    const rows = grad.arraySync() as number[][];
    mask.forEach((keep, i) => {
      if (!keep) expect(rows[i].every((g) => g === 0)).toBe(true);
      else expect(rows[i].some((g) => g !== 0)).toBe(true);
    });
    tf.dispose([t, m, x, loss, grad]);
  });

  it.skipIf(!hasTorch)("Bradley–Terry loss and gradients equal -logsigmoid(rc - rr).mean() within 1e-6", () => {
    const c = tf.tensor1d(chosen);
    const r = tf.tensor1d(rejected);
    const loss = bradleyTerryLoss(c, r);
    const [gc, gr] = tf.grads((a: tf.Tensor, b: tf.Tensor) => bradleyTerryLoss(a as tf.Tensor1D, b as tf.Tensor1D))([c, r]);
    expectClose(loss.dataSync(), [ref.bt.loss]);
    expectClose(gc.dataSync(), ref.bt.chosen);
    expectClose(gr.dataSync(), ref.bt.rejected);
    tf.dispose([c, r, loss, gc, gr]);
  });

  it.skipIf(!hasTorch)("DPO loss and gradients equal PyTorch within 1e-6", () => {
    const [pc, pr, rc, rr] = [dpo.pc, dpo.pr, dpo.rc, dpo.rr].map((v) => tf.tensor1d(v));
    const f = (a: tf.Tensor, b: tf.Tensor) =>
      dpoLoss({ policyChosen: a as tf.Tensor1D, policyRejected: b as tf.Tensor1D, referenceChosen: rc, referenceRejected: rr }, dpo.beta).loss;
    const loss = f(pc, pr);
    const [gc, gr] = tf.grads(f)([pc, pr]);
    expectClose(loss.dataSync(), [ref.dpo.loss]);
    expectClose(gc.dataSync(), ref.dpo.pc);
    expectClose(gr.dataSync(), ref.dpo.pr);
    tf.dispose([pc, pr, rc, rr, loss, gc, gr]);
  });
});

describe("masked cross-entropy by hand", () => {
  it("ignored targets are left out of the mean's denominator; an empty mask gives 0", () => {
    // Two rows of logits [0, ln 3]: p(1) = 3/4. Only row 0 (target 1) counts: loss = -ln(3/4).
    const x = tf.tensor2d([[0, Math.log(3)], [0, Math.log(3)]]);
    const loss = maskedCrossEntropy(x, tf.tensor1d([1, 0], "int32"), tf.tensor1d([1, 0]));
    expect(loss.dataSync()[0]).toBeCloseTo(-Math.log(3 / 4), 6);
    const none = maskedCrossEntropy(x, tf.tensor1d([1, 0], "int32"), tf.tensor1d([0, 0]));
    expect(none.dataSync()[0]).toBe(0);
    tf.dispose([x, loss, none]);
  });
});

describe("RLOO and the KL leash", () => {
  it("advantages are R_i minus the mean of the other K-1 rewards, K/(K-1)·(R_i - mean)", () => {
    // Group 1: [1, 2, 3, 6], mean 3 → 4/3·[-2, -1, 0, 3]; check against leave-one-out by hand:
    // 1 - (2+3+6)/3 = -8/3, 2 - 10/3 = -4/3, 3 - 3 = 0, 6 - 2 = 4. Group 2: all equal → 0.
    expectClose(rlooAdvantages([1, 2, 3, 6, 5, 5, 5, 5], 4), [-8 / 3, -4 / 3, 0, 4, 0, 0, 0, 0], 1e-12);
    expectClose(rlooAdvantages([0, 1], 2), [-1, 1], 1e-12);
    expect(() => rlooAdvantages([1, 2, 3], 2)).toThrow(/groups of K = 2/);
    expect(() => rlooAdvantages([1], 1)).toThrow(/K must be/);
  });

  it("the per-token log-ratio KL sums log π - log π_ref over response tokens only", () => {
    const policy = [[-1, -0.5, -2, -9], [-0.1, -0.2, -0.3, -0.4]];
    const reference = [[-1.5, -1, -1, -1], [-0.1, -0.4, -0.3, -0.1]];
    const mask = [[0, 1, 1, 0], [1, 1, 1, 1]];
    // Row 0: (-0.5 + 1) + (-2 + 1) = -0.5 (the first and the masked last token do not count);
    // row 1: 0 + 0.2 + 0 - 0.3 = -0.1.
    expectClose(sequenceKL(policy, reference, mask), [-0.5, -0.1], 1e-12);
  });

  it("the adaptive coefficient moves toward the target, at most 20% of the error per horizon", () => {
    const kl = new AdaptiveKL(0.1, 2, 100);
    expect(kl.update(3, 10)).toBeCloseTo(0.1 * (1 + 0.2 * 0.1), 12); // error (3-2)/2 = 0.5, clipped to 0.2
    const down = new AdaptiveKL(0.1, 2, 100);
    expect(down.update(1.8, 50)).toBeCloseTo(0.1 * (1 - 0.1 * 0.5), 12); // error -0.1, 50 of 100 samples
  });
});
