"""Metrics: bootstrap resamples (rows or whole documents), intervals, the paired bootstrap."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from stancekit.labels import LABELS
from stancekit.metrics import (
    bootstrap_intervals,
    bootstrap_weights,
    paired_bootstrap,
    resampled_f1,
    stance_metrics,
)


def test_bootstrap_weights_resample_rows_or_whole_groups() -> None:
    w = bootstrap_weights(10, n_resamples=50, seed=1)
    assert w.shape == (50, 10) and (w.sum(axis=1) == 10).all()
    groups = ["a", "a", "b", "c", "c", "c"]
    w = bootstrap_weights(6, groups, n_resamples=200, seed=1)
    assert (w[:, 0] == w[:, 1]).all() and (w[:, 3] == w[:, 4]).all() and (w[:, 4] == w[:, 5]).all()
    assert (w[:, [0, 2, 3]].sum(axis=1) == 3).all()  # three groups drawn each time
    with pytest.raises(ValueError, match="6 rows but 2 groups"):
        bootstrap_weights(6, ["a", "b"])


def test_bootstrap_f1_matches_sklearn(noisy) -> None:
    y = [LABELS[i % 3] for i in range(90)]
    pred = noisy(y, 0.4)
    full = resampled_f1(y, pred, np.ones((1, 90)))
    m = stance_metrics(y, pred)
    for key in ("f1_macro", "f_avg", "f1_support", "f1_neutral", "f1_condemn"):
        assert full[key][0] == pytest.approx(m[key])
    # one resample = sklearn on the rows repeated by their weight
    w = bootstrap_weights(90, n_resamples=1, seed=3)
    idx = np.repeat(np.arange(90), w[0])
    ours = resampled_f1(y, pred, w, labels=("support", "condemn"))["f1_macro"][0]
    assert ours == pytest.approx(f1_score([y[i] for i in idx], [pred[i] for i in idx],
                                          labels=["support", "condemn"], average="macro",
                                          zero_division=0))


def test_intervals_hold_the_estimate_and_shrink_with_more_data(noisy) -> None:
    y = [LABELS[i % 3] for i in range(600)]
    pred = noisy(y, 0.5)
    point = stance_metrics(y, pred)["f1_macro"]
    wide = bootstrap_intervals(y[:60], pred[:60])["f1_macro"]
    narrow = bootstrap_intervals(y, pred)["f1_macro"]
    assert narrow[0] < point < narrow[1]
    assert narrow[1] - narrow[0] < wide[1] - wide[0]
    assert set(bootstrap_intervals(y, pred)) == {"f1_macro", "f_avg", "f1_support", "f1_neutral",
                                                 "f1_condemn"}


def test_paired_bootstrap_tells_a_real_difference_from_none(noisy) -> None:
    y = [LABELS[i % 3] for i in range(300)]
    good, bad = noisy(y, 0.2, seed=1), noisy(y, 0.8, seed=2)
    real = paired_bootstrap(y, good, bad)["f1_macro"]
    assert real["diff"] > 0.3 and real["ci"][0] > 0 and real["p_value"] < 0.01
    same = paired_bootstrap(y, good, good)
    assert same["f1_macro"] == {"diff": 0.0, "ci": [0.0, 0.0], "p_value": 1.0}
    close = paired_bootstrap(y, good, noisy(y, 0.22, seed=3))["f1_macro"]
    assert close["ci"][0] < 0 < close["ci"][1]


def test_p_values_are_never_written_as_zero() -> None:
    from stancekit.metrics import format_p

    assert format_p(0.0, 1000) == "p < 0.002"  # two-sided: 2 / 1000 is the smallest it can show
    assert format_p(0.0, 100_000) == "p < 0.001"
    assert format_p(0.0) == "p < 0.001"
    assert format_p(0.0426, 1000) == "p = 0.043"
