"""nanoGPT's train step on CPU, for bench/native.ts: the GPT of nanoGPT's model.py (pre-LN blocks,
causal self-attention, exact GELU, tied embeddings; tests/reference/torch_gpt.py, the model our
parity tests check ours against) and torch.optim.AdamW, timed per step.

Usage: /usr/bin/python3 bench/torch_gpt_step.py [--steps N] [--warmup N] [--threads N]
Prints one JSON line: {"ms": [per-step wall milliseconds], "cpuMs": [per-step process CPU ms, all threads],
"loss": [...], "torch": version, "threads": n}.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
from torch_gpt import GPT  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=12)
    args = parser.parse_args()
    torch.manual_seed(1337)
    torch.set_num_threads(args.threads)
    vocab, block = 65, 64
    model = GPT({"vocabSize": vocab, "blockSize": block, "nLayer": 4, "nHead": 4, "nEmbd": 128, "bias": False}).train()
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.99))
    data = torch.randint(0, vocab, (args.batch, block + 1))
    x, y = data[:, :-1].contiguous(), data[:, 1:].contiguous()
    times, cpu_times, losses = [], [], []
    for step in range(args.warmup + args.steps):
        start = time.perf_counter()
        cpu_start = time.process_time()
        _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        elapsed = (time.perf_counter() - start) * 1000
        cpu = (time.process_time() - cpu_start) * 1000
        if step >= args.warmup:
            times.append(elapsed)
            cpu_times.append(cpu)
            losses.append(loss.item())
    print(json.dumps({"ms": times, "cpuMs": cpu_times, "loss": losses, "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "note": f"torch {torch.__version__}, {torch.get_num_threads()} threads"}))


if __name__ == "__main__":
    main()
