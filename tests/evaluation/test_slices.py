"""Slices (target, actor, source corpus, length) and the most telling errors."""

from __future__ import annotations

import numpy as np
import pytest

from stancekit.evaluation.slices import ERROR_FIELDS, error_examples, length_bucket, slice_metrics
from stancekit.labels import LABELS


def test_slices_cover_every_pair_with_counts(corpus_pairs, noisy, synthetic_pairs) -> None:
    pairs = corpus_pairs(40)
    pred = noisy([p.label for p in pairs], 0.3)
    probs = np.full((40, 3), 0.2) + np.eye(3)[[LABELS.index(x) for x in pred]] * 0.4
    slices = slice_metrics(pairs, pred, probs)
    assert set(slices) == {"target", "actor", "corpus", "length"}
    for rows in slices.values():
        assert sum(r["n"] for r in rows) == 40
        assert all(sum(r[f"n_{lab}"] for lab in LABELS) == r["n"] for r in rows)
    assert [r["corpus"] for r in slices["corpus"]] == ["courts", "trade"]  # by size
    courts = slices["corpus"][0]
    idx = [i for i, p in enumerate(pairs) if p.meta["domain"] == "courts"]
    assert courts["n"] == 30 and courts["accuracy"] == pytest.approx(
        np.mean([pred[i] == pairs[i].label for i in idx]))
    assert courts["mean_confidence"] == pytest.approx(0.6)
    assert [r["length"] for r in slices["length"]] == ["<25 words", "50-99 words", "100+ words"]
    # no corpus in meta: no corpus table
    assert "corpus" not in slice_metrics(synthetic_pairs(6), ["support"] * 6, probs[:6])


def test_slice_macro_f1_uses_only_the_classes_present(synthetic_pairs) -> None:
    pairs = [p for p in synthetic_pairs(9) if p.label != "neutral"]
    y = [p.label for p in pairs]
    rows = slice_metrics(pairs, y, np.full((len(y), 3), 1 / 3))["length"]
    assert rows[0]["f1_macro"] == 1.0 and rows[0]["f1_neutral"] is None


def test_length_buckets() -> None:
    assert length_bucket("one two") == "<25 words"
    assert length_bucket("w " * 25) == "25-49 words"
    assert length_bucket("w " * 120) == "100+ words"


def test_error_examples_are_ordered_by_confidence(synthetic_pairs) -> None:
    pairs = synthetic_pairs(6)  # gold: support neutral condemn support neutral condemn
    probs = np.array([[0.2, 0.7, 0.1], [0.1, 0.5, 0.4], [0.9, 0.05, 0.05],
                      [0.4, 0.35, 0.25], [0.3, 0.6, 0.1], [0.1, 0.1, 0.8]])
    errors = error_examples(pairs, probs, k=2)
    assert [r["id"] for r in errors["confident_mistakes"]] == ["s2", "s0"]
    assert [r["id"] for r in errors["unsure_correct"]] == ["s3", "s1"]
    row = errors["confident_mistakes"][0]
    assert set(row) == set(ERROR_FIELDS)
    assert (row["actor"], row["gold"], row["predicted"], row["confidence"]) == (
        pairs[2].actor, "condemn", "support", 0.9)
