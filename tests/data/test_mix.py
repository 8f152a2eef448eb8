"""``data.mix``: a public corpus mixed into training when it is there, one warning when not."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from stancekit import load_config
from stancekit.data.splits import load_splits
from stancekit.errors import ConfigError

# invented sentences in the dsa_news file format (sentence, p, q, label 0-4), no real data
ROWS = ["[Aldoria] praised [Belmont] for the ceasefire deal .\tAldoria\tBelmont\t1",
        "[Corvan] blamed [Dunmere] for the strike .\tCorvan\tDunmere\t3",
        "[Eskar] met [Fallow] in the capital .\tEskar\tFallow\t0",
        "[Garrow] was criticised by [Hesk] over the tariffs .\tGarrow\tHesk\t4"]


@pytest.fixture
def fake_datasets(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "datasets" / "dsa_news"
    folder.mkdir(parents=True)
    (folder / "train.txt").write_text("\n".join(ROWS * 10) + "\n", encoding="utf-8")
    (folder / "valid.txt").write_text("\n".join(ROWS) + "\n", encoding="utf-8")
    monkeypatch.setenv("STANCEKIT_DATASETS", str(tmp_path / "datasets"))
    return folder


@pytest.fixture
def own_data(tmp_path: Path, synthetic_pairs, write_pairs) -> list[str]:
    path = write_pairs(tmp_path / "own.jsonl", synthetic_pairs(30))
    return ["data.corpus=files", f"data.train={path}"]


def test_mixed_corpus_adds_train_dev_and_its_evaluation_splits(fake_datasets: Path,
                                                               own_data: list[str]) -> None:
    plain = load_splits(load_config(None, own_data).data)
    mixed = load_splits(load_config(None, [*own_data, "data.mix={dsa_news: 0.5}"]).data)
    added = len(mixed["train"]) + len(mixed["dev"]) - len(plain["train"]) - len(plain["dev"])
    assert added == 40  # half of the 40 rows, both directions
    assert {p.meta["corpus"] for p in mixed["train"][len(plain["train"]):]} == {"dsa_news"}
    assert len(mixed["dsa_news:valid"]) == 4 and len(mixed["dsa_news:valid_both"]) == 8


def test_absent_corpus_trains_without_it_and_says_so(tmp_path: Path, monkeypatch, caplog,
                                                     own_data: list[str]) -> None:
    monkeypatch.setenv("STANCEKIT_DATASETS", str(tmp_path / "nowhere"))
    with caplog.at_level(logging.WARNING):
        splits = load_splits(load_config(None, [*own_data, "data.mix={dsa_news: 1.0}"]).data)
    assert len(splits["train"]) + len(splits["dev"]) == 30
    assert "data.mix: dsa_news is not available" in caplog.text


@pytest.mark.parametrize("value, message", [
    ("{semeval: 0.5}", "unknown corpora ['semeval']"),
    ("{dsa_news: 0}", "expected shares in (0, 1]")])
def test_mix_values_are_validated(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        load_config(None, [f"data.mix={value}"])
