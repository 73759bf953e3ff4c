#!/usr/bin/env python3
"""The transformers side of bench/generate: greedy generation with GPT2LMHeadModel on CPU.

Usage: python hf_generate.py --model DIR --batch B --prompt-tokens P --new-tokens N [--threads T]
Prints one JSON line: {"seconds": ..., "cpu_seconds": ..., "tokens_per_second": ..., "max_rss_mb": ...}.
Prompts are the same deterministic token ids the TypeScript side uses; generation runs greedy with
the KV cache, no early stop, after one untimed warm-up call.
Needs: pip install torch transformers safetensors (bench.ts runs it under VEIL_PYTHON, default bench/.venv from bench/python/setup.sh).
"""
import argparse
import json
import resource
import time

import torch
from transformers import GPT2LMHeadModel


def prompt_ids(batch, length):
    # Must match bench/generate/bench.ts promptIds().
    return [[(i * 131 + b * 7) % 50000 for i in range(length)] for b in range(batch)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--prompt-tokens", type=int, required=True)
    ap.add_argument("--new-tokens", type=int, required=True)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = GPT2LMHeadModel.from_pretrained(args.model, dtype=torch.float32).eval()
    ids = torch.tensor(prompt_ids(args.batch, args.prompt_tokens))
    mask = torch.ones_like(ids)

    def run(new_tokens):
        with torch.inference_mode():
            return model.generate(ids, attention_mask=mask, do_sample=False, max_new_tokens=new_tokens,
                                  min_new_tokens=new_tokens, pad_token_id=50256)

    run(2)  # warm-up: first-call allocations and lazy initialisation
    cpu_start = time.process_time()
    start = time.perf_counter()
    out = run(args.new_tokens)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    assert out.shape[1] == args.prompt_tokens + args.new_tokens
    print(json.dumps({
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "tokens_per_second": args.batch * args.new_tokens / seconds,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "first_row": out[0, args.prompt_tokens:].tolist(),
    }))


if __name__ == "__main__":
    main()
