"""Backends: ONNX, ONNX int8 and torch int8 keep the labels of the torch model."""

from __future__ import annotations

from pathlib import Path

import pytest

from stancekit.prediction import StanceClassifier


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8", "torch-int8"])
def test_quantised_and_onnx_backends_keep_the_labels(trained_model: Path, tmp_path: Path,
                                                     backend: str, synthetic_pairs) -> None:
    if backend.startswith("onnx"):
        pytest.importorskip("onnxruntime", reason="the 'onnx' extra is not installed")
    pairs = synthetic_pairs(200, seed=5)
    ref = StanceClassifier.from_pretrained(trained_model, backend="torch").predict(pairs)
    got = StanceClassifier.from_pretrained(trained_model, backend=backend).predict(pairs)
    agreement = sum(a.label == b.label for a, b in zip(ref, got)) / len(ref)
    assert agreement >= (1.0 if backend == "onnx" else 0.95)
    if backend == "onnx":
        assert max(abs(a.probs[k] - b.probs[k]) for a, b in zip(ref, got) for k in a.probs) < 1e-4
        assert (trained_model / "onnx" / "model.onnx").is_file()  # cached in the model directory
