"""Stance metrics from scikit-learn: macro-F1 (primary), F_avg, accuracy, per class, confusion."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from .labels import CONDEMN, LABELS, SUPPORT

PRIMARY_METRIC = "f1_macro"


def stance_metrics(y_true: Sequence[str], y_pred: Sequence[str], *, prefix: str = "",
                   labels: Sequence[str] = LABELS) -> dict[str, float | list]:
    """Metrics of label strings.

    ``f_avg`` is the mean of F1(support) and F1(condemn), SemEval-2016's measure. Keys
    are prefixed (``test_f1_macro``) when ``prefix`` is given.

    Args:
        labels: The classes macro-F1 averages over; a two-way corpus passes
            ``("support", "condemn")`` so that ``neutral`` predictions count as errors.
    """
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}")
    p, r, f, n = precision_recall_fscore_support(y_true, y_pred, labels=list(LABELS),
                                                 zero_division=0)
    out: dict[str, float | list] = {
        "f1_macro": float(f1_score(y_true, y_pred, labels=list(labels), average="macro",
                                   zero_division=0)),
        "f_avg": float(f1_score(y_true, y_pred, labels=[SUPPORT, CONDEMN], average="macro",
                                zero_division=0)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "n": len(y_true),
    }
    for i, label in enumerate(LABELS):
        out[f"precision_{label}"] = float(p[i])
        out[f"recall_{label}"] = float(r[i])
        out[f"f1_{label}"] = float(f[i])
        out[f"support_{label}"] = int(n[i])
    out["confusion_matrix"] = confusion_matrix(y_true, y_pred, labels=list(LABELS)).tolist()
    return {f"{prefix}_{k}" if prefix else k: v for k, v in out.items()}


# -- bootstrap -----------------------------------------------------------------------------------
# The resampled scores are computed from confusion matrices, vectorised over all resamples:
# calling scikit-learn 1000 times per metric and system would take minutes for what numpy
# does in milliseconds. `test_bootstrap_f1_matches_sklearn` pins the two to the same numbers.

BOOTSTRAP_METRICS = ("f1_macro", "f_avg", *(f"f1_{label}" for label in LABELS))


def bootstrap_weights(n: int, groups: Sequence[str] | None = None, *, n_resamples: int = 1000,
                      seed: int = 0) -> np.ndarray:
    """``(n_resamples, n)`` multiplicities of each row in each bootstrap resample.

    With ``groups`` (e.g. the ``doc_id`` of each pair) whole groups are drawn with replacement,
    so that pairs from one article move together: they are not independent evidence.
    """
    rng = np.random.default_rng(seed)
    if groups is None:
        draws = rng.integers(0, n, size=(n_resamples, n))
        return _row_counts(draws, n)
    if len(groups) != n:
        raise ValueError(f"{n} rows but {len(groups)} groups")
    names, group_of_row = np.unique(np.asarray(groups, dtype=str), return_inverse=True)
    draws = rng.integers(0, len(names), size=(n_resamples, len(names)))
    return _row_counts(draws, len(names))[:, group_of_row]


def _row_counts(draws: np.ndarray, size: int) -> np.ndarray:
    b = draws.shape[0]
    flat = (draws + size * np.arange(b)[:, None]).ravel()
    return np.bincount(flat, minlength=b * size).reshape(b, size).astype(np.int32)


def resampled_f1(y_true: Sequence[str], y_pred: Sequence[str], weights: np.ndarray, *,
                 labels: Sequence[str] = LABELS) -> dict[str, np.ndarray]:
    """Each of `BOOTSTRAP_METRICS` for every resample (one row of ``weights`` each), with
    scikit-learn's conventions: F1 = 2TP / (2TP + FP + FN), 0 when undefined."""
    k = len(LABELS)
    t = np.array([LABELS.index(y) for y in y_true])
    p = np.array([LABELS.index(y) for y in y_pred])
    onehot = np.zeros((len(t), k * k))
    onehot[np.arange(len(t)), t * k + p] = 1.0
    # (resamples, gold, predicted), in chunks: a float copy of all weights at once can be large
    cm = np.concatenate([weights[i:i + 100] @ onehot for i in range(0, len(weights), 100)]
                        ).reshape(-1, k, k)
    tp = np.diagonal(cm, axis1=1, axis2=2)
    denom = cm.sum(axis=2) + cm.sum(axis=1)  # 2TP + FP + FN
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    idx = [LABELS.index(lab) for lab in labels]
    out = {"f1_macro": f1[:, idx].mean(axis=1),
           "f_avg": f1[:, [LABELS.index(SUPPORT), LABELS.index(CONDEMN)]].mean(axis=1)}
    out.update({f"f1_{lab}": f1[:, i] for i, lab in enumerate(LABELS)})
    return out


