"""The simulation's machinery on synthetic features (the real run is scripts/simulate_adapt.py):
rounds, the head, summaries, the figure; the feature cache with the tiny model."""

from __future__ import annotations

import numpy as np
import pytest

from stancekit.adapt.features import Features
from stancekit.adapt.simulation import (
    STRATEGIES,
    FeatureSet,
    Run,
    cache_features,
    curve_figure,
    labels_to_reach,
    markdown,
    simulate,
    summarized,
)
from stancekit.data.records import StancePair
from stancekit.labels import LABELS


def feature_set(n: int, seed: int) -> FeatureSet:
    """Three Gaussian blobs in 8 dimensions, one per label; 'logits' that know nothing."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    emb = rng.normal(size=(n, 8)) + 2.0 * np.eye(8)[y]
    pairs = [StancePair(id=f"{seed}-{i}", actor="a", target=f"t{i % 4}",
                        text=f"text number {i} of seed {seed} " + "word " * (i % 5),
                        label=LABELS[y[i]], doc_id=f"d{i // 2}") for i in range(n)]
    return FeatureSet(pairs, Features(emb.astype(np.float32), np.zeros((n, 3), np.float32)))


@pytest.mark.parametrize("name", ["uncertainty", "random", "uncertainty+clusters",
                                  "random-first-then-uncertainty"])
def test_rounds_learn_and_record(name: str) -> None:
    pool, test = feature_set(300, 0), feature_set(90, 1)
    run = simulate(pool, {"test": test}, strategy=name, options=STRATEGIES[name], seed=0,
                   rounds=3, round_size=20, c=1.0)
    assert run.labels == [0, 20, 40, 60]
    assert run.scores["test"][0] < 0.4 < run.scores["test"][-1]  # the blobs are learnable
    assert all(sum(p.values()) == 20 for p in run.picked_labels)
    assert Run.from_dict(run.to_dict()) == run


def test_summaries_reach_and_markdown() -> None:
    runs = [Run("random", s, [0, 200, 400], {"test": [0.2, 0.5, 0.6 + s / 100]}) for s in range(3)]
    runs += [Run("uncertainty", s, [0, 200, 400], {"test": [0.2, 0.62, 0.64]}) for s in range(3)]
    result = summarized({"checkpoints": [200, 400], "primary": "test"}, runs)
    assert result["summary"]["test"]["random"]["400"]["mean"] == pytest.approx(0.61)
    assert result["random_final"]["test"] == pytest.approx(0.61)
    assert result["labels_to_reach"]["test"] == {"random": 400, "uncertainty": 200}
    assert labels_to_reach(runs, "test", "uncertainty", 0.99) is None
    table = markdown(result)
    assert "| uncertainty | 0.620 ± 0.000 | 0.640 ± 0.000 |" in table
    assert "uncertainty 200" in table
    fig = curve_figure(runs, "test", title="t")
    assert len(fig.axes) == 2


def test_features_are_cached(tmp_path, untrained_model, synthetic_pairs, monkeypatch) -> None:
    from stancekit.prediction import StanceClassifier

    splits = {"pool": synthetic_pairs(8), "test": synthetic_pairs(4, seed=1)}
    first = cache_features(untrained_model, splits, tmp_path, backend="torch")
    assert first["pool"].features.embeddings.shape == (8, 32)

    def no_model(*args, **kwargs):
        raise AssertionError("the cache was not used")

    monkeypatch.setattr(StanceClassifier, "from_pretrained", no_model)
    again = cache_features(untrained_model, splits, tmp_path, backend="torch")
    np.testing.assert_array_equal(again["test"].features.logits, first["test"].features.logits)
    assert (tmp_path / "features.npz").is_file()
