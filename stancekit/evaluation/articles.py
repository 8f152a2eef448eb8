"""Scoring whole articles end to end: raw text -> pair builder -> model -> aggregation, against
gold (article, actor, target) stances.

The builder gets only what a user of `stancekit predict --actors` gives it: the raw text,
the actors (names, aliases, kinds) and the targets — never the evidence sentences. A gold
pair the builder cannot find (the actor is never matched) counts as predicted neutral.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..aggregation import aggregate
from ..data.articles import Actor, Article
from ..data.pair_builder import PairBuilder
from ..metrics import stance_metrics


def gold_article(record: Mapping[str, Any]) -> Article:
    """An `Article` from an annotated corpus record (``docs/annotation.md``): its actors, and
    the targets its annotations use."""
    return Article(
        id=record["id"], text=record["text"], date=record.get("date"),
        actors=tuple(Actor(a["name"], tuple(a.get("aliases", [])), a.get("kind"))
                     for a in record["actors"]),
        targets=tuple(dict.fromkeys(a["target"] for a in record["annotations"])))


def score_articles(clf: Any, records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Macro-F1 and the rest of `stance_metrics` over every gold (article, actor, target) of
    ``records``, plus ``gold_pairs_not_found``."""
    builder = PairBuilder.for_classifier(clf)
    y_true, y_pred, missed = [], [], 0
    for record in records:
        pairs = builder.build(gold_article(record))
        rows = {(r.actor, r.target): r.label
                for r in aggregate(pairs, clf.predict(pairs))} if pairs else {}
        for ann in record["annotations"]:
            label = rows.get((ann["actor"], ann["target"]))
            if label is None:
                missed += 1
                label = "neutral"
            y_true.append(ann["stance"])
            y_pred.append(label)
    metrics = stance_metrics(y_true, y_pred)
    metrics["gold_pairs_not_found"] = missed
    return metrics
