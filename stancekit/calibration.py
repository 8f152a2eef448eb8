"""Calibration: temperature scaling, expected calibration error, negative log-likelihood.

Temperature scaling (Guo et al. 2017) divides the logits by one scalar ``T`` fitted on dev
to minimise the NLL. It never changes a predicted label, only how sure the model says it is,
so an abstention threshold and an analyst's reading of "0.9" mean what they say.

Example:
    >>> fit = TemperatureScaling.fit(dev_logits, dev_labels)  # doctest: +SKIP
    >>> fit.temperature, fit.ece_before, fit.ece_after  # doctest: +SKIP
    (1.83, 0.112, 0.031)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .labels import LABEL2ID

logger = logging.getLogger(__name__)

ECE_BINS = 15
T_BOUNDS = (0.05, 20.0)


def softmax(logits: np.ndarray, temperature: float = 1.0, *, dtype: Any = np.float64
            ) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature``, computed in ``dtype`` (None: the input's)."""
    z = np.asarray(logits, dtype=dtype) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def label_ids(labels: Sequence[str | int]) -> np.ndarray:
    """Label strings (or ids) as an int array of ids."""
    return np.array([LABEL2ID[y] if isinstance(y, str) else int(y) for y in labels], dtype=int)


def nll(probs: np.ndarray, labels: Sequence[str | int]) -> float:
    """Mean negative log-likelihood of the gold labels."""
    y = label_ids(labels)
    if not len(y):
        return float("nan")
    p = np.clip(np.asarray(probs, dtype=np.float64)[np.arange(len(y)), y], 1e-12, 1.0)
    return float(-np.log(p).mean())


def reliability_bins(probs: np.ndarray, labels: Sequence[str | int], *, n_bins: int = ECE_BINS
                     ) -> list[dict[str, float | None]]:
    """Equal-width bins of confidence (the top probability): per bin its range, the number of
    predictions, their mean confidence and their accuracy (None for an empty bin)."""
    probs = np.asarray(probs, dtype=np.float64)
    y = label_ids(labels)
    conf = probs.max(axis=1) if len(y) else np.zeros(0)
    correct = probs.argmax(axis=1) == y if len(y) else np.zeros(0, dtype=bool)
    # a bin is (lower, upper]; a confidence of exactly 0 joins the first bin
    idx = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    bins = []
    for b in range(n_bins):
        mask = idx == b
        n = int(mask.sum())
        bins.append({"lower": b / n_bins, "upper": (b + 1) / n_bins, "n": n,
                     "confidence": float(conf[mask].mean()) if n else None,
                     "accuracy": float(correct[mask].mean()) if n else None})
    return bins


def ece(probs: np.ndarray, labels: Sequence[str | int], *, n_bins: int = ECE_BINS) -> float:
    """Expected calibration error: the count-weighted mean |accuracy - confidence| over
    ``n_bins`` equal-width confidence bins."""
    bins = reliability_bins(probs, labels, n_bins=n_bins)
    total = sum(b["n"] for b in bins)
    if not total:
        return float("nan")
    return float(sum(b["n"] * abs(b["accuracy"] - b["confidence"]) for b in bins if b["n"]) / total)


def fit_temperature(logits: np.ndarray, labels: Sequence[str | int], *,
                    bounds: tuple[float, float] = T_BOUNDS) -> float:
    """The temperature minimising the NLL of ``softmax(logits / T)``.

    A bounded scalar search over ``log T``: one parameter needs no gradient machinery, and the
    bounds keep a degenerate dev split (all correct, or all wrong) from sending T to 0 or inf.
    """
    from scipy.optimize import minimize_scalar

    logits = np.asarray(logits, dtype=np.float64)
    y = label_ids(labels)
    if len(y) == 0:
        raise ValueError("cannot fit a temperature on no examples")
    if logits.ndim != 2 or len(logits) != len(y):
        raise ValueError(f"logits have shape {logits.shape}, expected ({len(y)}, n_classes)")

    def loss(log_t: float) -> float:
        return nll(softmax(logits, float(np.exp(log_t))), y)

    res = minimize_scalar(loss, bounds=(np.log(bounds[0]), np.log(bounds[1])), method="bounded",
                          options={"xatol": 1e-4})
    t = float(np.exp(res.x))
    if not bounds[0] * 1.01 < t < bounds[1] / 1.01:
        logger.warning("the fitted temperature %.3g is at its bound %s: the dev logits are far "
                       "from calibrated (an undertrained or collapsed model?)", t, bounds)
    return t


@dataclass(frozen=True)
class TemperatureScaling:
    """A fitted temperature with the dev ECE and NLL before and after it.

    Attributes:
        temperature: Divide the logits by this before the softmax.
        ece_before, ece_after: Expected calibration error (15 bins) at T=1 and at ``temperature``.
        nll_before, nll_after: Mean negative log-likelihood at T=1 and at ``temperature``.
        n: Number of examples it was fitted on.
    """

    temperature: float
    ece_before: float
    ece_after: float
    nll_before: float
    nll_after: float
    n: int

    @classmethod
    def fit(cls, logits: np.ndarray, labels: Sequence[str | int]) -> TemperatureScaling:
        t = fit_temperature(logits, labels)
        before, after = softmax(logits), softmax(logits, t)
        return cls(temperature=round(t, 6), ece_before=ece(before, labels),
                   ece_after=ece(after, labels), nll_before=nll(before, labels),
                   nll_after=nll(after, labels), n=len(labels))

    def to_dict(self) -> dict[str, Any]:
        return {k: round(v, 6) if isinstance(v, float) else v for k, v in asdict(self).items()}
