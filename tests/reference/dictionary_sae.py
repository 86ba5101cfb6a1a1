"""SAELens's forward pass in PyTorch over a SAELens-layout folder (cfg.json + sae_weights.safetensors):
reads the folder and an input matrix (JSON on stdin: {"dir", "x"}), writes {"acts", "recon"} as JSON.
Written from SAELens's definitions: pre = (x − b_dec·apply_b_dec_to_input) W_enc + b_enc; standard: ReLU;
topk: the k largest of ReLU(pre) per row; jumprelu: ReLU(pre)·(pre > threshold); x̂ = acts W_dec + b_dec."""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import read_safetensors  # noqa: E402

p = json.load(sys.stdin)
cfg = json.load(open(os.path.join(p["dir"], "cfg.json")))
w, _ = read_safetensors(os.path.join(p["dir"], "sae_weights.safetensors"))
x = torch.tensor(p["x"], dtype=torch.float64)
W_enc, b_enc, W_dec, b_dec = (w[n].double() for n in ("W_enc", "b_enc", "W_dec", "b_dec"))
pre = (x - b_dec * float(cfg.get("apply_b_dec_to_input", True))) @ W_enc + b_enc
arch = cfg.get("architecture", "standard")
if arch == "standard":
    acts = torch.relu(pre)
elif arch == "topk":
    k = cfg["activation_fn_kwargs"]["k"]
    top = torch.topk(pre, k, dim=-1)
    acts = torch.zeros_like(pre).scatter(-1, top.indices, torch.relu(top.values))
elif arch == "jumprelu":
    acts = torch.relu(pre) * (pre > w["threshold"].double())
else:
    raise SystemExit(f"unknown architecture {arch}")
recon = acts @ W_dec + b_dec
json.dump({"acts": acts.tolist(), "recon": recon.tolist()}, sys.stdout)
