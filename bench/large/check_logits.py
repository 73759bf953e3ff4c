#!/usr/bin/env python3
"""Opens a model Veil registered, as `veil models download` wrote it, with transformers (and peft for
an adapter-only DP-LoRA model, onto its base folder), and prints the last position's logits of the
given token ids, for bench/large/check-logits.ts.

Usage: check_logits.py MODEL_DIR IDS_JSON [BASE_DIR]
  MODEL_DIR  the downloaded folder; with BASE_DIR, its adapter/ (PEFT) is loaded onto BASE_DIR
Prints JSON: {"logits": [...], "opened": how the model was opened, and for an adapter
"base_logits": the same with the adapter disabled (does it change anything?)}.
Needs torch, transformers and peft (bench/.venv).
"""
import json
import os
import sys

import torch
from transformers import AutoModelForCausalLM, GPT2LMHeadModel


def main():
    model_dir, ids = sys.argv[1], json.loads(sys.argv[2])
    base_dir = sys.argv[3] if len(sys.argv) > 3 else None
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    if base_dir:
        from peft import PeftModel

        base = GPT2LMHeadModel.from_pretrained(base_dir, dtype=torch.float32)
        model = PeftModel.from_pretrained(base, os.path.join(model_dir, "adapter")).eval()
        opened = f"PeftModel.from_pretrained(GPT2LMHeadModel.from_pretrained(base), {model_dir}/adapter)"
    else:
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
        opened = f"AutoModelForCausalLM.from_pretrained({model_dir}): {type(model).__name__}"
    out = {"opened": opened}
    with torch.no_grad():
        out["logits"] = [float(v) for v in model(torch.tensor([ids])).logits[0, -1]]
        if base_dir:
            with model.disable_adapter():
                out["base_logits"] = [float(v) for v in model(torch.tensor([ids])).logits[0, -1]]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
