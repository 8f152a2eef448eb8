"""Evaluators: a model and two baselines on the same pairs, scored with the same metrics, and
the numbers a careful reviewer asks for next.

- `StanceEvaluator`: the metrics of one split (macro-F1, F_avg, per class), calibration (ECE and
  NLL before and after the model's temperature) and bootstrap 95 % intervals.
- `analyze`: for every split, that plus the baselines, a paired bootstrap of the model against
  each baseline, the risk-coverage curve with the abstention threshold chosen on dev, slices
  (target, actor, source corpus, text length) and the most telling errors.
- `evaluate`: the metrics of `analyze` only, ``{split: {system: metrics}}``.
"""

from __future__ import annotations

import csv
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .baselines import MajorityBaseline, TfidfBaseline
from .calibration import ece, nll, reliability_bins
from .data.records import StancePair
from .errors import DataError
from .labels import LABELS
from .metrics import (
    PRIMARY_METRIC,
    bootstrap_intervals,
    bootstrap_weights,
    paired_bootstrap,
    stance_metrics,
)
from .prediction import StanceClassifier, lexical_texts

logger = logging.getLogger(__name__)

DEFAULT_PRECISION = 0.95
N_RESAMPLES = 1000
LENGTH_BUCKETS = ((25, "<25 words"), (50, "25-49 words"), (100, "50-99 words"),
                  (None, "100+ words"))
MODEL = "stancekit"


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

    def __call__(self, model: StanceClassifier) -> dict[str, Any]:
        logits = model.logits(self.pairs, batch_size=self.batch_size)
        self.probs = model.probs_from_logits(logits, self.pairs)
        self.raw_probs = model.probs_from_logits(logits, self.pairs, calibrated=False)
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


# -- baselines ---------------------------------------------------------------------------------
def fit_baselines(train_pairs: Sequence[StancePair], *, encoder: Any
                  ) -> dict[str, Callable[[Sequence[StancePair]], list[str]]]:
    """Majority class and TF-IDF + LR, fitted once on ``train_pairs``; each maps pairs to labels."""
    texts = lexical_texts(encoder, train_pairs)
    y_train = [p.label for p in train_pairs]
    out = {}
    for key, model in (("majority", MajorityBaseline()), ("tfidf_lr", TfidfBaseline())):
        model.fit(texts, y_train)
        out[key] = (lambda pairs, m=model:
                    [LABELS[i] for i in m.predict_proba(lexical_texts(encoder, pairs)).argmax(1)])
    return out


def baseline_metrics(train_pairs: Sequence[StancePair], pairs: Sequence[StancePair], *, name: str,
                     encoder: Any, labels: Sequence[str] = LABELS) -> dict[str, dict[str, Any]]:
    """Majority class and TF-IDF + LR, trained on ``train_pairs``, scored on ``pairs``."""
    y_true = [p.label for p in pairs]
    return {key: stance_metrics(y_true, predict(pairs), prefix=name, labels=labels)
            for key, predict in fit_baselines(train_pairs, encoder=encoder).items()}


# -- abstention --------------------------------------------------------------------------------
def risk_coverage(probs: np.ndarray, y_true: Sequence[str], *, max_points: int | None = None
                  ) -> list[dict[str, float]]:
    """The risk-coverage curve: for each threshold (a confidence the model reached), keeping
    the predictions at or above it, the share kept (coverage), their precision (accuracy of
    the kept labels) and risk (1 - precision). Ordered from the highest threshold down."""
    probs = np.asarray(probs)
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == np.array([LABELS.index(y) for y in y_true])
    order = np.argsort(-conf, kind="stable")
    conf_s, kept_correct = conf[order], np.cumsum(correct[order])
    # ties are kept or abstained together: one point at the last row of each confidence
    ends = np.flatnonzero(np.r_[conf_s[1:] != conf_s[:-1], True])
    if max_points and len(ends) > max_points:
        ends = np.unique(np.r_[ends[np.linspace(0, len(ends) - 1, max_points).astype(int)],
                               ends[-1]])
    n = len(conf)
    return [{"threshold": float(conf_s[i]), "coverage": (i + 1) / n,
             "precision": float(kept_correct[i] / (i + 1)),
             "risk": float(1 - kept_correct[i] / (i + 1)), "n_kept": int(i + 1)} for i in ends]


def threshold_for_precision(probs: np.ndarray, y_true: Sequence[str],
                            precision: float = DEFAULT_PRECISION) -> dict[str, float] | None:
    """The lowest confidence threshold whose kept predictions reach ``precision`` (the largest
    coverage that does), or None when even the most confident prediction alone does not."""
    ok = [p for p in risk_coverage(probs, y_true) if p["precision"] >= precision]
    return max(ok, key=lambda p: p["coverage"]) if ok else None


