"""The SAE training loop of bench/sae.ts in PyTorch: a TopK sparse autoencoder (SAELens's shapes) on
random activations, MSE loss, torch.optim.AdamW, decoder rows renormalised after each step.

Usage: /usr/bin/python3 bench/torch_sae.py --d-in 128 --expansion 16 --k 32 --batch 1024 --steps 20 --threads 2
Prints one JSON line: {"tokensPerSecond", "msPerStep", "torch", "threads"}.
"""
import argparse
import json
import time

import torch

p = argparse.ArgumentParser()
p.add_argument("--d-in", type=int, default=128)
p.add_argument("--expansion", type=int, default=16)
p.add_argument("--k", type=int, default=32)
p.add_argument("--batch", type=int, default=1024)
p.add_argument("--steps", type=int, default=20)
p.add_argument("--warmup", type=int, default=3)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
d_in, d_sae = a.d_in, a.d_in * a.expansion
x_all = torch.randn(a.batch * 4, d_in)
W_dec = torch.nn.Parameter(torch.nn.functional.normalize(torch.randn(d_sae, d_in), dim=1))
W_enc = torch.nn.Parameter(W_dec.detach().t().clone())
b_enc = torch.nn.Parameter(torch.zeros(d_sae))
b_dec = torch.nn.Parameter(x_all.mean(0).clone())
opt = torch.optim.AdamW([W_enc, b_enc, W_dec, b_dec], lr=1e-3, weight_decay=0.0)


def step(x):
    pre = (x - b_dec) @ W_enc + b_enc
    top = torch.topk(torch.relu(pre), a.k, dim=-1)
    acts = torch.zeros_like(pre).scatter(-1, top.indices, top.values)
    loss = ((acts @ W_dec + b_dec - x) ** 2).sum(-1).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    with torch.no_grad():
        W_dec.div_(W_dec.norm(dim=1, keepdim=True))
    return loss.item()


perm = torch.randperm(x_all.shape[0])
for i in range(a.warmup):
    step(x_all[perm[:a.batch]])
start = time.perf_counter()
for i in range(a.steps):
    at = (i % 4) * a.batch
    step(x_all[at:at + a.batch])
elapsed = time.perf_counter() - start
print(json.dumps({"tokensPerSecond": a.batch * a.steps / elapsed, "msPerStep": 1000 * elapsed / a.steps,
                  "torch": torch.__version__, "threads": a.threads}))
