"""HellaSwag scores computed the way build-nanogpt's hellaswag.py does, in PyTorch (float64), to check ours.

    /usr/bin/python3 hellaswag_reference.py WEIGHTS EXAMPLES OUT

WEIGHTS: a safetensors file written by our saveGPT. EXAMPLES: JSON list of
{"ctx_tokens": [...], "ending_tokens": [[...], [...], [...], [...]], "label": n}. OUT gets JSON:
{"sum_loss": [[4 floats] per example], "avg_loss": [...], "pred": [...], "pred_norm": [...],
"acc": float, "acc_norm": float}.
"""
import json
import sys

import torch
import torch.nn.functional as F

from gpt_reference import load_gpt


def score(model, ctx, endings):
    rows = [ctx + e for e in endings]
    masks = [[0] * len(ctx) + [1] * len(e) for e in endings]
    width = max(len(r) for r in rows)
    tokens = torch.zeros((len(rows), width), dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (r, m) in enumerate(zip(rows, masks)):
        tokens[i, : len(r)] = torch.tensor(r)
        mask[i, : len(m)] = torch.tensor(m)
    logits, _ = model(tokens, tokens)
    # position t predicts token t + 1: score the targets whose mask is 1
    losses = F.cross_entropy(logits[:, :-1, :].reshape(-1, logits.size(-1)), tokens[:, 1:].reshape(-1), reduction="none")
    losses = losses.view(len(rows), -1) * mask[:, 1:]
    total = losses.sum(dim=1)
    mean = total / mask[:, 1:].sum(dim=1)
    return total, mean


def main(weights_path, examples_path, out_path):
    model = load_gpt(weights_path)
    model.eval()
    examples = json.load(open(examples_path))
    out = {"sum_loss": [], "avg_loss": [], "pred": [], "pred_norm": []}
    with torch.no_grad():
        for ex in examples:
            total, mean = score(model, ex["ctx_tokens"], ex["ending_tokens"])
            out["sum_loss"].append(total.tolist())
            out["avg_loss"].append(mean.tolist())
            out["pred"].append(int(total.argmin()))
            out["pred_norm"].append(int(mean.argmin()))
    labels = [ex["label"] for ex in examples]
    out["acc"] = sum(p == l for p, l in zip(out["pred"], labels)) / len(labels)
    out["acc_norm"] = sum(p == l for p, l in zip(out["pred_norm"], labels)) / len(labels)
    json.dump(out, open(out_path, "w"))


if __name__ == "__main__":
    main(*sys.argv[1:4])
