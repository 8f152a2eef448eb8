"""End-to-end check on whole articles of the embedded corpus: raw text and actors in, the
aggregated stance table scored against the gold annotations (`stancekit.evaluation.articles`).

Usage: python scripts/evaluate_articles.py [--model models/default] [--splits test,test_events]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stancekit.corpus import iter_articles, split_of_articles
from stancekit.evaluation import score_articles
from stancekit.prediction import StanceClassifier

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "default"))
    parser.add_argument("--splits", default="test,test_events")
    args = parser.parse_args()
    clf = StanceClassifier.from_pretrained(args.model)
    articles = list(iter_articles())
    split = split_of_articles(articles)
    print("| split | articles | gold (actor, target) | macro-F1 | accuracy | not found |")
    print("|---|---|---|---|---|---|")
    for name in args.splits.split(","):
        chosen = [a for a in articles if split[a["id"]] == name]
        m = score_articles(clf, chosen)
        print(f"| {name} | {len(chosen)} | {m['n']} | {m['f1_macro']:.3f} | {m['accuracy']:.3f} | "
              f"{m['gold_pairs_not_found']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
