"""Benchmark stancekit on public stance corpora beside majority and TF-IDF + LR baselines.

Usage:
    python scripts/benchmark.py [--corpora dsa_news,semeval,newsmtsc,gwsd,pstance]
                                [--cross hillary,atheism,...] [--retrain]
                                [--output docs/benchmarks.md]

For each corpus it trains `configs/<corpus>.yaml` (or reuses the model directory a previous
run left, unless --retrain or the config changed), scores the official evaluation splits, and
writes a Markdown table with bootstrap 95 % intervals (resampled by document), the paired
bootstrap of stancekit against TF-IDF + LR, the published reference figure, the training time
and the encoder (`stancekit.evaluation.benchmark`). The corpora are read in place from
../shared/datasets (or $STANCEKIT_DATASETS); the file is regenerated end to end by this
script, never edited by hand.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stancekit.cli import setup_logging  # noqa: E402
from stancekit.errors import UsageError  # noqa: E402
from stancekit.evaluation.benchmark import (  # noqa: E402
    CORPORA,
    benchmark_jobs,
    load_results,
    run_benchmarks,
    to_markdown,
)
from stancekit.evaluation.evaluator import N_RESAMPLES  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default=",".join(CORPORA))
    parser.add_argument("--cross", default="",
                        help="SemEval cross-target runs: comma-separated held-out targets "
                             "(abortion, atheism, climate, feminist, hillary) or 'all'")
    parser.add_argument("--retrain", action="store_true")
    parser.add_argument("--bootstrap", type=int, default=N_RESAMPLES)
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite the Markdown from the JSON results of the last run")
    parser.add_argument("--update", action="store_true",
                        help="run only the corpora named and keep the other rows of the last run")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="applied to every corpus's config (e.g. train.max_steps=10 to "
                             "smoke-test)")
    args = parser.parse_args()
    setup_logging()  # stancekit's logger only: other libraries' INFO lines stay quiet
    if args.render_only:
        results = load_results(Path(args.output).with_suffix(".json"))
        Path(args.output).write_text(to_markdown(results) + "\n", encoding="utf-8")
        print(f"written {args.output}")
        return 0
    try:
        jobs = benchmark_jobs([c for c in args.corpora.split(",") if c],
                              [t for t in args.cross.split(",") if t], args.overrides)
    except UsageError as err:
        parser.error(str(err))
    _, failed = run_benchmarks(jobs, args.output, retrain=args.retrain, n_boot=args.bootstrap,
                               update=args.update, configs=ROOT / "configs")
    print(f"written {args.output}")
    for line in failed:
        print(f"not benchmarked: {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
