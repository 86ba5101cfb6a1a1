"""Every TransformerLens hook point of a GPT, in PyTorch float64, written from TransformerLens's
documented definitions (HookedTransformer with its weights unprocessed: no LayerNorm folding, no
centring), reading a GPT saved by lib/models/gpt's saveGPT (nanoGPT names, Linear weights (out, in)).

    /usr/bin/python3 interp_reference.py WEIGHTS.safetensors TOKENS.safetensors OUT.safetensors

TOKENS holds "tokens" (batch, pos) I32. OUT holds each hook point by its TransformerLens name
(blocks.{l}.attn.hook_result included) and "logits", F64. A config with "attnOnly": true has
TransformerLens's attn_only blocks (no resid_mid, ln2 or MLP hook points). Shapes as TransformerLens:
q/k/v/z (batch, pos, head, d_head), attn_scores/pattern (batch, head, query, key) with -inf above
the diagonal in the scores, result (batch, pos, head, d_model), LayerNorm scales (batch, pos, 1).
"""
import json
import math
import sys

import torch

from safetensors_io import read_safetensors, write_safetensors


def layer_norm(x, w, b, name, acts, eps=1e-5):
    # TransformerLens's LayerNorm: centre, scale = sqrt(mean(x²) + eps), divide, then the affine map.
    x = x - x.mean(-1, keepdim=True)
    scale = (x.pow(2).mean(-1, keepdim=True) + eps).sqrt()
    acts[f"{name}.hook_scale"] = scale
    out = x / scale * w + (b if b is not None else 0)
    acts[f"{name}.hook_normalized"] = out
    return out


def gelu(x, kind):
    if kind == "gelu_tanh":
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def main(weights_path, tokens_path, out_path):
    params, metadata = read_safetensors(weights_path)
    config = json.loads(metadata["gpt_config"])
    p = {k: v.double() for k, v in params.items()}
    tokens = read_safetensors(tokens_path)[0]["tokens"].long()
    batch, T = tokens.shape
    L, H, C = config["nLayer"], config["nHead"], config["nEmbd"]
    D = C // H
    get = lambda name: p.get(name)
    acts = {}
    # TransformerLens's weight layouts, from nanoGPT's: W_Q etc. (head, d_model, d_head), W_O (head, d_head, d_model).
    embed = p["transformer.wte.weight"][tokens]
    pos_embed = p["transformer.wpe.weight"][:T].unsqueeze(0).expand(batch, T, C)
    acts["hook_embed"], acts["hook_pos_embed"] = embed, pos_embed
    resid = embed + pos_embed
    for l in range(L):
        h, b = f"transformer.h.{l}", f"blocks.{l}"
        acts[f"{b}.hook_resid_pre"] = resid
        x = layer_norm(resid, p[f"{h}.ln_1.weight"], get(f"{h}.ln_1.bias"), f"{b}.ln1", acts)
        W = p[f"{h}.attn.c_attn.weight"]  # (3C, C)
        bias = get(f"{h}.attn.c_attn.bias")
        W_Q, W_K, W_V = (W[i * C:(i + 1) * C].T.reshape(C, H, D).permute(1, 0, 2) for i in range(3))
        b_Q, b_K, b_V = ((bias[i * C:(i + 1) * C].reshape(H, D) if bias is not None else torch.zeros(H, D, dtype=torch.float64)) for i in range(3))
        q = torch.einsum("bpm,hmd->bphd", x, W_Q) + b_Q
        k = torch.einsum("bpm,hmd->bphd", x, W_K) + b_K
        v = torch.einsum("bpm,hmd->bphd", x, W_V) + b_V
        acts[f"{b}.attn.hook_q"], acts[f"{b}.attn.hook_k"], acts[f"{b}.attn.hook_v"] = q, k, v
        scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(D)
        causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
        scores = torch.where(causal, scores, torch.tensor(-math.inf, dtype=torch.float64))
        acts[f"{b}.attn.hook_attn_scores"] = scores
        pattern = scores.softmax(-1)
        acts[f"{b}.attn.hook_pattern"] = pattern
        z = torch.einsum("bhqk,bkhd->bqhd", pattern, v)
        acts[f"{b}.attn.hook_z"] = z
        W_O = p[f"{h}.attn.c_proj.weight"].T.reshape(H, D, C)
        result = torch.einsum("bphd,hdm->bphm", z, W_O)
        acts[f"{b}.attn.hook_result"] = result
        b_O = get(f"{h}.attn.c_proj.bias")
        attn_out = result.sum(2) + (b_O if b_O is not None else 0)
        acts[f"{b}.hook_attn_out"] = attn_out
        resid = resid + attn_out
        if config.get("attnOnly", False):
            # TransformerLens's attn_only block: resid_post = resid_pre + attn_out; no resid_mid, ln2 or MLP hooks.
            acts[f"{b}.hook_resid_post"] = resid
            continue
        acts[f"{b}.hook_resid_mid"] = resid
        x = layer_norm(resid, p[f"{h}.ln_2.weight"], get(f"{h}.ln_2.bias"), f"{b}.ln2", acts)
        b_in, b_out = get(f"{h}.mlp.c_fc.bias"), get(f"{h}.mlp.c_proj.bias")
        pre = x @ p[f"{h}.mlp.c_fc.weight"].T + (b_in if b_in is not None else 0)
        acts[f"{b}.mlp.hook_pre"] = pre
        post = gelu(pre, config.get("activation", "gelu"))
        acts[f"{b}.mlp.hook_post"] = post
        mlp_out = post @ p[f"{h}.mlp.c_proj.weight"].T + (b_out if b_out is not None else 0)
        acts[f"{b}.hook_mlp_out"] = mlp_out
        resid = resid + mlp_out
        acts[f"{b}.hook_resid_post"] = resid
    final = layer_norm(resid, p["transformer.ln_f.weight"], get("transformer.ln_f.bias"), "ln_final", acts)
    acts["logits"] = final @ p["transformer.wte.weight"].T
    write_safetensors(out_path, {k: v.contiguous() for k, v in acts.items()})


if __name__ == "__main__":
    main(*sys.argv[1:4])