def bootstrap_intervals(y_true: Sequence[str], y_pred: Sequence[str], *,
                        groups: Sequence[str] | None = None, labels: Sequence[str] = LABELS,
                        n_resamples: int = 1000, confidence: float = 0.95, seed: int = 0,
                        weights: np.ndarray | None = None) -> dict[str, list[float]]:
    """Percentile bootstrap intervals ``{metric: [low, high]}`` of `BOOTSTRAP_METRICS`.

    Args:
        groups: Resample these units (``doc_id``) instead of single rows.
        weights: Precomputed `bootstrap_weights` (to share resamples between systems).
    """
    if weights is None:
        weights = bootstrap_weights(len(y_true), groups, n_resamples=n_resamples, seed=seed)
    tail = 100 * (1 - confidence) / 2
    return {m: [float(np.percentile(v, tail)), float(np.percentile(v, 100 - tail))]
            for m, v in resampled_f1(y_true, y_pred, weights, labels=labels).items()}


def paired_bootstrap(y_true: Sequence[str], pred_a: Sequence[str], pred_b: Sequence[str], *,
                     groups: Sequence[str] | None = None, labels: Sequence[str] = LABELS,
                     metrics: Sequence[str] = ("f1_macro", "f_avg"), n_resamples: int = 1000,
                     confidence: float = 0.95, seed: int = 0,
                     weights: np.ndarray | None = None) -> dict[str, dict[str, Any]]:
    """Is system A really better than system B on these rows? Both are scored on the same
    resamples, and the difference A - B is summarised per metric.

    Returns:
        ``{metric: {"diff": A - B on all rows, "ci": [low, high] of the difference,
        "p_value": two-sided share of resamples where the difference has the other sign}}``.
        A difference whose interval excludes 0 is unlikely to be an accident of the sample.
    """
    if weights is None:
        weights = bootstrap_weights(len(y_true), groups, n_resamples=n_resamples, seed=seed)
    a = resampled_f1(y_true, pred_a, weights, labels=labels)
    b = resampled_f1(y_true, pred_b, weights, labels=labels)
    full = np.ones((1, len(y_true)))
    point_a = resampled_f1(y_true, pred_a, full, labels=labels)
    point_b = resampled_f1(y_true, pred_b, full, labels=labels)
    tail = 100 * (1 - confidence) / 2
    out = {}
    for m in metrics:
        d = a[m] - b[m]
        p = 2 * min(float((d <= 0).mean()), float((d >= 0).mean()))
        out[m] = {"diff": float(point_a[m][0] - point_b[m][0]),
                  "ci": [float(np.percentile(d, tail)), float(np.percentile(d, 100 - tail))],
                  "p_value": min(1.0, p)}
    return out


def format_p(p: float, n_resamples: int | None = None) -> str:
    """A bootstrap p-value as text: ``p = 0.043``, or ``p < 0.002`` when it is below what
    ``n_resamples`` can resolve (two-sided: 2 / n) or below 0.001 — never ``p = 0.000``."""
    floor = max(0.001, 2 / n_resamples) if n_resamples else 0.001
    return f"p < {floor:.3f}" if p < floor else f"p = {p:.3f}"
