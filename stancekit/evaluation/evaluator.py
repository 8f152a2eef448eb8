"""`StanceEvaluator`: the metrics of one split (macro-F1, F_avg, per class), calibration (ECE
and NLL before and after the model's temperature) and bootstrap 95 % intervals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..calibration import ece, nll
from ..data.records import StancePair
from ..errors import DataError
from ..labels import LABELS
from ..metrics import (
    PRIMARY_METRIC,
    bootstrap_intervals,
    bootstrap_weights,
    paired_bootstrap,
    stance_metrics,
)

N_RESAMPLES = 1000


class StanceEvaluator:
    """Scores a `StanceClassifier` on labeled pairs.

    Args:
        pairs: Labeled pairs.
        name: Split name; metric keys are prefixed with it (``test_f1_macro``).
        labels: Classes that macro-F1 averages over (two-way corpora pass support/condemn).
        batch_size: Prediction batch size.
        n_resamples: Bootstrap resamples for the 95 % intervals (0 skips them). Pairs are
            resampled by ``doc_id`` when they have one (pairs of one article move together).
        seed: Seed of the bootstrap.

    After a call, ``probs`` (what the model returns), ``raw_probs`` (at temperature 1) and
    ``predictions`` hold the model's outputs for the analyses of `analyze`.

    Example:
        >>> evaluator = StanceEvaluator(test_pairs, name="test")  # doctest: +SKIP
        >>> m = evaluator(clf)  # doctest: +SKIP
        >>> m["test_f1_macro"], m["test_f1_macro_ci"], m["test_ece"]  # doctest: +SKIP
        (0.71, [0.65, 0.77], 0.04)
    """

    primary_metric = PRIMARY_METRIC

    def __init__(self, pairs: Sequence[StancePair], *, name: str = "test",
                 labels: Sequence[str] = LABELS, batch_size: int = 64,
                 n_resamples: int = N_RESAMPLES, seed: int = 0) -> None:
        unlabeled = [p.id for p in pairs if p.label is None]
        if unlabeled:
            raise DataError(f"{len(unlabeled)} pairs have no label (e.g. id {unlabeled[0]!r}); "
                            "evaluation needs a label on every pair", field="label")
        if not pairs:
            raise DataError(f"no pairs to evaluate in split {name!r}")
        self.pairs, self.name, self.labels, self.batch_size = list(pairs), name, labels, batch_size
        self.y_true = [p.label for p in self.pairs]
        self.groups = doc_groups(self.pairs)
        self.weights = (bootstrap_weights(len(self.pairs), self.groups, n_resamples=n_resamples,
                                          seed=seed) if n_resamples else None)
        self.predictions: list[str] = []
        self.probs = self.raw_probs = np.zeros((0, len(LABELS)))

    def __call__(self, model: Any) -> dict[str, Any]:
        logits = model.logits(self.pairs, batch_size=self.batch_size)
        self.probs = model.postprocess(logits, self.pairs)
        self.raw_probs = model.postprocess(logits, self.pairs, calibrated=False)
        self.predictions = [LABELS[i] for i in self.probs.argmax(axis=1)]
        out = self.score(self.predictions)
        out.update({f"{self.name}_ece": ece(self.probs, self.y_true),
                    f"{self.name}_nll": nll(self.probs, self.y_true),
                    f"{self.name}_ece_uncalibrated": ece(self.raw_probs, self.y_true),
                    f"{self.name}_nll_uncalibrated": nll(self.raw_probs, self.y_true)})
        return out

    def score(self, predictions: Sequence[str]) -> dict[str, Any]:
        """The metrics of any system's labels on these pairs, with bootstrap intervals."""
        out = stance_metrics(self.y_true, predictions, prefix=self.name, labels=self.labels)
        if self.weights is not None:
            intervals = bootstrap_intervals(self.y_true, predictions, labels=self.labels,
                                            weights=self.weights)
            out.update({f"{self.name}_{k}_ci": v for k, v in intervals.items()})
        return out

    def compare(self, predictions: Sequence[str], baseline: Sequence[str]) -> dict[str, Any]:
        """Paired bootstrap of ``predictions`` minus ``baseline`` (same resamples)."""
        if self.weights is None:
            return {}
        return paired_bootstrap(self.y_true, predictions, baseline, labels=self.labels,
                                weights=self.weights)


def doc_groups(pairs: Sequence[StancePair]) -> list[str] | None:
    """The bootstrap units: ``doc_id`` where pairs have one (else the pair itself), or None
    when no pair has a document."""
    if not any(p.doc_id for p in pairs):
        return None
    return [p.doc_id or f"pair:{p.id}" for p in pairs]
