"""PyTorch (float64) references for the fine-tuning losses, to check lib/finetune/losses.ts against.

    echo '{...}' | /usr/bin/python3 finetune_losses.py

IN (JSON on stdin): "logits" (N, V), "targets" (N), "mask" (N, 0/1); "chosen", "rejected" (B)
rewards; "dpo": {"pc", "pr", "rc", "rr" (B), "beta"}. OUT (JSON): each loss and its gradient with
respect to its inputs: masked cross-entropy through F.cross_entropy(ignore_index=-100), the
Bradley-Terry loss -logsigmoid(chosen - rejected).mean(), and DPO's
-logsigmoid(beta * ((pc - rc) - (pr - rr))).mean() (gradients with respect to pc and pr).
"""
import json
import sys

import torch
import torch.nn.functional as F


def leaf(values):
    return torch.tensor(values, dtype=torch.float64, requires_grad=True)


def main():
    c = json.load(sys.stdin)
    out = {}

    logits = leaf(c["logits"])
    targets = torch.tensor(c["targets"])
    targets = torch.where(torch.tensor(c["mask"]) > 0, targets, torch.full_like(targets, -100))
    ce = F.cross_entropy(logits, targets, ignore_index=-100)
    ce.backward()
    out["ce"] = {"loss": ce.item(), "grad": logits.grad.tolist()}

    chosen, rejected = leaf(c["chosen"]), leaf(c["rejected"])
    bt = -F.logsigmoid(chosen - rejected).mean()
    bt.backward()
    out["bt"] = {"loss": bt.item(), "chosen": chosen.grad.tolist(), "rejected": rejected.grad.tolist()}

    d = c["dpo"]
    pc, pr = leaf(d["pc"]), leaf(d["pr"])
    rc, rr = torch.tensor(d["rc"], dtype=torch.float64), torch.tensor(d["rr"], dtype=torch.float64)
    dpo = -F.logsigmoid(d["beta"] * ((pc - rc) - (pr - rr))).mean()
    dpo.backward()
    out["dpo"] = {"loss": dpo.item(), "pc": pc.grad.tolist(), "pr": pr.grad.tolist()}

    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
