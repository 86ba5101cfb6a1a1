"""Timing of nanoGPT's training step in PyTorch, for bench/gpt.ts: the reference GPT of
gpt_reference.py in float32, AdamW with nanoGPT's decay groups, clip_grad_norm_, as train.py does.

    /usr/bin/python3 gpt_train_step.py CONFIG_JSON [--steps N] [--warmup N] [--threads N]

CONFIG_JSON: {"model": {vocabSize, blockSize, nLayer, nHead, nEmbd, dropout, bias}, "batchSize": B}.
Prints one JSON line: per-step wall milliseconds of the forward pass ("forward"), forward + backward
("backward") and the whole step ("step": batch, forward, backward, clipping, AdamW), the process CPU
time of the step ("cpuMs", all threads), and the losses.
"""
import argparse
import json
import time

import torch

from gpt_reference import GPT


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1337)
    config = json.loads(args.config)
    c, batch_size = config["model"], config["batchSize"]
    model = GPT(c)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=1e-3, betas=(0.9, 0.99))
    data = torch.randint(0, c["vocabSize"], (100_000,))

    def get_batch():
        ix = torch.randint(len(data) - c["blockSize"], (batch_size,))
        x = torch.stack([data[i:i + c["blockSize"]] for i in ix])
        y = torch.stack([data[i + 1:i + 1 + c["blockSize"]] for i in ix])
        return x, y

    out = {"forward": [], "backward": [], "step": [], "cpuMs": [], "loss": [], "torch": torch.__version__, "threads": torch.get_num_threads()}
    for s in range(args.warmup + args.steps):
        x, y = get_batch()
        start = time.perf_counter()
        with torch.no_grad():
            model(x, y)
        forward = time.perf_counter()
        _, loss = model(x, y)
        loss.backward()
        backward = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        start_step = time.perf_counter()
        cpu_start = time.process_time()
        x, y = get_batch()
        _, loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        value = loss.item()
        end = time.perf_counter()
        cpu_end = time.process_time()
        if s >= args.warmup:
            out["forward"].append((forward - start) * 1000)
            out["backward"].append((backward - forward) * 1000)
            out["step"].append((end - start_step) * 1000)
            out["cpuMs"].append((cpu_end - cpu_start) * 1000)
            out["loss"].append(value)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
