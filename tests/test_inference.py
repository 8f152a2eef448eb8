"""Batch inference at scale: resume after kill -9, shards, ONNX backends, Ray Data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import synthetic_pairs

from stancekit.config import load_config
from stancekit.prediction import StanceClassifier
from stancekit.streaming import predict_file
from stancekit.training import train

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def model_dir(tiny_encoder: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("inference") / "model"
    config = load_config(None, ["data.corpus=files", f"model.name_or_path={tiny_encoder}",
                                f"train.output_dir={out}", "train.epochs=15",
                                "train.learning_rate=3e-3", "train.batch_size=8",
                                "train.early_stopping_patience=0", "encoding.max_length=48"])
    train(config, {"train": synthetic_pairs(120), "dev": synthetic_pairs(30, seed=1)})
    return out


def write_pairs(path: Path, n: int) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for i, p in enumerate(synthetic_pairs(n, seed=3)):
            row = p.to_dict()
            row["id"] = f"p{i}"
            fh.write(json.dumps(row) + "\n")
    return path


def ids_of(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text().splitlines()]


def test_killed_prediction_resumes_with_every_id_once(model_dir: Path, tmp_path: Path) -> None:
    src = write_pairs(tmp_path / "in.jsonl", 6000)
    out = tmp_path / "out.jsonl"
    cmd = [sys.executable, "-m", "stancekit.cli", "predict", "--model", str(model_dir), "--input",
           str(src), "--output", str(out), "--chunk-size", "100", "--batch-size", "16"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    record = out.with_name("out.jsonl.progress.json")
    deadline = time.time() + 120
    while time.time() < deadline:
        if record.is_file() and json.loads(record.read_text() or "{}").get("pairs", 0) >= 300:
            break
        if proc.poll() is not None:
            pytest.fail("the prediction run ended before it could be killed")
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists() and out.with_name("out.jsonl.partial").exists()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "resumed after" in done.stdout
    ids = ids_of(out)
    assert ids == [f"p{i}" for i in range(6000)]  # every id once, in input order
    assert not record.exists()
    # the same as an uninterrupted run: same labels; probabilities up to float rounding, which
    # moves with the thread count and the batch shapes (this process runs one torch thread)
    clean = tmp_path / "clean.jsonl"
    predict_file(StanceClassifier.from_pretrained(model_dir), src, clean, progress=False)
    expected = [json.loads(line) for line in clean.read_text().splitlines()]
    resumed = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["label"] for r in resumed] == [r["label"] for r in expected]
    for got, want in zip(resumed, expected):
        assert got["probs"] == pytest.approx(want["probs"], abs=1e-4), got["id"]


def test_shards_cover_the_input_exactly_once(model_dir: Path, tmp_path: Path) -> None:
    src = write_pairs(tmp_path / "in.jsonl", 500)
    clf = StanceClassifier.from_pretrained(model_dir)
    whole = tmp_path / "all.jsonl"
    predict_file(clf, src, whole, progress=False)
    shards = []
    for i in range(3):
        part = tmp_path / f"part{i}.jsonl"
        counts = predict_file(clf, src, part, num_shards=3, shard_index=i, progress=False)
        assert counts["predicted"] > 100
        shards += part.read_text().splitlines()
    assert sorted(shards) == sorted(whole.read_text().splitlines())


def test_finished_output_is_not_resumed_or_overwritten(model_dir: Path, tmp_path: Path) -> None:
    from stancekit.errors import DataError

    src = write_pairs(tmp_path / "in.jsonl", 20)
    out = tmp_path / "out.jsonl"
    clf = StanceClassifier.from_pretrained(model_dir)
    predict_file(clf, src, out, progress=False)
    with pytest.raises(DataError, match="output file exists"):
        predict_file(clf, src, out, progress=False)


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8", "torch-int8"])
def test_quantised_and_onnx_backends_keep_the_labels(model_dir: Path, tmp_path: Path,
                                                     backend: str) -> None:
    if backend.startswith("onnx"):
        pytest.importorskip("onnxruntime", reason="the 'onnx' extra is not installed")
    pairs = synthetic_pairs(200, seed=5)
    ref = StanceClassifier.from_pretrained(model_dir).predict(pairs)
    got = StanceClassifier.from_pretrained(model_dir, backend=backend).predict(pairs)
    agreement = sum(a.label == b.label for a, b in zip(ref, got)) / len(ref)
    assert agreement >= (1.0 if backend == "onnx" else 0.95)
    if backend == "onnx":
        assert max(abs(a.probs[k] - b.probs[k]) for a, b in zip(ref, got) for k in a.probs) < 1e-4
        assert (model_dir / "onnx" / "model.onnx").is_file()  # cached in the model directory


def test_ray_data_predictions_equal_single_process(model_dir: Path) -> None:
    ray = pytest.importorskip("ray", reason="the 'ray' extra is not installed")
    from stancekit.integrations.ray import predict_pairs

    pairs = synthetic_pairs(120, seed=7)
    expected = StanceClassifier.from_pretrained(model_dir).predict(pairs)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    try:
        rows = [{"id": p.id, "actor": p.actor, "target": p.target, "text": p.text} for p in pairs]
        ds = ray.data.from_items(rows, override_num_blocks=4)
        got = predict_pairs(ds, str(model_dir), concurrency=2, batch_size=32).take_all()
    finally:
        ray.shutdown()
    by_id = {r["id"]: r for r in got}
    assert len(by_id) == len(pairs)
    for pred in expected:
        row = by_id[pred.id]
        assert row["label"] == pred.label
        assert abs(row["prob_support"] - pred.probs["support"]) < 1e-5
