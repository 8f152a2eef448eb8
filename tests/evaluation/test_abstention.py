"""Abstention: the risk-coverage curve and the threshold that reaches a target precision."""

from __future__ import annotations

import numpy as np
import pytest

from stancekit.evaluation.abstention import aurc, risk_coverage, selective, threshold_for_precision

PROBS = np.array([[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1]])
GOLD = ["support", "support", "condemn", "support"]  # the third is wrong


def test_risk_coverage_curve() -> None:
    curve = risk_coverage(PROBS, GOLD)
    assert [(p["threshold"], p["coverage"], p["n_kept"]) for p in curve] == [
        (0.9, 0.25, 1), (0.8, 0.75, 3), (0.6, 1.0, 4)]  # the two 0.8s stand or fall together
    assert [p["precision"] for p in curve] == pytest.approx([1.0, 2 / 3, 0.75])
    assert [p["risk"] for p in curve] == pytest.approx([0.0, 1 / 3, 0.25])
    assert aurc(curve) == pytest.approx(0.25 * 0 + 0.5 * (1 / 3) + 0.25 * 0.25)


def test_threshold_for_precision_maximises_coverage() -> None:
    assert threshold_for_precision(PROBS, GOLD, 0.95)["threshold"] == 0.9
    assert threshold_for_precision(PROBS, GOLD, 0.7) == {
        "threshold": 0.6, "coverage": 1.0, "precision": 0.75, "risk": 0.25, "n_kept": 4}
    assert threshold_for_precision(PROBS, ["neutral"] * 4, 0.5) is None
    assert selective(PROBS, GOLD, 0.8) == {"threshold": 0.8, "coverage": 0.75,
                                           "precision": pytest.approx(2 / 3), "n_kept": 3}
    assert selective(PROBS, GOLD, 0.95)["precision"] is None
