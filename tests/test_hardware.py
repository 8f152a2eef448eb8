"""Devices and the automatic backend: chosen from the hardware, checked before any model loads."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import stancekit.hardware
from stancekit.backends import resolve_backend
from stancekit.errors import ConfigError, ModelError
from stancekit.hardware import resolve_device
from stancekit.prediction import StanceClassifier


def test_devices_are_checked_before_use(monkeypatch) -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ConfigError, match=r"^device: expected cpu, cuda, cuda:N or mps, found 'tpu'"):
        resolve_device("tpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    with pytest.raises(ConfigError, match=r"^device: 'cuda:1' is not available on this machine"):
        resolve_device("cuda:1")


@pytest.mark.parametrize("fast", [True, False])
def test_auto_backend_is_bf16_only_where_bf16_is_fast(monkeypatch, fast: bool) -> None:
    monkeypatch.setattr(stancekit.hardware, "fast_bf16", lambda device: fast)
    assert resolve_backend("auto", torch.device("cpu")) == ("torch-bf16" if fast else "torch")
    assert resolve_backend("torch", torch.device("cpu")) == "torch"


def test_int8_is_refused_on_a_gpu_and_unknown_backends_are_named() -> None:
    with pytest.raises(ModelError, match="torch-int8 backend runs on the CPU only"):
        resolve_backend("torch-int8", torch.device("cuda"))
    with pytest.raises(ModelError, match=r"^unknown backend 'fp8'"):
        resolve_backend("fp8", torch.device("cpu"))


def test_bf16_backend_keeps_the_labels_of_fp32(trained_model: Path, synthetic_pairs) -> None:
    pairs = synthetic_pairs(200, seed=7)
    fp32 = StanceClassifier.from_pretrained(trained_model, backend="torch", device="cpu")
    bf16 = StanceClassifier.from_pretrained(trained_model, backend="torch-bf16", device="cpu")
    assert bf16.backend == "torch-bf16" and next(bf16.model.parameters()).dtype == torch.bfloat16
    ref, got = fp32.predict(pairs), bf16.predict(pairs)
    agreement = sum(a.label == b.label for a, b in zip(ref, got)) / len(ref)
    assert agreement >= 0.95
    assert max(abs(a.probs[k] - b.probs[k]) for a, b in zip(ref, got) for k in a.probs) < 0.05