def selective(probs: np.ndarray, y_true: Sequence[str], threshold: float) -> dict[str, float]:
    """Coverage and precision when predictions below ``threshold`` abstain."""
    probs = np.asarray(probs)
    keep = probs.max(axis=1) >= threshold
    correct = probs.argmax(axis=1) == np.array([LABELS.index(y) for y in y_true])
    n_kept = int(keep.sum())
    return {"threshold": float(threshold), "coverage": n_kept / len(keep) if len(keep) else 0.0,
            "precision": float(correct[keep].mean()) if n_kept else None,
            "n_kept": n_kept}


def aurc(curve: Sequence[dict[str, float]]) -> float:
    """Area under the risk-coverage curve (lower is better), as a step function of coverage."""
    area, last = 0.0, 0.0
    for point in curve:
        area += point["risk"] * (point["coverage"] - last)
        last = point["coverage"]
    return area


# -- slices and errors -------------------------------------------------------------------------
def length_bucket(text: str) -> str:
    words = len(text.split())
    return next(name for limit, name in LENGTH_BUCKETS if limit is None or words < limit)


def source_corpus(pair: StancePair) -> str | None:
    return pair.meta.get("corpus") or pair.meta.get("domain")


SLICES: dict[str, Callable[[StancePair], str | None]] = {
    "target": lambda p: p.target,
    "actor": lambda p: p.actor,
    "corpus": source_corpus,
    "length": lambda p: length_bucket(p.text),
}


def slice_metrics(pairs: Sequence[StancePair], y_pred: Sequence[str], probs: np.ndarray, *,
                  labels: Sequence[str] = LABELS) -> dict[str, list[dict[str, Any]]]:
    """Per target, actor, source corpus and text-length bucket: the split's metrics, with counts.

    Macro-F1 of a slice averages over the classes present in its gold or predicted labels (a
    slice with no ``neutral`` pair is not scored 0 on ``neutral``); a class F1 is None when
    the class is absent from both. Slices are ordered by size (length buckets by length); a
    kind whose pairs carry no value (no ``corpus``/``domain`` in ``meta``) is left out.
    """
    y_true = [p.label for p in pairs]
    conf = np.asarray(probs).max(axis=1)
    out: dict[str, list[dict[str, Any]]] = {}
    for kind, key in SLICES.items():
        members: dict[str, list[int]] = defaultdict(list)
        for i, pair in enumerate(pairs):
            value = key(pair)
            if value is not None:
                members[str(value)].append(i)
        if not members:
            continue
        rows = []
        for value, idx in members.items():
            gold, pred = [y_true[i] for i in idx], [y_pred[i] for i in idx]
            present = [lab for lab in labels if lab in gold or lab in pred]
            m = stance_metrics(gold, pred, labels=present)
            row: dict[str, Any] = {kind: value, "n": len(idx),
                                   "docs": len({pairs[i].doc_id or pairs[i].id for i in idx})}
            row.update({f"n_{lab}": gold.count(lab) for lab in LABELS})
            row.update({"accuracy": m["accuracy"], "f1_macro": m["f1_macro"],
                        "f_avg": m["f_avg"] if {"support", "condemn"} & set(gold + pred) else None})
            row.update({f"f1_{lab}": m[f"f1_{lab}"] if lab in gold or lab in pred else None
                        for lab in LABELS})
            row["mean_confidence"] = float(conf[idx].mean())
            rows.append(row)
        if kind == "length":
            rank = {name: i for i, (_, name) in enumerate(LENGTH_BUCKETS)}
            rows.sort(key=lambda r: rank[r["length"]])
        else:
            rows.sort(key=lambda r: (-r["n"], r[kind]))
        out[kind] = rows
    return out


ERROR_FIELDS = ("kind", "id", "doc_id", "actor", "target", "gold", "predicted", "confidence",
                *(f"p_{lab}" for lab in LABELS), "text")


def error_examples(pairs: Sequence[StancePair], probs: np.ndarray, *, k: int = 20
                   ) -> dict[str, list[dict[str, Any]]]:
    """The ``k`` most confident mistakes and the ``k`` least confident right answers."""
    probs = np.asarray(probs)
    conf, pred = probs.max(axis=1), probs.argmax(axis=1)

    def row(i: int, kind: str) -> dict[str, Any]:
        p = pairs[i]
        return {"kind": kind, "id": p.id, "doc_id": p.doc_id, "actor": p.actor,
                "target": p.target, "gold": p.label, "predicted": LABELS[pred[i]],
                "confidence": round(float(conf[i]), 4),
                **{f"p_{lab}": round(float(probs[i, j]), 4) for j, lab in enumerate(LABELS)},
                "text": p.text}

    wrong = [i for i in range(len(pairs)) if LABELS[pred[i]] != pairs[i].label]
    right = [i for i in range(len(pairs)) if LABELS[pred[i]] == pairs[i].label]
    return {"confident_mistakes": [row(i, "confident_mistake")
                                   for i in sorted(wrong, key=lambda i: -conf[i])[:k]],
            "unsure_correct": [row(i, "unsure_correct")
                               for i in sorted(right, key=lambda i: conf[i])[:k]]}


