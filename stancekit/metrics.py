"""Stance metrics from scikit-learn: macro-F1 (primary), F_avg, accuracy, per class, confusion."""

from __future__ import annotations

from collections.abc import Sequence

from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

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
