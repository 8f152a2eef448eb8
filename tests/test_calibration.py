"""Calibration: ECE, NLL, reliability bins, temperature scaling fitted on dev (of the
transformer or of the stacker), and the stored temperature applied at prediction."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from stancekit import StanceClassifier, StancePair
from stancekit.calibration import (
    TemperatureScaling,
    ece,
    fit_temperature,
    nll,
    reliability_bins,
    softmax,
)
from stancekit.labels import LABELS
from stancekit.stacking import stack
from stancekit.training.fit import calibrate as _calibrate


def overconfident_logits(n: int, scale: float, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Labels drawn from softmax(z); the logits handed over are ``scale * z``."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.5, size=(n, 3))
    p = softmax(z)
    y = [LABELS[rng.choice(3, p=row)] for row in p]
    return scale * z, y


def test_ece_and_nll_known_values() -> None:
    probs = np.tile([0.9, 0.05, 0.05], (10, 1))
    nine_right = ["support"] * 9 + ["condemn"]
    assert ece(probs, nine_right) == pytest.approx(0.0, abs=1e-12)
    assert ece(probs, ["condemn"] * 10) == pytest.approx(0.9)
    assert nll(probs, ["support"] * 10) == pytest.approx(-np.log(0.9))
    assert nll(probs, [0] * 10) == pytest.approx(-np.log(0.9))  # ids work too
    # two bins: half at 0.9 (all right) and half at 0.6 (half right) -> (0.1 + 0.1) / 2
    probs = np.array([[0.9, 0.05, 0.05]] * 2 + [[0.6, 0.3, 0.1]] * 2)
    assert ece(probs, ["support", "support", "support", "neutral"]) == pytest.approx(0.1)


def test_reliability_bins_have_fifteen_equal_bins() -> None:
    probs = np.array([[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0.0]])
    bins = reliability_bins(probs, ["support", "support", "neutral"])
    assert len(bins) == 15 and bins[0]["lower"] == 0 and bins[-1]["upper"] == 1
    assert sum(b["n"] for b in bins) == 3
    assert bins[-1]["n"] == 1 and bins[-1]["accuracy"] == 1.0  # confidence 1.0: the last bin
    assert bins[1]["n"] == 0 and bins[1]["accuracy"] is None  # empty bins say so


def test_temperature_recovers_the_scale_of_overconfident_logits() -> None:
    logits, y = overconfident_logits(3000, scale=3.0)
    fit = TemperatureScaling.fit(logits, y)
    assert fit.temperature == pytest.approx(3.0, rel=0.15)
    assert fit.ece_after < fit.ece_before / 2
    assert fit.nll_after < fit.nll_before
    assert fit.n == 3000
    # temperature never changes a label
    assert (softmax(logits, fit.temperature).argmax(1) == logits.argmax(1)).all()
    d = fit.to_dict()
    assert set(d) == {"temperature", "ece_before", "ece_after", "nll_before", "nll_after", "n"}


def test_underconfident_logits_get_a_temperature_below_one() -> None:
    logits, y = overconfident_logits(2000, scale=0.5, seed=1)
    assert fit_temperature(logits, y) == pytest.approx(0.5, rel=0.15)


def test_temperature_is_bounded_and_checked(caplog: pytest.LogCaptureFixture) -> None:
    # confidently wrong every time: the NLL keeps falling as T grows; the bound stops it
    logits = np.array([[5.0, 0.0, 0.0], [0.0, 5.0, 0.0], [0.0, 0.0, 5.0]])
    with caplog.at_level(logging.WARNING, logger="stancekit.calibration"):
        t = fit_temperature(logits, ["neutral", "condemn", "support"])
    assert t == pytest.approx(20.0, rel=0.02)
    assert "at its bound" in caplog.text
    # right every time: sharper is better, towards the lower bound
    assert fit_temperature(logits, list(LABELS)) < 0.2
    with pytest.raises(ValueError, match="cannot fit a temperature on no examples"):
        fit_temperature(np.zeros((0, 3)), [])
    with pytest.raises(ValueError, match=r"logits have shape \(2, 3\), expected \(3, n_classes\)"):
        fit_temperature(np.zeros((2, 3)), list(LABELS))


def test_calibrate_fits_the_transformer_without_a_stacker() -> None:
    logits, y = overconfident_logits(300, scale=2.0)
    dev = [StancePair(id=str(i), actor="a", target="b", text="c", label=lab)
           for i, lab in enumerate(y)]
    result = {"stacker": None, "dev_logits": logits}
    cal = _calibrate(result, dev)
    assert cal["applies_to"] == "transformer" and cal["split"] == "dev"
    assert result["temperature"] == cal["temperature"] > 1.2
    assert cal["ece_after"] < cal["ece_before"]


def test_calibrate_fits_the_stacker_when_it_is_what_predictions_return() -> None:
    logits, y = overconfident_logits(300, scale=2.0, seed=3)
    dev = [StancePair(id=str(i), actor="a", target="b", text="c", label=lab)
           for i, lab in enumerate(y)]
    stacker = {"coef": np.eye(3, 6).tolist(), "intercept": [0.0, 0.0, 0.0]}
    result = {"stacker": stacker, "dev_logits": np.zeros_like(logits), "stack_dev_logits": logits}
    cal = _calibrate(result, dev)
    assert cal["applies_to"] == "stacker"
    assert "temperature" not in result  # the transformer's input to the stacker stays at T=1
    assert stacker["temperature"] == cal["temperature"] > 1.2


def test_stacker_temperature_flattens_what_is_returned() -> None:
    transformer = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    lexical = np.array([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]])
    stacker = {"coef": np.hstack([np.eye(3), np.eye(3)]).tolist(), "intercept": [0.0] * 3}
    plain = stack(transformer, lexical, stacker)
    hot = stack(transformer, lexical, {**stacker, "temperature": 2.0})
    assert (plain.argmax(1) == hot.argmax(1)).all()
    assert (hot.max(1) < plain.max(1)).all()
    raw = stack(transformer, lexical, {**stacker, "temperature": 2.0}, calibrated=False)
    np.testing.assert_allclose(raw, plain)


def test_the_stored_temperature_is_used(untrained_model: Path, tmp_path: Path,
                                        synthetic_pairs) -> None:
    import shutil

    sharp = tmp_path / "sharp"
    shutil.copytree(untrained_model, sharp)
    meta = json.loads((sharp / "stancekit.json").read_text())
    meta["temperature"] = 0.1
    (sharp / "stancekit.json").write_text(json.dumps(meta))
    pairs = synthetic_pairs(9)
    base = StanceClassifier.from_pretrained(untrained_model)
    cold = StanceClassifier.from_pretrained(sharp)
    logits = cold.logits(pairs)
    np.testing.assert_allclose(cold.postprocess(logits, pairs),
                               softmax(logits, 0.1), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(cold.postprocess(logits, pairs, calibrated=False),
                               base.predict_proba(pairs), rtol=1e-4, atol=1e-6)
    assert [p.label for p in cold.predict(pairs)] == [p.label for p in base.predict(pairs)]
