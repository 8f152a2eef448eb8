"""Training speed of the levers stancekit offers, measured in one run on the same batches.

Usage: python scripts/benchmark_training.py [--model packaged:all-mpnet-base-v2] [--steps 4]

Times optimizer steps (forward, backward, AdamW) on batches of real embedded-corpus pairs for:
fp32; bf16 mixed precision (`train.precision: auto` on CPUs with AVX512-BF16/AMX, today's
default); bf16 with `train.dropout=0`; bf16 with `train.freeze_layers=6`; and both. Variants
are interleaved round by round so they see the same machine load, and process CPU time is
used (a shared machine skews wall time). Prints pairs/s, achieved TFLOP/s (6 x non-embedding
parameters x tokens, the nominal work of a full step) and its share of a measured bf16
2048x2048 matmul peak, and each variant's speed-up over bf16.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time

import torch
from transformers import DataCollatorWithPadding

from stancekit.config import load_config
from stancekit.corpus import article_pairs, iter_articles
from stancekit.training import load_for_training
from stancekit.training.fit import apply_speedups

VARIANTS = {"fp32": (False, -1, -1.0), "bf16": (True, -1, -1.0), "bf16+dropout0": (True, -1, 0.0),
            "bf16+freeze6": (True, 6, -1.0), "bf16+freeze6+dropout0": (True, 6, 0.0)}


def matmul_peak(n: int = 2048, reps: int = 10) -> float:
    a, b = torch.randn(n, n, dtype=torch.bfloat16), torch.randn(n, n, dtype=torch.bfloat16)
    a @ b
    start = time.process_time()
    for _ in range(reps):
        a @ b
    return 2 * n**3 * reps / (time.process_time() - start) * torch.get_num_threads() / 1e12


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="packaged:all-mpnet-base-v2")
    parser.add_argument("--steps", type=int, default=4, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()

    torch.manual_seed(0)
    tokenizer, base, formatter = load_for_training(
        load_config(None, [f"model.name_or_path={args.model}"]))
    pairs: list = []
    for article in iter_articles():
        pairs += article_pairs(article)
        if len(pairs) >= args.batch_size * args.steps:
            break
    rows = formatter.dataset(tokenizer, pairs[:args.batch_size * args.steps])
    collate = DataCollatorWithPadding(tokenizer)
    batches = [collate([rows[i] for i in range(s, s + args.batch_size)])
               for s in range(0, len(rows), args.batch_size)]
    tokens = sum(int(b["attention_mask"].sum()) for b in batches)
    n_params = sum(p.numel() for n, p in base.named_parameters() if "embeddings" not in n)
    models = {}
    for name, (_, freeze, dropout) in VARIANTS.items():
        model = apply_speedups(copy.deepcopy(base), freeze_layers=freeze, dropout=dropout).train()
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
        models[name] = (model, optimizer)

    def round_seconds(name: str) -> float:
        model, optimizer = models[name]
        start = time.process_time()
        for batch in batches:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=VARIANTS[name][0]):
                loss = model(**batch).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        return (time.process_time() - start) / torch.get_num_threads()

    for name in VARIANTS:  # warm-up
        round_seconds(name)
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(args.rounds):
        for name in VARIANTS:
            times[name].append(round_seconds(name))
    peak = matmul_peak()
    n = len(batches) * args.batch_size
    print(f"model {args.model}: {n} pairs ({tokens} tokens) per round, "
          f"{torch.get_num_threads()} threads; bf16 matmul peak {peak:.2f} TFLOP/s")
    print("| variant | pairs/s | TFLOP/s | share of peak | x bf16 |\n|---|---|---|---|---|")
    bf16 = statistics.median(times["bf16"])
    for name, t in times.items():
        sec = statistics.median(t)
        tflops = 6 * n_params * tokens / sec / 1e12
        print(f"| {name} | {n / sec:.1f} | {tflops:.3f} | {tflops / peak:.0%} | {bf16 / sec:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
