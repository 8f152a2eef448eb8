"""Ray Data: predictions on a cluster equal a single process's."""

from __future__ import annotations

from pathlib import Path

import pytest

from stancekit.prediction import StanceClassifier

ROOT = Path(__file__).resolve().parents[2]


def test_ray_data_predictions_equal_single_process(trained_model: Path, synthetic_pairs) -> None:
    ray = pytest.importorskip("ray", reason="the 'ray' extra is not installed")
    from stancekit.integrations.ray import predict_pairs

    pairs = synthetic_pairs(120, seed=7)
    expected = StanceClassifier.from_pretrained(trained_model).predict(pairs)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    try:
        rows = [{"id": p.id, "actor": p.actor, "target": p.target, "text": p.text} for p in pairs]
        ds = ray.data.from_items(rows, override_num_blocks=4)
        got = predict_pairs(ds, str(trained_model), concurrency=2, batch_size=32).take_all()
    finally:
        ray.shutdown()
    by_id = {r["id"]: r for r in got}
    assert len(by_id) == len(pairs)
    for pred in expected:
        row = by_id[pred.id]
        assert row["label"] == pred.label
        assert abs(row["prob_support"] - pred.probs["support"]) < 1e-5
