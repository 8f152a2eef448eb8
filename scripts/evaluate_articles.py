"""End-to-end check on whole articles: builder -> model -> aggregation vs gold annotations.

Usage: python scripts/evaluate_articles.py [--model models/default] [--splits test,test_events]

For every article of a split of the embedded corpus, the pair builder gets only the raw
text, the article's actors (names, aliases, kinds) and the targets its annotations use —
not the evidence sentences. The aggregated (article, actor, target) stance is compared
with the gold stance; a gold pair the builder cannot find (actor never matched) counts
as predicted neutral. This measures what a user of `stancekit predict --actors` gets.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stancekit.aggregation import aggregate  # noqa: E402
from stancekit.corpus import iter_articles, split_of_articles  # noqa: E402
from stancekit.data.articles import Actor, Article, PairBuilder  # noqa: E402
from stancekit.metrics import stance_metrics  # noqa: E402
from stancekit.prediction import StanceClassifier  # noqa: E402


def evaluate_articles(clf: StanceClassifier, articles: list[dict]) -> dict:
    builder = PairBuilder.for_classifier(clf)
    y_true, y_pred, missed = [], [], 0
    for art in articles:
        article = Article(
            id=art["id"], text=art["text"], date=art.get("date"),
            actors=tuple(Actor(a["name"], tuple(a.get("aliases", [])), a.get("kind"))
                         for a in art["actors"]),
            targets=tuple(dict.fromkeys(a["target"] for a in art["annotations"])))
        pairs = builder.build(article)
        rows = {(r.actor, r.target): r.label
                for r in aggregate(pairs, clf.predict(pairs))} if pairs else {}
        for ann in art["annotations"]:
            label = rows.get((ann["actor"], ann["target"]))
            if label is None:
                missed += 1
                label = "neutral"
            y_true.append(ann["stance"])
            y_pred.append(label)
    metrics = stance_metrics(y_true, y_pred)
    metrics["gold_pairs_not_found"] = missed
    return metrics


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
        m = evaluate_articles(clf, chosen)
        print(f"| {name} | {len(chosen)} | {m['n']} | {m['f1_macro']:.3f} | {m['accuracy']:.3f} | "
              f"{m['gold_pairs_not_found']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
