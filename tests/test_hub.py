"""The Hugging Face round trip: `save_pretrained` writes a directory that `from_pretrained`
loads with the same predictions; a hub id goes through the same loading path after one
download (`stancekit.hub.locate`); `push_to_hub` uploads a saved directory. No network: the
hub is monkeypatched, and a hub id offline must fail with a clear `ModelError`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stancekit import StanceClassifier
from stancekit.errors import ModelError


def test_save_pretrained_round_trip(trained_model: Path, tmp_path: Path, synthetic_pairs) -> None:
    pairs = synthetic_pairs(12, seed=4)
    clf = StanceClassifier.from_pretrained(trained_model, backend="torch")
    copy = clf.save_pretrained(tmp_path / "copy")
    again = StanceClassifier.from_pretrained(copy, backend="torch")
    assert again.predict(pairs) == clf.predict(pairs)
    assert json.loads((copy / "stancekit.json").read_text()) == \
        json.loads((trained_model / "stancekit.json").read_text())
    card = (copy / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\nlibrary_name: stancekit\n")
    # a bf16 backend holds other weights: the fp32 file of the loaded directory is copied
    bf16 = StanceClassifier.from_pretrained(trained_model, backend="torch-bf16")
    bf16.save_pretrained(tmp_path / "from-bf16")
    assert (tmp_path / "from-bf16" / "model.safetensors").read_bytes() == \
        (trained_model / "model.safetensors").read_bytes()


def test_save_pretrained_never_replaces_other_files(random_model: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep")
    clf = StanceClassifier.from_pretrained(random_model, backend="torch")
    with pytest.raises(ModelError, match=r"exists and is not a stancekit model directory"):
        clf.save_pretrained(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "keep"
    clf.save_pretrained(tmp_path / "m")
    clf.save_pretrained(tmp_path / "m")  # a model directory is replaced, as transformers does


def test_hub_id_goes_through_the_directory_path(random_model: Path, monkeypatch,
                                                synthetic_pairs) -> None:
    import huggingface_hub

    calls = []

    def fake_download(repo_id: str, **kwargs) -> str:
        calls.append((repo_id, kwargs))
        return str(random_model)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_download)
    clf = StanceClassifier.from_pretrained("someone/stance-model", backend="torch")
    assert clf.path == random_model
    assert [c[0] for c in calls] == ["someone/stance-model"]
    assert "*.safetensors" in calls[0][1]["allow_patterns"]
    assert not any("bin" in p for p in calls[0][1]["allow_patterns"])  # no pickles fetched
    local = StanceClassifier.from_pretrained(random_model, backend="torch")
    assert clf.predict(synthetic_pairs(6)) == local.predict(synthetic_pairs(6))
    assert len(calls) == 1  # a local directory is never looked up on the hub


def test_hub_id_offline_is_a_clear_error(monkeypatch, tmp_path: Path, cli_error, jsonl,
                                         good_row: dict) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError) as info:
        StanceClassifier.from_pretrained("someone/stance-model")
    assert str(info.value).startswith("someone/stance-model: not a local model directory, and "
                                      "downloading it from the Hugging Face hub failed (")
    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl(good_row))
    assert cli_error(["predict", "--model", "someone/stance-model", "--input", str(src),
                      "--output", "o.jsonl"]).startswith(
        "error: someone/stance-model: not a local model directory")
    (tmp_path / "models").mkdir()  # its first part is a local folder: a typo, not a hub id
    with pytest.raises(ModelError, match=r"^models/defualt: model directory not found"):
        StanceClassifier.from_pretrained("models/defualt")


def test_push_to_hub_uploads_a_saved_directory(random_model: Path, monkeypatch) -> None:
    import huggingface_hub

    seen: dict = {}

    class FakeApi:
        def __init__(self, token=None) -> None:
            seen["token"] = token

        def create_repo(self, repo_id, **kwargs):
            seen["create"] = (repo_id, kwargs)

        def upload_folder(self, *, folder_path, repo_id, **kwargs):
            folder = Path(folder_path)
            seen["files"] = sorted(p.name for p in folder.iterdir())
            seen["card"] = (folder / "README.md").read_text(encoding="utf-8")
            seen["upload"] = (repo_id, kwargs)
            return "commit-url"

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    clf = StanceClassifier.from_pretrained(random_model, backend="torch")
    assert clf.push_to_hub("someone/stance-model", private=True, token="t0k") == "commit-url"
    assert seen["token"] == "t0k"
    assert seen["create"] == ("someone/stance-model", {"private": True, "exist_ok": True,
                                                       "repo_type": "model"})
    assert {"README.md", "config.json", "model.safetensors", "stancekit.json",
            "tokenizer_config.json"} <= set(seen["files"])
    assert 'StanceClassifier.from_pretrained("someone/stance-model")' in seen["card"]
