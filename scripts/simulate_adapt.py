"""Does `stancekit select` pay off? The active-learning simulation of docs/adapt.md.

    nice -n 10 python scripts/simulate_adapt.py --model models/default --corpus newsmtsc \
        --cache ../runs/adapt_cache/newsmtsc --output docs/adapt_simulation.json \
        --plot docs/adapt_curves.png

Computes the model's frozen features of the corpus once (cached), then for each strategy and
seed: rounds of 100 labels, a logistic-regression head refitted per round, macro-F1 on the
held-out splits (`stancekit.adapt.simulation`). The head's regularisation C is chosen on a dev
carve of the pool with random labels, never on the held-out splits.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="models/default")
    ap.add_argument("--corpus", default="newsmtsc", choices=["newsmtsc", "gwsd"])
    ap.add_argument("--data-path", default=None, help="corpus folder (default ../shared/datasets)")
    ap.add_argument("--cache", required=True, help="folder for the cached features")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--round-size", type=int, default=100)
    ap.add_argument("--strategies", default=None, help="comma-separated names (default: all)")
    ap.add_argument("--c", type=float, default=None,
                    help="fix the head's C (default: chosen on dev)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads for the features")
    ap.add_argument("--output", default="docs/adapt_simulation.json")
    ap.add_argument("--plot", default="docs/adapt_curves.png")
    ap.add_argument("--replot", action="store_true",
                    help="redraw the plot and tables from --output's runs without simulating")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")

    from stancekit.adapt.simulation import STRATEGIES, Run, markdown, run_simulation, summarized

    if args.replot:
        result = json.loads(Path(args.output).read_text(encoding="utf-8"))
        runs = [Run.from_dict(r) for r in result["runs"]]
        for stale in ("summary", "random_final_mean", "labels_to_reach_random_final"):
            result.pop(stale, None)
        runs_last = result.pop("runs")
        result = {**summarized(result, runs), "runs": runs_last}
        Path(args.output).write_text(json.dumps(result, indent=1), encoding="utf-8")
        _draw(result, runs, args)
        print(markdown(result))
        return 0
    import torch

    torch.set_num_threads(args.threads)
    result, runs = run_simulation(
        args.model, args.corpus, args.cache, data_path=args.data_path, seeds=args.seeds,
        rounds=args.rounds, round_size=args.round_size, c=args.c,
        strategies={n: STRATEGIES[n] for n in args.strategies.split(",")} if args.strategies
        else None)
    Path(args.output).write_text(json.dumps(result, indent=1), encoding="utf-8")
    _draw(result, runs, args)
    print(markdown(result))
    return 0


def _draw(result: dict, runs: list, args: argparse.Namespace) -> None:
    from stancekit.adapt.simulation import curve_figure

    primary = result["primary"]
    seeds = len({r.seed for r in runs})
    fig = curve_figure(runs, primary, title=f"{result['corpus']} {primary}: labels chosen by "
                                            f"strategy, {seeds} seeds (band: min-max)")
    fig.savefig(args.plot, dpi=110)



if __name__ == "__main__":
    sys.exit(main())
