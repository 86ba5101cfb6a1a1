"""torch.optim.AdamW + nanoGPT's learning-rate schedule + clip_grad_norm_, to check ours against.

    /usr/bin/python3 adamw_reference.py IN OUT

IN (safetensors): "p.<name>" initial parameters, "a.<name>" and "b.<step>.<name>" defining the
gradient at each step as g = a * p + b[step] (so it depends on the parameters, and errors would
compound); metadata "config" (JSON: steps, learningRate, minLr, warmupIters, lrDecayIters, beta1,
beta2, eps, weightDecay, gradClip). Parameters with 2 or more dimensions get weight decay, as
nanoGPT's configure_optimizers. OUT: "p.<name>" after all steps, "norms" (global gradient norm
before clipping, per step) and "lrs" (the learning rate used at each step), float32.
"""
import json
import math
import sys

import torch

from safetensors_io import read_safetensors, write_safetensors


def get_lr(it, c):
    # nanoGPT train.py
    if it < c["warmupIters"]:
        return c["learningRate"] * (it + 1) / (c["warmupIters"] + 1)
    if it > c["lrDecayIters"]:
        return c["minLr"]
    decay_ratio = (it - c["warmupIters"]) / (c["lrDecayIters"] - c["warmupIters"])
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
    return c["minLr"] + coeff * (c["learningRate"] - c["minLr"])


def main(in_path, out_path):
    tensors, metadata = read_safetensors(in_path)
    c = json.loads(metadata["config"])
    names = [k[2:] for k in tensors if k.startswith("p.")]
    params = {n: torch.nn.Parameter(tensors["p." + n].clone()) for n in names}
    decay = [p for p in params.values() if p.dim() >= 2]
    no_decay = [p for p in params.values() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": c["weightDecay"]}, {"params": no_decay, "weight_decay": 0.0}],
        lr=c["learningRate"], betas=(c["beta1"], c["beta2"]), eps=c["eps"])
    norms, lrs = [], []
    for step in range(c["steps"]):
        lr = get_lr(step, c)
        for group in optimizer.param_groups:
            group["lr"] = lr
        for n, p in params.items():
            p.grad = tensors["a." + n] * p.detach() + tensors["b.%d.%s" % (step, n)]
        norms.append(float(torch.nn.utils.clip_grad_norm_(list(params.values()), c["gradClip"])))
        lrs.append(lr)
        optimizer.step()
    out = {"p." + n: p.detach() for n, p in params.items()}
    out["norms"] = torch.tensor(norms, dtype=torch.float32)
    out["lrs"] = torch.tensor(lrs, dtype=torch.float32)
    write_safetensors(out_path, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
