"""The PyTorch side of bench/cpu.ts, one job per process so that each reports its own peak RSS.

  train: nanoGPT's training step (model.py's GPT in training mode: dropout as configured, the
         manual attention path that torch 1.13 takes, loss, backward, clip_grad_norm_(1.0), AdamW
         with decay on 2-D tensors only), on random tokens.
  gpt2:  the 124M GPT-2 of bench/torch_gpt2_sample.py, forward over one sequence of T tokens
         under torch.no_grad(), logits for every position.

Usage: /usr/bin/python3 bench/torch_cpu.py JOB '<json config>' --steps N --warmup N --threads N
Threads: torch.set_num_threads(N); the caller sets OPENBLAS_NUM_THREADS / OMP_* in the environment.
Prints one JSON line: {"ms": [...], "cpuMs": [...], "loss": [...], "faults": [minor faults per step],
"peakRssBytes": VmHWM, "note": "..."}.
"""
import argparse
import json
import math
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (torch 1.13's nn.LayerNorm cannot drop only the bias)."""

    def __init__(self, n, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.bias = nn.Parameter(torch.zeros(n)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class Block(nn.Module):
    """Pre-LN transformer block: x + attn(ln_1(x)), then x + mlp(ln_2(x)), dropout after each projection."""

    def __init__(self, c):
        super().__init__()
        width, self.n_head, self.p = c["nEmbd"], c["nHead"], c["dropout"]
        bias = c["bias"]
        self.ln_1 = LayerNorm(width, bias)
        self.c_attn = nn.Linear(width, 3 * width, bias=bias)
        self.c_proj = nn.Linear(width, width, bias=bias)
        self.ln_2 = LayerNorm(width, bias)
        self.c_fc = nn.Linear(width, 4 * width, bias=bias)
        self.mlp_proj = nn.Linear(4 * width, width, bias=bias)
        t = c["blockSize"]
        self.register_buffer("causal", torch.tril(torch.ones(t, t, dtype=torch.bool)).view(1, 1, t, t))

    def attention(self, x):
        B, T, C = x.shape
        split = lambda t: t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q, k, v = (split(t) for t in self.c_attn(x).split(C, dim=2))
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
        scores = scores.masked_fill(~self.causal[:, :, :T, :T], float("-inf"))
        weights = F.dropout(F.softmax(scores, dim=-1), self.p, self.training)
        y = (weights @ v).transpose(1, 2).contiguous().view(B, T, C)
        return F.dropout(self.c_proj(y), self.p, self.training)

    def forward(self, x):
        x = x + self.attention(self.ln_1(x))
        return x + F.dropout(self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)))), self.p, self.training)


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.wte = nn.Embedding(c["vocabSize"], c["nEmbd"])
        self.wpe = nn.Embedding(c["blockSize"], c["nEmbd"])
        self.h = nn.ModuleList([Block(c) for _ in range(c["nLayer"])])
        self.ln_f = LayerNorm(c["nEmbd"], c["bias"])
        for name, p in self.named_parameters():  # GPT-2's initialisation, as model.py
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * c["nLayer"]) if name.endswith("proj.weight") else 0.02
                nn.init.normal_(p, mean=0.0, std=std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, idx, targets):
        T = idx.size(1)
        x = F.dropout(self.wte(idx) + self.wpe(torch.arange(T)), self.c["dropout"], self.training)
        for block in self.h:
            x = block(x)
        logits = self.ln_f(x) @ self.wte.weight.t()  # LM head tied to the token embedding
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))


def rss_peak():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def timed(steps, warmup, body):
    out = {"ms": [], "cpuMs": [], "loss": [], "faults": []}
    for step in range(warmup + steps):
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        start, cpu = time.perf_counter(), time.process_time()
        loss = body()
        if step >= warmup:
            out["ms"].append((time.perf_counter() - start) * 1000)
            out["cpuMs"].append((time.process_time() - cpu) * 1000)
            out["loss"].append(loss)
            out["faults"].append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults)
    return out


def train_job(c, steps, warmup):
    model = GPT(c["model"]).train()
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.99), eps=1e-8)
    B, T, V = c["batchSize"], c["model"]["blockSize"], c["model"]["vocabSize"]

    def step():
        data = torch.randint(0, V, (B, T + 1))
        loss = model(data[:, :-1], data[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    return timed(steps, warmup, step)


def gpt2_job(c, steps, warmup):
    from torch_gpt2_sample import GPT2  # the same model bench/gpt2.ts samples from

    model = GPT2().eval()
    idx = torch.randint(0, 50257, (1, c["t"]))

    def forward():
        with torch.no_grad():
            x = model.wte(idx) + model.wpe(torch.arange(idx.size(1)))
            for block in model.h:
                x = block(x, None)
            logits = model.ln_f(x) @ model.wte.weight.t()
            return float(logits[0, -1, 0])

    return timed(steps, warmup, forward)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("job", choices=["train", "gpt2"])
    parser.add_argument("config")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.manual_seed(1337)
    torch.set_num_threads(args.threads)
    job = train_job if args.job == "train" else gpt2_job
    out = job(json.loads(args.config), args.steps, args.warmup)
    out["peakRssBytes"] = rss_peak()
    out["threads"] = torch.get_num_threads()
    out["note"] = f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    print(json.dumps(out))


if __name__ == "__main__":
    main()
