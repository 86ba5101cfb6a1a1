"""GPT-2 in PyTorch, written from the architecture (Radford et al. 2019; the layout of Hugging Face's
openai-community/gpt2), reading a Hugging Face model folder itself: config.json + model.safetensors
with GPT-2's names and Conv1D weights stored (in, out), used as they are (x @ W + b).

    /usr/bin/python3 gpt2_reference.py make DIR SEED [--prefix]   # a small random GPT-2 folder
    /usr/bin/python3 gpt2_reference.py logits DIR TOKENS OUT      # TOKENS: JSON [[ids...], ...]

make: 2 layers, 4 heads, width 64, vocab 50257, context 128; weights large enough that the MLP's
pre-activations reach |x| ~ 3 (where the tanh GELU and the exact one differ by ~1e-3), the
causal-mask buffers h.{i}.attn.bias / masked_bias as older transformers saved them, and with
--prefix every name under "transformer.". logits: float64 logits (B, T, V) written as F64 "logits".
"""
import json
import math
import sys

import torch

from safetensors_io import read_safetensors, write_safetensors

SHAPE = {"n_layer": 2, "n_head": 4, "n_embd": 64, "vocab_size": 50257, "n_positions": 128}


def make(folder, seed, prefix):
    g = torch.Generator().manual_seed(seed)
    C, L, V, T = SHAPE["n_embd"], SHAPE["n_layer"], SHAPE["vocab_size"], SHAPE["n_positions"]

    def normal(*shape, std=1.0, mean=0.0):
        return (torch.randn(*shape, generator=g) * std + mean).float()

    w = {"wte.weight": normal(V, C, std=0.3), "wpe.weight": normal(T, C, std=0.3)}
    for i in range(L):
        h = f"h.{i}."
        w[h + "ln_1.weight"] = normal(C, std=0.2, mean=1.0)
        w[h + "ln_1.bias"] = normal(C, std=0.1)
        w[h + "attn.bias"] = torch.tril(torch.ones(T, T)).view(1, 1, T, T)
        w[h + "attn.masked_bias"] = torch.tensor(-1e4)
        w[h + "attn.c_attn.weight"] = normal(C, 3 * C, std=0.15)  # Conv1D: (in, out)
        w[h + "attn.c_attn.bias"] = normal(3 * C, std=0.1)
        w[h + "attn.c_proj.weight"] = normal(C, C, std=0.1)
        w[h + "attn.c_proj.bias"] = normal(C, std=0.1)
        w[h + "ln_2.weight"] = normal(C, std=0.2, mean=1.0)
        w[h + "ln_2.bias"] = normal(C, std=0.1)
        w[h + "mlp.c_fc.weight"] = normal(C, 4 * C, std=0.25)
        w[h + "mlp.c_fc.bias"] = normal(4 * C, std=0.1)
        w[h + "mlp.c_proj.weight"] = normal(4 * C, C, std=0.05)
        w[h + "mlp.c_proj.bias"] = normal(C, std=0.1)
    w["ln_f.weight"] = normal(C, std=0.2, mean=1.0)
    w["ln_f.bias"] = normal(C, std=0.1)
    if prefix:
        w = {"transformer." + k: v for k, v in w.items()}
    write_safetensors(f"{folder}/model.safetensors", w, {"format": "pt"})
    config = {**SHAPE, "n_ctx": T, "model_type": "gpt2", "activation_function": "gelu_new",
              "layer_norm_epsilon": 1e-5, "architectures": ["GPT2LMHeadModel"]}
    with open(f"{folder}/config.json", "w") as f:
        json.dump(config, f, indent=2)


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def gelu_exact(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def layer_norm(x, weight, bias, eps):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * weight + bias


def gpt2_logits(folder, tokens):
    with open(f"{folder}/config.json") as f:
        config = json.load(f)
    tensors, _ = read_safetensors(f"{folder}/model.safetensors")
    prefix = "transformer." if "transformer.wte.weight" in tensors else ""
    p = {k[len(prefix):] if k.startswith(prefix) else k: v.double() for k, v in tensors.items()}
    n_head, eps = config["n_head"], config.get("layer_norm_epsilon", 1e-5)
    act = {"gelu_new": gelu_tanh, "gelu_pytorch_tanh": gelu_tanh, "gelu": gelu_exact}[config.get("activation_function", "gelu_new")]

    idx = torch.tensor(tokens, dtype=torch.long)
    B, T = idx.shape
    C = p["wte.weight"].shape[1]
    hs = C // n_head
    x = p["wte.weight"][idx] + p["wpe.weight"][:T]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(config["n_layer"]):
        h = f"h.{i}."
        a = layer_norm(x, p[h + "ln_1.weight"], p[h + "ln_1.bias"], eps)
        q, k, v = (a @ p[h + "attn.c_attn.weight"] + p[h + "attn.c_attn.bias"]).split(C, dim=2)
        q, k, v = (t.view(B, T, n_head, hs).transpose(1, 2) for t in (q, k, v))
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
        weights = torch.softmax(scores.masked_fill(~causal, float("-inf")), dim=-1)
        y = (weights @ v).transpose(1, 2).reshape(B, T, C)
        x = x + y @ p[h + "attn.c_proj.weight"] + p[h + "attn.c_proj.bias"]
        m = layer_norm(x, p[h + "ln_2.weight"], p[h + "ln_2.bias"], eps)
        x = x + act(m @ p[h + "mlp.c_fc.weight"] + p[h + "mlp.c_fc.bias"]) @ p[h + "mlp.c_proj.weight"] + p[h + "mlp.c_proj.bias"]
    x = layer_norm(x, p["ln_f.weight"], p["ln_f.bias"], eps)
    return x @ p["wte.weight"].T  # the LM head is the token embedding


def main(argv):
    if argv[0] == "make":
        make(argv[1], int(argv[2]), "--prefix" in argv[3:])
    elif argv[0] == "logits":
        with open(argv[2]) as f:
            tokens = json.load(f)
        write_safetensors(argv[3], {"logits": gpt2_logits(argv[1], tokens).contiguous()})
    else:
        sys.exit(f"unknown command {argv[0]}")


if __name__ == "__main__":
    main(sys.argv[1:])
