"""GPT-2 sampling speed in PyTorch, the reference for bench/gpt2.ts: the 124M shape (random weights),
one sequence, top-k 50 sampling, with a key/value cache of its own and without one.

A GPT-2 written out here (pre-LN blocks, tanh GELU, biases, LM head tied to the token embedding);
its cache keeps each layer's keys and values and appends the new token's with torch.cat, so a step
after the prompt feeds one token; without the cache every step runs the whole sequence. Float32,
torch.no_grad(), --threads threads.

Usage: /usr/bin/python3 bench/torch_gpt2_sample.py [--contexts 64,512] [--tokens N] [--uncached-tokens N] [--threads N]
Prints one JSON line: {"runs": [{"context", "cache", "tokens", "prefillMs", "tokensPerS", "cpuMsPerToken"}], "note"}.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, BLOCK, LAYERS, HEADS, WIDTH = 50257, 1024, 12, 12, 768


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(WIDTH)
        self.c_attn = nn.Linear(WIDTH, 3 * WIDTH)
        self.c_proj = nn.Linear(WIDTH, WIDTH)
        self.ln_2 = nn.LayerNorm(WIDTH)
        self.c_fc = nn.Linear(WIDTH, 4 * WIDTH)
        self.mlp_proj = nn.Linear(4 * WIDTH, WIDTH)

    def attn(self, x, cache):
        B, T, C = x.size()
        heads = lambda t: t.view(B, T, HEADS, C // HEADS).transpose(1, 2)  # (B, nh, T, hs)
        q, k, v = (heads(t) for t in self.c_attn(x).split(C, dim=2))
        if cache is not None:
            if "k" in cache:
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        past = k.size(2) - T
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        if T > 1:  # query i (position past + i) sees keys 0 .. past + i
            allowed = torch.ones(T, past + T, dtype=torch.bool).tril(past)
            att = att.masked_fill(~allowed, float("-inf"))
        y = F.softmax(att, dim=-1) @ v
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))

    def forward(self, x, cache):
        x = x + self.attn(self.ln_1(x), cache)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT2(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, WIDTH)
        self.wpe = nn.Embedding(BLOCK, WIDTH)
        self.h = nn.ModuleList([Block() for _ in range(LAYERS)])
        self.ln_f = nn.LayerNorm(WIDTH)
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, mean=0.0, std=0.02)

    def forward(self, idx, caches=None):
        """Logits of the last position, (B, vocab); with caches (one dict per layer) idx holds only the new tokens."""
        B, T = idx.size()
        past = caches[0]["k"].size(2) if caches is not None and "k" in caches[0] else 0
        x = self.wte(idx) + self.wpe(torch.arange(past, past + T))
        for i, block in enumerate(self.h):
            x = block(x, caches[i] if caches is not None else None)
        return self.ln_f(x[:, -1, :]) @ self.wte.weight.t()  # tied LM head


def sample_top_k(logits, k=50):
    kth = torch.topk(logits, k).values[:, [-1]]
    probs = F.softmax(logits.masked_fill(logits < kth, float("-inf")), dim=-1)
    return torch.multinomial(probs, 1)


def timed_run(model, context, tokens, use_cache):
    idx = torch.randint(0, VOCAB, (1, context))
    caches = [dict() for _ in model.h] if use_cache else None
    feed = idx
    stamps = []
    start, cpu_start = time.perf_counter(), time.process_time()
    cpu_first = cpu_start
    for i in range(tokens):
        nxt = sample_top_k(model(feed, caches))
        idx = torch.cat([idx, nxt], dim=1)
        feed = nxt if use_cache else idx
        nxt.item()
        stamps.append(time.perf_counter())
        if i == 0:
            cpu_first = time.process_time()
    steps = tokens - 1  # the first token pays for the prompt; the rest are the steady state
    return {"context": context, "cache": use_cache, "tokens": tokens, "prefillMs": (stamps[0] - start) * 1000,
            "tokensPerS": steps / (stamps[-1] - stamps[0]), "cpuMsPerToken": (time.process_time() - cpu_first) * 1000 / steps}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--contexts", default="64,512")
    parser.add_argument("--tokens", type=int, default=12)
    parser.add_argument("--uncached-tokens", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.manual_seed(1337)
    torch.set_num_threads(args.threads)
    model = GPT2().eval()
    runs = []
    with torch.no_grad():
        timed_run(model, 8, 2, True)  # warm-up
        for context in (int(c) for c in args.contexts.split(",")):
            for use_cache in (True, False):
                runs.append(timed_run(model, context, args.tokens if use_cache else args.uncached_tokens, use_cache))
    print(json.dumps({"runs": runs, "note": f"torch {torch.__version__}, {torch.get_num_threads()} threads"}))


if __name__ == "__main__":
    main()
