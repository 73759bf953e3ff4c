#!/usr/bin/env python3
"""The PyTorch side of bench/train/dp-lora-step.ts: DP-LoRA steps with PEFT LoRA and Opacus on CPU.

A GPT-2-shaped model (random weights; its Conv1D layers become nn.Linear with the same weights
transposed, since Opacus has no grad sampler for transformers' Conv1D; the LM head untied, frozen
like the rest of the base), PEFT LoRA adapters (rank r, alpha 2r, no dropout) on the named
projections, then Opacus make_private over the adapters (the only trainable parameters):
per-example clipping (grad_sample_mode "ghost" by default, or "hooks"), noise, AdamW.
Per-example loss: the sum of its token losses (Veil's definition; Opacus loss_reduction="sum").
Prints one JSON line. Usage:
  python lora_torch_step.py --ids IDS.json --steps N --threads K --n-layer L --rank R --targets attn.c_attn,attn.c_proj [--mode ghost|hooks]
Environment: bench/.venv (torch, transformers, opacus, peft).
"""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ids")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n-layer", type=int, default=12)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--targets", default="attn.c_attn,attn.c_proj")
    parser.add_argument("--mode", choices=["ghost", "hooks"], default="ghost")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from opacus import PrivacyEngine
    from peft import LoraConfig, get_peft_model
    from torch.utils.data import DataLoader, TensorDataset
    from transformers import GPT2Config, GPT2LMHeadModel
    from transformers.pytorch_utils import Conv1D

    with open(args.ids) as f:
        ids = torch.tensor(json.load(f), dtype=torch.long)
    B, T = ids.shape
    labels = ids[:, 1:].reshape(-1)
    positions = torch.arange(T).repeat(B, 1)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(n_layer=args.n_layer, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0))
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, Conv1D):
                linear = nn.Linear(child.weight.shape[0], child.weight.shape[1])
                with torch.no_grad():
                    linear.weight.copy_(child.weight.t())
                    linear.bias.copy_(child.bias)
                setattr(module, name, linear)
    model.config.tie_word_embeddings = False
    model.lm_head.weight = nn.Parameter(model.transformer.wte.weight.detach().clone())
    model = get_peft_model(model, LoraConfig(r=args.rank, lora_alpha=2 * args.rank, lora_dropout=0.0, target_modules=args.targets.split(","), bias="none"))
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    loader = DataLoader(TensorDataset(ids), batch_size=B)
    engine = PrivacyEngine()
    common = dict(module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0, poisson_sampling=False, loss_reduction="sum")
    if args.mode == "ghost":
        model, optimizer, criterion, _ = engine.make_private(criterion=nn.CrossEntropyLoss(reduction="sum"), grad_sample_mode="ghost", clipping="flat", **common)
    else:
        model, optimizer, _ = engine.make_private(grad_sample_mode="hooks", **common)
        criterion = nn.CrossEntropyLoss(reduction="sum")

    def step():
        logits = model(input_ids=ids, position_ids=positions).logits[:, :-1]
        flat = logits.reshape(-1, logits.shape[-1])
        loss = criterion(flat, labels, shape=(B, T - 1)) if args.mode == "ghost" else criterion(flat, labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    step()  # warm-up
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"mode": f"opacus-peft-{args.mode}", "step_s": times, "peak_rss_mb": peak_mb, "trainable_params": trainable, "batch": B, "seq_len": T, "threads": args.threads}))


if __name__ == "__main__":
    main()
