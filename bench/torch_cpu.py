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

The model is tests/reference/torch_gpt.py, the GPT our parity tests check ours against: what is
timed here is the very model whose numbers ours must match, and there is one copy of it to keep.
"""
import argparse
import json
import os
import resource
import sys
import time

import torch

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
from torch_gpt import GPT  # noqa: E402


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
        _, loss = model(data[:, :-1], data[:, 1:])
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