def write_errors_csv(errors: dict[str, list[dict[str, Any]]], path: str | Path) -> Path:
    path = Path(path)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=ERROR_FIELDS)
        writer.writeheader()
        for rows in errors.values():
            writer.writerows(rows)
    return path


# -- the whole analysis ------------------------------------------------------------------------
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


def analyze(model: StanceClassifier, splits: dict[str, Sequence[StancePair]], *,
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
    baselines = fit_baselines(train_pairs, encoder=model.encoder) if train_pairs else {}
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
                                     f"{name}_{metric}_diff_p": c["p_value"]})
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


def evaluate(model: StanceClassifier, splits: dict[str, Sequence[StancePair]], *,
             train_pairs: Sequence[StancePair] | None = None, labels: Sequence[str] = LABELS,
             **options: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """``{split: {"stancekit": metrics, "majority": ..., "tfidf_lr": ...}}`` for each split
    (the metrics of `analyze`, which takes the same ``options``)."""
    analyses = analyze(model, splits, train_pairs=train_pairs, labels=labels, **options)
    return {name: a.metrics for name, a in analyses.items()}


# -- output ------------------------------------------------------------------------------------
def _fmt(m: dict[str, Any], key: str) -> str:
    value, ci = m[key], m.get(f"{key}_ci")
    return f"{value:.4f} [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else f"{value:.4f}"


def summary_markdown(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    """A Markdown table per split: the model beside the baselines, with 95 % bootstrap
    intervals in brackets and the paired bootstrap of the model against each baseline."""
    lines = []
    for split, systems in results.items():
        lines += [f"### {split}", "",
                  "| system | macro-F1 | F_avg | accuracy | F1 support | F1 neutral | F1 condemn "
                  "| n | stancekit - system (macro-F1) |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for system, m in systems.items():
            g = lambda k, m=m, split=split: _fmt(m, f"{split}_{k}")  # noqa: E731
            diff = ""
            if f"{split}_f1_macro_diff" in m:
                lo, hi = m[f"{split}_f1_macro_diff_ci"]
                diff = (f"{m[f'{split}_f1_macro_diff']:+.4f} [{lo:+.3f}, {hi:+.3f}], "
                        f"p={m[f'{split}_f1_macro_diff_p']:.3f}")
            lines.append(f"| {system} | {g('f1_macro')} | {g('f_avg')} | "
                         f"{m[f'{split}_accuracy']:.4f} | {g('f1_support')} | {g('f1_neutral')} | "
                         f"{g('f1_condemn')} | {m[f'{split}_n']} | {diff} |")
        model = systems[MODEL]
        cm = model[f"{split}_confusion_matrix"]
        lines += ["", "Confusion matrix of stancekit (rows: gold, columns: predicted):", "",
                  "| gold \\ pred | " + " | ".join(LABELS) + " |", "|---" * (len(LABELS) + 1) + "|"]
        lines += [f"| {lab} | " + " | ".join(str(x) for x in row) + " |"
                  for lab, row in zip(LABELS, cm, strict=True)]
        if f"{split}_ece" in model:
            lines += ["", f"Calibration: ECE {model[f'{split}_ece_uncalibrated']:.4f} -> "
                          f"{model[f'{split}_ece']:.4f}, NLL "
                          f"{model[f'{split}_nll_uncalibrated']:.4f} -> {model[f'{split}_nll']:.4f}"
                          " (before -> after temperature scaling)"]
        if f"{split}_abstain_threshold" in model:
            precision = model[f"{split}_selective_precision"]
            lines += ["", f"Abstention below {model[f'{split}_abstain_threshold']:.4f} (chosen on "
                          f"dev): coverage {model[f'{split}_coverage']:.3f}, precision "
                          + ("n/a" if precision is None else f"{precision:.3f}")]
        lines.append("")
    return "\n".join(lines)


def write_results(results: dict[str, Any], out_dir: str | Path) -> tuple[Path, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    (out / "metrics.md").write_text(summary_markdown(results), encoding="utf-8")
    return out / "metrics.json", out / "metrics.md"


def write_analysis(analyses: dict[str, SplitAnalysis], out_dir: str | Path) -> list[Path]:
    """``metrics.json``, ``metrics.md``, ``analysis.json`` (curves, slices, errors) and one
    ``errors_<split>.csv`` per split."""
    out = Path(out_dir)
    paths = list(write_results({name: a.metrics for name, a in analyses.items()}, out))
    (out / "analysis.json").write_text(
        json.dumps({name: a.to_dict() for name, a in analyses.items()}, indent=2,
                   default=_json_default), encoding="utf-8")
    paths.append(out / "analysis.json")
    for name, a in analyses.items():
        paths.append(write_errors_csv(a.errors, out / f"errors_{name}.csv"))
    return paths


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
