"""Abstention: the risk-coverage curve, the threshold that reaches a precision, and what
abstaining below a threshold gives."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..labels import LABELS

DEFAULT_PRECISION = 0.95


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
