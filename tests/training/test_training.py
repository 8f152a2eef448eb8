"""Training end to end on a tiny random BERT: model directory, loading, prediction, resume."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from stancekit import StanceClassifier
from stancekit.config import load_config
from stancekit.errors import DataError, ModelError, TrainingCollapsed
from stancekit.labels import LABELS
from stancekit.training import train


def tiny_config(encoder: str, out: Path, *extra: str):
    return load_config(None, [f"model.name_or_path={encoder}", f"train.output_dir={out}",
                              "train.epochs=15", "train.learning_rate=3e-3", "train.batch_size=8",
                              "train.warmup=0.0", "train.early_stopping_patience=0",
                              "encoding.max_length=48", *extra])


@pytest.fixture(scope="module")
def trained(tiny_encoder: str, tmp_path_factory: pytest.TempPathFactory,
            synthetic_pairs) -> Path:
    out = tmp_path_factory.mktemp("run") / "model"
    splits = {"train": synthetic_pairs(120), "dev": synthetic_pairs(30, seed=1)}
    return train(tiny_config(tiny_encoder, out), splits)


def test_model_directory_is_self_describing(trained: Path) -> None:
    names = {p.name for p in trained.iterdir()}
    assert {"model.safetensors", "config.json", "stancekit.json", "README.md",
            "tokenizer.json"} <= names
    assert not any(n.endswith((".bin", ".pt", ".pkl")) for n in names)
    meta = json.loads((trained / "stancekit.json").read_text())
    assert meta["labels"] == list(LABELS)
    assert meta["encoding"]["template"] == "{actor} on {target}"
    assert meta["data"]["train"]["n"] == 120 and len(meta["data"]["train"]["fingerprint"]) == 16
    assert meta["dev_metrics"]["dev_f1_macro"] > 0.5
    assert {"torch", "transformers"} <= set(meta["versions"])
    config = json.loads((trained / "config.json").read_text())
    assert config["id2label"] == {"0": "support", "1": "neutral", "2": "condemn"}
    assert not trained.with_name("model.work").exists()  # checkpoints cleaned up


def test_predict_learns_and_keeps_order(trained: Path, synthetic_pairs) -> None:
    clf = StanceClassifier.from_pretrained(trained)
    test = synthetic_pairs(30, seed=7)
    preds = clf.predict(test, batch_size=4)
    assert [p.id for p in preds] == [p.id for p in test]
    accuracy = sum(p.label == t.label for p, t in zip(preds, test)) / len(test)
    assert accuracy > 0.6
    for p in preds:
        assert set(p.probs) == set(LABELS)
        assert abs(sum(p.probs.values()) - 1) < 1e-4
    # dicts work as well as pairs
    out = clf.predict([{"actor": "Iran", "target": "the deal", "text": "Iran condemned the deal."}])
    assert out[0].label in LABELS


def test_int8_backend_agrees_mostly(trained: Path, synthetic_pairs) -> None:
    fp32 = StanceClassifier.from_pretrained(trained)
    int8 = StanceClassifier.from_pretrained(trained, backend="torch-int8")
    test = synthetic_pairs(30, seed=3)
    agree = sum(a.label == b.label for a, b in zip(fp32.predict(test), int8.predict(test)))
    assert agree >= 24


def test_same_seed_same_metrics(tiny_encoder: str, tmp_path: Path, trained: Path,
                                synthetic_pairs) -> None:
    splits = {"train": synthetic_pairs(120), "dev": synthetic_pairs(30, seed=1)}
    again = train(tiny_config(tiny_encoder, tmp_path / "again"), splits)
    a = json.loads((trained / "stancekit.json").read_text())["dev_metrics"]
    b = json.loads((again / "stancekit.json").read_text())["dev_metrics"]
    assert a["dev_f1_macro"] == pytest.approx(b["dev_f1_macro"], abs=1e-6)


def test_bf16_mixed_precision_learns_and_saves_fp32_weights(synthetic_pairs, tiny_encoder: str,
                                                            tmp_path: Path) -> None:
    from safetensors.torch import load_file

    splits = {"train": synthetic_pairs(120), "dev": synthetic_pairs(30, seed=1)}
    out = train(tiny_config(tiny_encoder, tmp_path / "bf16", "train.precision=bf16"), splits)
    meta = json.loads((out / "stancekit.json").read_text())
    assert meta["config"]["train"]["precision"] == "bf16"
    assert meta["dev_metrics"]["dev_f1_macro"] > 0.5
    weights = load_file(out / "model.safetensors")
    assert {str(t.dtype) for t in weights.values()} == {"torch.float32"}


def test_precision_auto_follows_the_hardware(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from stancekit.training import use_bf16

    assert use_bf16("bf16") and not use_bf16("fp32")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for has_bf16 in (True, False):
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda v=has_bf16: v)
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
        assert use_bf16("auto") is has_bf16


def test_a_trained_model_directory_can_be_fine_tuned_further(trained: Path, tmp_path: Path,
                                                              synthetic_pairs) -> None:
    """Intermediate training: a stancekit model directory is a valid starting encoder; its
    marker tokens are reused, not added twice, and its head is kept."""
    from transformers import AutoTokenizer

    splits = {"train": synthetic_pairs(60, seed=4), "dev": synthetic_pairs(30, seed=1)}
    again = train(tiny_config(str(trained), tmp_path / "continued", "train.epochs=2"), splits)
    assert len(AutoTokenizer.from_pretrained(again)) == len(AutoTokenizer.from_pretrained(trained))
    meta = json.loads((again / "stancekit.json").read_text())
    assert meta["dev_metrics"]["dev_f1_macro"] > 0.5  # starts from what was learnt, keeps it


def test_collapse_is_detected(tiny_encoder: str, tmp_path: Path, synthetic_pairs) -> None:
    # a learning rate of 0 cannot learn: every attempt ends at the majority class
    splits = {"train": synthetic_pairs(30), "dev": synthetic_pairs(30, seed=1)}
    cfg = tiny_config(tiny_encoder, tmp_path / "m", "train.learning_rate=0",
                      "train.collapse_retries=1", "train.epochs=1")
    with pytest.raises(TrainingCollapsed, match="no better than the majority class"):
        train(cfg, splits)
    assert not (tmp_path / "m").exists()


def test_single_label_train_split_is_refused(tiny_encoder: str, tmp_path: Path,
                                             synthetic_pairs) -> None:
    pairs = [p for p in synthetic_pairs(30) if p.label == "support"]
    with pytest.raises(DataError, match="only the label 'support'"):
        train(tiny_config(tiny_encoder, tmp_path / "m"), {"train": pairs, "dev": pairs})


def test_model_from_another_label_set_is_refused(trained: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "other"
    shutil.copytree(trained, copy)
    meta = json.loads((copy / "stancekit.json").read_text())
    meta["labels"] = ["pos", "neg"]
    (copy / "stancekit.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="trained with another label set"):
        StanceClassifier.from_pretrained(copy)


def test_train_api_checks_splits_before_any_work(tiny_encoder: str, tmp_path: Path,
                                                 synthetic_pairs) -> None:
    cfg = load_config(None, [f"model.name_or_path={tiny_encoder}",
                             f"train.output_dir={tmp_path / 'm'}"])
    pairs = synthetic_pairs(12)
    with pytest.raises(DataError, match=r"^the dev split is empty; give data.dev or a "
                       r"data.dev_fraction > 0$"):
        train(cfg, {"train": pairs})
    unlabeled = [dataclasses.replace(pairs[0], label=None), *pairs[1:]]
    with pytest.raises(DataError, match=r"^field 'label': 1 train pairs have no label, e.g. "
                       r"id 's0'$"):
        train(cfg, {"train": unlabeled, "dev": pairs})
    assert not (tmp_path / "m").exists()
