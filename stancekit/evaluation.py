"""Evaluators: a model and two baselines on the same pairs, scored with the same metrics."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .baselines import MajorityBaseline, TfidfBaseline
from .data.records import StancePair
from .errors import DataError
from .labels import LABELS
from .metrics import PRIMARY_METRIC, stance_metrics
from .prediction import StanceClassifier, lexical_texts

logger = logging.getLogger(__name__)


class StanceEvaluator:
    """Scores a `StanceClassifier` on labeled pairs.

    Args:
        pairs: Labeled pairs.
        name: Split name; metric keys are prefixed with it (``test_f1_macro``).
        labels: Classes that macro-F1 averages over (two-way corpora pass support/condemn).
        batch_size: Prediction batch size.

    Example:
        >>> evaluator = StanceEvaluator(test_pairs, name="test")  # doctest: +SKIP
        >>> evaluator(clf)["test_f1_macro"]  # doctest: +SKIP
    """

    primary_metric = PRIMARY_METRIC

    def __init__(self, pairs: Sequence[StancePair], *, name: str = "test",
                 labels: Sequence[str] = LABELS, batch_size: int = 64) -> None:
        unlabeled = [p.id for p in pairs if p.label is None]
        if unlabeled:
            raise DataError(f"{len(unlabeled)} pairs have no label (e.g. id {unlabeled[0]!r}); "
                            "evaluation needs a label on every pair", field="label")
        if not pairs:
            raise DataError(f"no pairs to evaluate in split {name!r}")
        self.pairs, self.name, self.labels, self.batch_size = list(pairs), name, labels, batch_size
        self.y_true = [p.label for p in self.pairs]
        self.predictions: list[str] = []

    def __call__(self, model: StanceClassifier) -> dict[str, Any]:
        preds = model.predict(self.pairs, batch_size=self.batch_size)
        self.predictions = [p.label for p in preds]
        return stance_metrics(self.y_true, self.predictions, prefix=self.name, labels=self.labels)


def baseline_metrics(train_pairs: Sequence[StancePair], pairs: Sequence[StancePair], *, name: str,
                     encoder: Any, labels: Sequence[str] = LABELS) -> dict[str, dict[str, Any]]:
    """Majority class and TF-IDF + LR, trained on ``train_pairs``, scored on ``pairs``."""
    train_texts = lexical_texts(encoder, train_pairs)
    texts = lexical_texts(encoder, pairs)
    y_train = [p.label for p in train_pairs]
    y_true = [p.label for p in pairs]
    out = {}
    for key, model in (("majority", MajorityBaseline()), ("tfidf_lr", TfidfBaseline())):
        probs = model.fit(train_texts, y_train).predict_proba(texts)
        out[key] = stance_metrics(y_true, [LABELS[i] for i in probs.argmax(1)], prefix=name,
                                  labels=labels)
    return out


def evaluate(model: StanceClassifier, splits: dict[str, Sequence[StancePair]], *,
             train_pairs: Sequence[StancePair] | None = None, labels: Sequence[str] = LABELS
             ) -> dict[str, dict[str, dict[str, Any]]]:
    """``{split: {"stancekit": metrics, "majority": ..., "tfidf_lr": ...}}`` for each split."""
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for name, pairs in splits.items():
        logger.info("evaluating on %s (%d pairs)", name, len(pairs))
        results[name] = {"stancekit": StanceEvaluator(pairs, name=name, labels=labels)(model)}
        if train_pairs:
            results[name].update(baseline_metrics(train_pairs, pairs, name=name,
                                                  encoder=model.encoder, labels=labels))
    return results


def summary_markdown(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    """A Markdown table per split: the model beside the baselines."""
    lines = []
    for split, systems in results.items():
        lines += [f"### {split}", "",
                  "| system | macro-F1 | F_avg | accuracy | F1 support | F1 neutral | F1 condemn | n |",
                  "|---|---|---|---|---|---|---|---|"]
        for system, m in systems.items():
            g = lambda k: m[f"{split}_{k}"]  # noqa: E731
            lines.append(f"| {system} | {g('f1_macro'):.4f} | {g('f_avg'):.4f} | {g('accuracy'):.4f} | "
                         f"{g('f1_support'):.4f} | {g('f1_neutral'):.4f} | {g('f1_condemn'):.4f} | "
                         f"{g('n')} |")
        cm = systems["stancekit"][f"{split}_confusion_matrix"]
        lines += ["", "Confusion matrix of stancekit (rows: gold, columns: predicted):", "",
                  "| gold \\ pred | " + " | ".join(LABELS) + " |", "|---" * (len(LABELS) + 1) + "|"]
        lines += [f"| {lab} | " + " | ".join(str(x) for x in row) + " |" for lab, row in zip(LABELS, cm)]
        lines.append("")
    return "\n".join(lines)


def write_results(results: dict[str, Any], out_dir: str | Path) -> tuple[Path, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    (out / "metrics.md").write_text(summary_markdown(results), encoding="utf-8")
    return out / "metrics.json", out / "metrics.md"
