"""An independent PyTorch GPT (torch_gpt.py, written after nanoGPT's model.py) to check ours against.

    /usr/bin/python3 gpt_reference.py WEIGHTS BATCH OUT

WEIGHTS: a safetensors file written by our saveGPT (nanoGPT state_dict names, PyTorch (out, in)
Linear shapes, the tied lm_head stored once as transformer.wte.weight, config JSON in the
"gpt_config" metadata). BATCH: tensors "x" and "y", (B, T) int32. OUT gets, computed in float64:
"logits" (B, T, V), "loss" (scalar), and "grad.<name>" for every parameter.
"""
import json
import sys

import torch

from safetensors_io import read_safetensors, write_safetensors
from torch_gpt import GPT


def load_gpt(path, dtype=torch.float64):
    """A GPT with the weights of one of our safetensors files, in `dtype`, without dropout: a
    reference must be deterministic whatever dropout the file's config trained with."""
    tensors, metadata = read_safetensors(path)
    config = {**json.loads(metadata["gpt_config"]), "dropout": 0.0}
    model = GPT(config).to(dtype)
    state = {name: t.to(dtype) for name, t in tensors.items() if not name.startswith("optimizer.")}
    model.load_state_dict(state, strict=True)
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
