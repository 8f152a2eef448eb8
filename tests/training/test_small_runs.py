"""Small data and smoke runs still end in a model directory, with one line that says why a
step was skipped."""

from __future__ import annotations

import logging
from pathlib import Path

from stancekit import StanceClassifier
from stancekit.config import load_config
from stancekit.training import train


def _config(encoder: str, out: Path, *extra: str):
    return load_config(None, [f"model.name_or_path={encoder}", f"train.output_dir={out}",
                              "train.batch_size=8", "encoding.max_length=48", *extra])


def test_tiny_dev_skips_stacking_with_a_reason(tiny_encoder: str, tmp_path: Path,
                                               synthetic_pairs, caplog) -> None:
    splits = {"train": synthetic_pairs(48), "dev": synthetic_pairs(12, seed=1)}
    with caplog.at_level(logging.WARNING):
        out = train(_config(tiny_encoder, tmp_path / "m", "train.epochs=1",
                            "train.stack_lexical=true", "train.collapse_retries=0",
                            "train.max_steps=3"), splits)
    assert "not stacking the TF-IDF model: dev has too few pairs of" in caplog.text
    assert StanceClassifier.from_pretrained(out).stacker is None


def test_max_steps_smoke_run_writes_a_model(tiny_encoder: str, tmp_path: Path,
                                            synthetic_pairs, caplog) -> None:
    splits = {"train": synthetic_pairs(40), "dev": synthetic_pairs(20, seed=1)}
    with caplog.at_level(logging.WARNING):
        out = train(_config(tiny_encoder, tmp_path / "m", "train.max_steps=2",
                            "train.collapse_retries=0"), splits)
    assert (out / "stancekit.json").is_file()
    assert "train.max_steps=2: a smoke run" in caplog.text


def test_train_takes_dataframes_and_datasets(tiny_encoder: str, tmp_path: Path,
                                             synthetic_pairs) -> None:
    """Splits as a pandas DataFrame and a datasets Dataset, with the config's column mapping
    and label scheme; a bad row names its split, row and field before any training."""
    import datasets
    import pandas as pd
    import pytest

    from stancekit.errors import DataError

    def frame(n: int, seed: int) -> pd.DataFrame:
        rows = [{"actor": p.actor, "target": p.target, "sentence": p.text,
                 "stance": {"support": "FAVOR", "neutral": "NONE", "condemn": "AGAINST"}[p.label]}
                for p in synthetic_pairs(n, seed=seed)]
        return pd.DataFrame(rows)

    cfg = _config(tiny_encoder, tmp_path / "m", "train.max_steps=2", "train.collapse_retries=0",
                  "data.columns={text: sentence, label: stance}",
                  "data.label_scheme=favor_against")
    bad = frame(30, 0)
    bad.loc[4, "stance"] = None
    with pytest.raises(DataError) as info:
        train(cfg, {"train": bad, "dev": frame(12, 1)})
    assert str(info.value) == ("field 'stance': split 'train', DataFrame row 4: expected a label "
                               "(one of the label scheme's names), found none")
    assert not (tmp_path / "m").exists()
    out = train(cfg, {"train": frame(30, 0), "dev": datasets.Dataset.from_pandas(frame(12, 1))})
    meta = (out / "stancekit.json").read_text()
    assert '"train": {\n      "n": 30' in meta
