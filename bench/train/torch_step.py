#!/usr/bin/env python3
"""The PyTorch side of bench/train/dp-step.ts: times training steps of a GPT-2-shaped model on CPU.

Modes (one per process, so that each peak RSS is its own):
  opacus   DP-SGD with Opacus ghost clipping (PrivacyEngine.make_private(grad_sample_mode="ghost",
           clipping="flat")): two backward passes per step, noise, AdamW.
           Opacus refuses tied parameters under ghost clipping and has no grad sampler for
           transformers' Conv1D, so the model is given an untied LM head (same FLOPs, 38.6 M more
           parameters) and its Conv1D layers become nn.Linear with the same weights transposed.
  torch    the same model (tied, Conv1D) without privacy: one forward, one backward, AdamW.
  sgemm    numpy float32 matmul GFLOP/s, the machine's reference speed.

Per-example loss: the sum of its token losses (Veil's definition; Opacus loss_reduction="sum").
Prints one JSON line. Usage:
  python torch_step.py MODE --ids IDS.json --steps N --threads K [--n-layer L]
Environment: a venv with torch, transformers, opacus, numpy
  (python3 -m venv /tmp/x && /tmp/x/bin/pip install torch transformers opacus numpy).
"""
import argparse
import json
import resource
import time

import numpy as np


def sgemm(threads):
    a = np.random.default_rng(0).standard_normal((1024, 768), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((768, 3072), dtype=np.float32)
    a @ b
    reps, start = 0, time.perf_counter()
    while time.perf_counter() - start < 2.0:
        a @ b
        reps += 1
    seconds = (time.perf_counter() - start) / reps
    return {"mode": "sgemm", "gflops": 2 * 1024 * 768 * 3072 / seconds / 1e9, "threads": threads}


def gpt2(n_layer):
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(n_layer=n_layer, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    torch.manual_seed(0)
    return GPT2LMHeadModel(config)


def conv1d_to_linear(model):
    from transformers.pytorch_utils import Conv1D

    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, Conv1D):
                linear = nn.Linear(child.weight.shape[0], child.weight.shape[1])
                with torch.no_grad():
                    linear.weight.copy_(child.weight.t())
                    linear.bias.copy_(child.bias)
                setattr(module, name, linear)


def untie_lm_head(model):
    model.config.tie_word_embeddings = False
    model.lm_head.weight = nn.Parameter(model.transformer.wte.weight.detach().clone())


def run_steps(step, steps):
    step()  # warm-up: allocations, thread pools, Opacus hooks
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["opacus", "torch", "sgemm"])
    parser.add_argument("--ids")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n-layer", type=int, default=12)
    parser.add_argument("--clip", type=float, default=1.0)
    args = parser.parse_args()
    global torch, nn
    import torch
    import torch.nn as nn

    torch.set_num_threads(args.threads)
    if args.mode == "sgemm":
        print(json.dumps(sgemm(args.threads)))
        return
    with open(args.ids) as f:
        ids = torch.tensor(json.load(f), dtype=torch.long)
    B, T = ids.shape
    labels = ids[:, 1:].reshape(-1)
    # Per-row position ids: Opacus must see the batch dimension at the position embedding too.
    positions = torch.arange(T).repeat(B, 1)
    model = gpt2(args.n_layer)
    model.train()

    if args.mode == "torch":
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
        criterion = nn.CrossEntropyLoss(reduction="sum")

        def step():
            logits = model(input_ids=ids, position_ids=positions).logits[:, :-1]
            criterion(logits.reshape(-1, logits.shape[-1]), labels).backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

    else:
        from opacus import PrivacyEngine
        from torch.utils.data import DataLoader, TensorDataset

        conv1d_to_linear(model)
        untie_lm_head(model)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
        loader = DataLoader(TensorDataset(ids), batch_size=B)
        engine = PrivacyEngine()
        model, optimizer, criterion, _ = engine.make_private(
            module=model, optimizer=optimizer, data_loader=loader, criterion=nn.CrossEntropyLoss(reduction="sum"),
            noise_multiplier=1.0, max_grad_norm=args.clip, poisson_sampling=False,
            grad_sample_mode="ghost", clipping="flat", loss_reduction="sum",
        )

        def step():
            logits = model(input_ids=ids, position_ids=positions).logits[:, :-1]
            loss = criterion(logits.reshape(-1, logits.shape[-1]), labels, shape=(B, T - 1))
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

    times = run_steps(step, args.steps)
    params = sum(p.numel() for p in model.parameters())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"mode": args.mode, "step_s": times, "peak_rss_mb": peak_mb, "params": params, "batch": B, "seq_len": T, "threads": args.threads}))


if __name__ == "__main__":
    main()
