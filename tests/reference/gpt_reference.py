"""An independent PyTorch GPT (written after nanoGPT's model.py) to check ours against.

    /usr/bin/python3 gpt_reference.py WEIGHTS BATCH OUT

WEIGHTS: a safetensors file written by our saveGPT (nanoGPT state_dict names, PyTorch (out, in)
Linear shapes, the tied lm_head stored once as transformer.wte.weight, config JSON in the
"gpt_config" metadata). BATCH: tensors "x" and "y", (B, T) int32. OUT gets, computed in float64:
"logits" (B, T, V), "loss" (scalar), and "grad.<name>" for every parameter.
"""
import json
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from safetensors_io import read_safetensors, write_safetensors


class LayerNorm(nn.Module):
    def __init__(self, n, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.bias = nn.Parameter(torch.zeros(n)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_attn = nn.Linear(c["nEmbd"], 3 * c["nEmbd"], bias=c["bias"])
        self.c_proj = nn.Linear(c["nEmbd"], c["nEmbd"], bias=c["bias"])
        self.n_head = c["nHead"]
        n = c["blockSize"]
        self.register_buffer("mask", torch.tril(torch.ones(n, n)).view(1, 1, n, n))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        hs = C // self.n_head
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
        att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = nn.Linear(c["nEmbd"], 4 * c["nEmbd"], bias=c["bias"])
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * c["nEmbd"], c["nEmbd"], bias=c["bias"])

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = LayerNorm(c["nEmbd"], c["bias"])
        self.attn = CausalSelfAttention(c)
        # attnOnly (absent in older files): TransformerLens's attn_only, a block without LayerNorm 2 and MLP.
        self.attn_only = c.get("attnOnly", False)
        if not self.attn_only:
            self.ln_2 = LayerNorm(c["nEmbd"], c["bias"])
            self.mlp = MLP(c)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x if self.attn_only else x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(c["vocabSize"], c["nEmbd"]),
            wpe=nn.Embedding(c["blockSize"], c["nEmbd"]),
            h=nn.ModuleList([Block(c) for _ in range(c["nLayer"])]),
            ln_f=LayerNorm(c["nEmbd"], c["bias"]),
        ))
        self.lm_head = nn.Linear(c["nEmbd"], c["vocabSize"], bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # weight tying
        # GPT-2 init, as nanoGPT (the parity test overwrites it with our weights; timings need it).
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                std = 0.02 / math.sqrt(2 * c["nLayer"]) if name.endswith("c_proj.weight") else 0.02
                torch.nn.init.normal_(p, mean=0.0, std=std)
            elif name.endswith(".bias"):
                torch.nn.init.zeros_(p)

    def forward(self, idx, targets):
        B, T = idx.size()
        pos = torch.arange(0, T, dtype=torch.long)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss


def load_gpt(path, dtype=torch.float64):
    """A GPT with the weights of one of our safetensors files, in `dtype`."""
    tensors, metadata = read_safetensors(path)
    config = json.loads(metadata["gpt_config"])
    model = GPT(config).to(dtype)
    state = {name: t.to(dtype) for name, t in tensors.items() if not name.startswith("optimizer.")}
    state["lm_head.weight"] = state["transformer.wte.weight"]
    masks = {k: v for k, v in model.state_dict().items() if k.endswith(".attn.mask")}
    model.load_state_dict({**state, **masks}, strict=True)
    return model


def main(weights_path, batch_path, out_path):
    model = load_gpt(weights_path)
    batch, _ = read_safetensors(batch_path)
    logits, loss = model(batch["x"].long(), batch["y"].long())
    loss.backward()
    out = {"logits": logits, "loss": loss.reshape(())}
    for name, p in model.named_parameters():
        out["grad." + name] = p.grad
    write_safetensors(out_path, out)


if __name__ == "__main__":
    main(*sys.argv[1:4])
