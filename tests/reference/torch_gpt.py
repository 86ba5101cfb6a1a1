"""nanoGPT's GPT in PyTorch (written after its model.py): the one model the parity references in this
folder check ours against and bench/torch_cpu.py times.

The config is our GPTConfig as JSON: vocabSize, blockSize, nLayer, nHead, nEmbd, bias, and optionally
dropout (0 when absent) and attnOnly (false when absent). Parameter names are nanoGPT's state_dict
names, the ones saveGPT writes. The LM head is the token embedding itself (tied), so it is no
parameter or module of its own.
"""
import math

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


class CausalSelfAttention(nn.Module):
    """The manual attention path (torch 1.13 has no scaled_dot_product_attention), dropout on the
    attention weights and after the output projection."""

    def __init__(self, c):
        super().__init__()
        width, t = c["nEmbd"], c["blockSize"]
        self.c_attn = nn.Linear(width, 3 * width, bias=c["bias"])
        self.c_proj = nn.Linear(width, width, bias=c["bias"])
        self.n_head = c["nHead"]
        self.attn_dropout = nn.Dropout(c.get("dropout", 0.0))
        self.resid_dropout = nn.Dropout(c.get("dropout", 0.0))
        # Not persistent: saved files hold parameters only.
        self.register_buffer("causal", torch.tril(torch.ones(t, t, dtype=torch.bool)).view(1, 1, t, t), persistent=False)

    def forward(self, x):
        B, T, C = x.size()
        heads = lambda t: t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q, k, v = (heads(t) for t in self.c_attn(x).split(C, dim=2))
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        scores = scores.masked_fill(~self.causal[:, :, :T, :T], float("-inf"))
        weights = self.attn_dropout(F.softmax(scores, dim=-1))
        y = (weights @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = nn.Linear(c["nEmbd"], 4 * c["nEmbd"], bias=c["bias"])
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * c["nEmbd"], c["nEmbd"], bias=c["bias"])
        self.dropout = nn.Dropout(c.get("dropout", 0.0))

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """Pre-LN: x + attn(ln_1(x)), then x + mlp(ln_2(x))."""

    def __init__(self, c):
        super().__init__()
        self.ln_1 = LayerNorm(c["nEmbd"], c["bias"])
        self.attn = CausalSelfAttention(c)
        # attnOnly: TransformerLens's attn_only, a block without LayerNorm 2 and MLP.
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
            drop=nn.Dropout(c.get("dropout", 0.0)),
            h=nn.ModuleList([Block(c) for _ in range(c["nLayer"])]),
            ln_f=LayerNorm(c["nEmbd"], c["bias"]),
        ))
        # GPT-2's initialisation, as nanoGPT (the parity references overwrite it; the timings need it).
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                std = 0.02 / math.sqrt(2 * c["nLayer"]) if name.endswith("c_proj.weight") else 0.02
                nn.init.normal_(p, mean=0.0, std=std)
            elif name.endswith(".bias"):
                nn.init.zeros_(p)

    def forward(self, idx, targets):
        """(logits (B, T, V), mean cross-entropy against targets (B, T))."""
        T = idx.size(1)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(torch.arange(T)))
        for block in self.transformer.h:
            x = block(x)
        logits = F.linear(self.transformer.ln_f(x), self.transformer.wte.weight)  # the tied LM head
        return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))
