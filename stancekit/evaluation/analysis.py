"""`analyze`: for every split, the model's metrics beside the baselines, a paired bootstrap of
the model against each baseline, the risk-coverage curve with the abstention threshold chosen
on dev, slices and the most telling errors. `evaluate`: the metrics of `analyze` only."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..baselines import MajorityBaseline, TfidfBaseline
from ..calibration import reliability_bins
from ..data.records import StancePair
from ..errors import DataError
from ..labels import LABELS
from ..metrics import stance_metrics
from ..stacking import lexical_texts
from .abstention import DEFAULT_PRECISION, aurc, risk_coverage, selective, threshold_for_precision
from .evaluator import N_RESAMPLES, StanceEvaluator
from .slices import error_examples, slice_metrics

logger = logging.getLogger(__name__)

MODEL = "stancekit"


def fit_baselines(train_pairs: Sequence[StancePair], *, formatter: Any
                  ) -> dict[str, Callable[[Sequence[StancePair]], list[str]]]:
    """Majority class and TF-IDF + LR, fitted once on ``train_pairs``; each maps pairs to labels."""
    texts = lexical_texts(formatter, train_pairs)
    y_train = [p.label for p in train_pairs]
    out = {}
    for key, model in (("majority", MajorityBaseline()), ("tfidf_lr", TfidfBaseline())):
        model.fit(texts, y_train)
        out[key] = (lambda pairs, m=model:
                    [LABELS[i] for i in m.predict_proba(lexical_texts(formatter, pairs)).argmax(1)])
    return out


def baseline_metrics(train_pairs: Sequence[StancePair], pairs: Sequence[StancePair], *, name: str,
                     formatter: Any, labels: Sequence[str] = LABELS) -> dict[str, dict[str, Any]]:
    """Majority class and TF-IDF + LR, trained on ``train_pairs``, scored on ``pairs``."""
    y_true = [p.label for p in pairs]
    return {key: stance_metrics(y_true, predict(pairs), prefix=name, labels=labels)
            for key, predict in fit_baselines(train_pairs, formatter=formatter).items()}


@dataclass
class SplitAnalysis:
    """Everything measured on one split; `to_dict` is what ``analysis.json`` holds.

    Attributes:
        metrics: ``{system: metrics}``, the model (``stancekit``) first, then the baselines;
            each with ``<split>_<metric>_ci`` intervals, and the baselines with the paired
            bootstrap ``<split>_<metric>_diff`` (stancekit minus baseline), ``_diff_ci`` and
            ``_diff_p``.
        calibration: ECE, NLL and reliability bins after and before the temperature.
        abstention: The threshold chosen on dev for the target precision and what it gives here.
    """

    name: str
    pairs: list[StancePair]
    probs: np.ndarray
    metrics: dict[str, dict[str, Any]]
    calibration: dict[str, Any]
    risk_coverage: list[dict[str, float]]
    abstention: dict[str, Any]
    slices: dict[str, list[dict[str, Any]]]
    errors: dict[str, list[dict[str, Any]]]
    comparisons: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"split": self.name, "n": len(self.pairs), "metrics": self.metrics,
                "comparisons": self.comparisons, "calibration": self.calibration,
                "abstention": self.abstention, "risk_coverage": self.risk_coverage,
                "slices": self.slices, "errors": self.errors}


def analyze(model: Any, splits: dict[str, Sequence[StancePair]], *,
            train_pairs: Sequence[StancePair] | None = None,
            dev_pairs: Sequence[StancePair] | None = None, labels: Sequence[str] = LABELS,
            target_precision: float = DEFAULT_PRECISION, n_resamples: int = N_RESAMPLES,
            n_errors: int = 20, batch_size: int = 64, seed: int = 0) -> dict[str, SplitAnalysis]:
    """Evaluate ``model`` on each split with everything a reviewer asks for.

    Args:
        splits: Labeled pairs by split name.
        train_pairs: Fit the baselines on these (no baselines without them).
        dev_pairs: Choose the abstention threshold that reaches ``target_precision`` here;
            without dev, only the curve and the threshold measured on the split itself
            (optimistic, labeled ``oracle``) are reported.
        n_resamples: Bootstrap resamples for intervals and paired comparisons.
        n_errors: How many examples of each kind of error to keep.

    Example:
        >>> result = analyze(clf, {"test": test}, train_pairs=train,
        ...                  dev_pairs=dev)  # doctest: +SKIP
        >>> result["test"].abstention["coverage"]  # doctest: +SKIP
    """
    if not 0.0 < target_precision <= 1.0:
        raise DataError(f"target precision: expected a value in (0, 1], found {target_precision!r}")
    baselines = fit_baselines(train_pairs, formatter=model.formatter) if train_pairs else {}
    dev_choice = None
    if dev_pairs:
        dev_probs = model.predict_proba(list(dev_pairs), batch_size=batch_size)
        dev_choice = threshold_for_precision(dev_probs, [p.label for p in dev_pairs],
                                             target_precision)
        if dev_choice is None:
            logger.warning("no threshold reaches precision %.2f on dev", target_precision)
    out = {}
    for name, pairs in splits.items():
        logger.info("evaluating on %s (%d pairs)", name, len(pairs))
        evaluator = StanceEvaluator(pairs, name=name, labels=labels, batch_size=batch_size,
                                    n_resamples=n_resamples, seed=seed)
        metrics = {MODEL: evaluator(model)}
        comparisons = {}
        for key, predict in baselines.items():
            predicted = predict(evaluator.pairs)
            metrics[key] = evaluator.score(predicted)
            comparisons[key] = evaluator.compare(evaluator.predictions, predicted)
            for metric, c in comparisons[key].items():
                metrics[key].update({f"{name}_{metric}_diff": c["diff"],
                                     f"{name}_{metric}_diff_ci": c["ci"],
                                     f"{name}_{metric}_diff_p": c["p_value"],
                                     f"{name}_diff_resamples": n_resamples})
        y_true, probs = evaluator.y_true, evaluator.probs
        curve = risk_coverage(probs, y_true)
        abstention: dict[str, Any] = {
            "target_precision": target_precision, "aurc": aurc(curve),
            "dev": "no dev split" if not dev_pairs else "chosen" if dev_choice else "unreachable",
            "oracle": threshold_for_precision(probs, y_true, target_precision)}
        if dev_choice is not None:
            abstention.update(selective(probs, y_true, dev_choice["threshold"]), chosen_on="dev",
                              dev_coverage=dev_choice["coverage"],
                              dev_precision=dev_choice["precision"])
            metrics[MODEL].update({f"{name}_abstain_threshold": dev_choice["threshold"],
                                   f"{name}_coverage": abstention["coverage"],
                                   f"{name}_selective_precision": abstention["precision"]})
        out[name] = SplitAnalysis(
            name=name, pairs=evaluator.pairs, probs=probs, metrics=metrics, comparisons=comparisons,
            calibration={"temperature": model.temperature,
                         "stacker_temperature": (model.stacker or {}).get("temperature"),
                         "fit": model.meta.get("calibration"),
                         "ece": metrics[MODEL][f"{name}_ece"],
                         "nll": metrics[MODEL][f"{name}_nll"],
                         "ece_uncalibrated": metrics[MODEL][f"{name}_ece_uncalibrated"],
                         "nll_uncalibrated": metrics[MODEL][f"{name}_nll_uncalibrated"],
                         "bins": reliability_bins(probs, y_true),
                         "bins_uncalibrated": reliability_bins(evaluator.raw_probs, y_true)},
            risk_coverage=curve if len(curve) <= 400 else risk_coverage(probs, y_true,
                                                                        max_points=400),
            abstention=abstention,
            slices=slice_metrics(evaluator.pairs, evaluator.predictions, probs, labels=labels),
            errors=error_examples(evaluator.pairs, probs, k=n_errors))
    return out


def evaluate(model: Any, splits: dict[str, Sequence[StancePair]], *,
             train_pairs: Sequence[StancePair] | None = None, labels: Sequence[str] = LABELS,
             **options: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """``{split: {"stancekit": metrics, "majority": ..., "tfidf_lr": ...}}`` for each split
    (the metrics of `analyze`, which takes the same ``options``)."""
    analyses = analyze(model, splits, train_pairs=train_pairs, labels=labels, **options)
    return {name: a.metrics for name, a in analyses.items()}
