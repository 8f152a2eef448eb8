"""Config: every shipped file validates; all problems are reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from stancekit.config import Config, describe, load_config
from stancekit.errors import ConfigError

CONFIGS = sorted((Path(__file__).resolve().parent.parent / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_shipped_config_validates(path: Path) -> None:
    assert isinstance(load_config(path), Config)


def test_configs_exist() -> None:
    assert {p.name for p in CONFIGS} >= {"default.yaml", "dsa_news.yaml"}


def test_overrides_and_types(tmp_path: Path) -> None:
    cfg = load_config(CONFIGS[0], ["train.epochs=2", "train.learning_rate=3e-5",
                                   "encoding.actor_markers=[<a>, </a>]", "data.corpus=files",
                                   "data.train=x.jsonl"])
    assert cfg.train.epochs == 2.0 and isinstance(cfg.train.epochs, float)
    assert cfg.train.learning_rate == 3e-5
    assert cfg.encoding.actor_markers == ("<a>", "</a>")


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("train:\n  epochz: 3\n  batch_size: -1\n  seed: abc\nmodel:\n  name: x\n"
                    "extra: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert text.startswith(f"{path}: 5 problem(s) in the configuration:")
    assert "unknown section 'extra'" in text
    assert "train.epochz: unknown config key; known keys are" in text
    assert "train.batch_size: expected a value >= 1, found -1" in text
    assert "train.seed: expected int, found str 'abc'" in text
    assert "model.name: unknown config key" in text


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "none.yaml")
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="expected a mapping of sections"):
        load_config(path)
    path.write_text("train: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)
    with pytest.raises(ConfigError, match="expected section.key=value"):
        load_config(None, ["epochs=3"])
    with pytest.raises(ConfigError, match=r"train.class_weights: expected one of \['none', 'balanced'\]"):
        load_config(None, ["train.class_weights=auto"])
    with pytest.raises(ConfigError, match="train.resume: expected bool, found str"):
        load_config(None, ["train.resume=maybe"])


def test_resolved_config_round_trips() -> None:
    from stancekit.config import config_from_dict

    cfg = load_config(CONFIGS[0])
    assert config_from_dict(cfg.to_dict()) == cfg


def test_describe_lists_every_key() -> None:
    table = describe()
    assert "`train.learning_rate`" in table and "`encoding.template`" in table
