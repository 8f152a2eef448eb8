"""Training speed of fp32 against bf16 mixed precision (`train.precision`), measured in one run.

Usage: python scripts/benchmark_training.py [--model packaged:all-MiniLM-L6-v2] [--steps 4]

Times optimizer steps (forward, backward, AdamW) on batches of real embedded-corpus pairs,
alternating fp32 and bf16 rounds so that both see the same machine load, and prints the
ratio. bf16 pays off on CPUs with AVX512-BF16 or AMX and on recent GPUs; elsewhere it can be
slower, which is why `train.precision: auto` checks the hardware first.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from transformers import DataCollatorWithPadding  # noqa: E402

from stancekit.config import load_config  # noqa: E402
from stancekit.corpus import article_pairs, iter_articles  # noqa: E402
from stancekit.training import load_for_training, use_bf16  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="packaged:all-MiniLM-L6-v2")
    parser.add_argument("--steps", type=int, default=4, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()

    torch.manual_seed(0)
    tokenizer, model, encoder = load_for_training(
        load_config(None, [f"model.name_or_path={args.model}"]))
    wanted = args.batch_size * args.steps
    pairs: list = []
    for article in iter_articles():
        pairs += article_pairs(article)
        if len(pairs) >= wanted:
            break
    pairs = pairs[:wanted]
    rows = encoder.dataset(tokenizer, pairs)
    collate = DataCollatorWithPadding(tokenizer)
    batches = [collate([rows[i] for i in range(s, s + args.batch_size)])
               for s in range(0, len(rows), args.batch_size)]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)

    def round_seconds(bf16: bool) -> float:
        start = time.perf_counter()
        for batch in batches:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = model(**batch).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        return time.perf_counter() - start

    for bf16 in (False, True):  # warm-up
        round_seconds(bf16)
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.rounds):
        for bf16 in (False, True):
            times[bf16].append(round_seconds(bf16))
    fp32, bf16 = statistics.median(times[False]), statistics.median(times[True])
    n = len(batches) * args.batch_size
    print(f"model {args.model}: {n} pairs per round, {torch.get_num_threads()} threads")
    print(f"fp32 {n / fp32:.1f} pairs/s   bf16 {n / bf16:.1f} pairs/s   "
          f"bf16 speed-up {fp32 / bf16:.2f}x")
    print(f"train.precision=auto picks {'bf16' if use_bf16('auto') else 'fp32'} on this machine")
    return 0


if __name__ == "__main__":
    sys.exit(main())
