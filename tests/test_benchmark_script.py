"""scripts/benchmark.py's own logic: which model it may reuse, and how the table is rendered."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from stancekit.config import load_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def benchmark():
    spec = importlib.util.spec_from_file_location("benchmark_script", ROOT / "scripts" / "benchmark.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _model_dir(tmp_path: Path, config) -> Path:
    out = tmp_path / "model"
    out.mkdir()
    (out / "stancekit.json").write_text(json.dumps({"config": config.to_dict()}), encoding="utf-8")
    return out


def test_a_model_trained_with_the_same_config_is_reused(benchmark, tmp_path: Path) -> None:
    config = load_config(ROOT / "configs" / "gwsd.yaml")
    assert benchmark._trained_with_other_config(_model_dir(tmp_path, config), config) == ""


def test_a_changed_config_key_is_named_so_the_model_is_retrained(benchmark, tmp_path: Path) -> None:
    config = load_config(ROOT / "configs" / "gwsd.yaml")
    out = _model_dir(tmp_path, config)
    changed = load_config(ROOT / "configs" / "gwsd.yaml", ["train.learning_rate=1e-5"])
    assert benchmark._trained_with_other_config(out, changed) == "train.learning_rate"


def test_a_moved_model_directory_is_reused(benchmark, tmp_path: Path) -> None:
    config = load_config(ROOT / "configs" / "gwsd.yaml")
    out = _model_dir(tmp_path, load_config(ROOT / "configs" / "gwsd.yaml",
                                           ["train.output_dir=models/elsewhere"]))
    assert benchmark._trained_with_other_config(out, config) == ""


def test_a_key_newer_than_the_model_counts_as_its_default(benchmark, tmp_path: Path) -> None:
    config = load_config(ROOT / "configs" / "gwsd.yaml")
    saved = config.to_dict()
    del saved["encoding"]["target_match"]  # written before the option existed
    out = tmp_path / "model"
    out.mkdir()
    (out / "stancekit.json").write_text(json.dumps({"config": saved}), encoding="utf-8")
    assert benchmark._trained_with_other_config(out, config) == ""
    words = load_config(ROOT / "configs" / "gwsd.yaml", ["encoding.target_match=words"])
    assert benchmark._trained_with_other_config(out, words) == "encoding.target_match"


def _row(system: str, f1: float) -> dict:
    return {"split": "test", "system": system, "n": 10, "f1_macro": f1, "f_avg": f1,
            "ci_f1_macro": (f1 - 0.1, f1 + 0.1), "ci_f_avg": (f1 - 0.1, f1 + 0.1),
            "p_better": (0.2, 0.2) if system == "stancekit" else None}


def test_the_table_bolds_the_best_system_even_when_it_is_a_baseline(benchmark) -> None:
    result = {"corpus": "semeval@cross:atheism", "metric": "f1_macro", "encoder": "e",
              "reference": benchmark._reference("semeval@cross:atheism"), "train_seconds": 60,
              "n_train": 100, "stacked": False, "labels": ["support", "condemn"], "config": "c",
              "rows": [_row("stancekit", 0.30), _row("tfidf_lr", 0.50), _row("majority", 0.40)]}
    line = next(li for li in benchmark.to_markdown([result]).splitlines()
                if li.startswith("| semeval@cross:atheism"))
    assert "**0.500 [0.400, 0.600]**" in line
    assert line.count("**") == 2
    assert "leave-one-target-out" in line


def test_update_replaces_only_the_corpus_that_was_rerun(benchmark) -> None:
    old = [{"corpus": "dsa_news", "run": 1}, {"corpus": "gwsd", "run": 1}]
    assert benchmark.merge_result(old, {"corpus": "dsa_news", "run": 2}) == [
        {"corpus": "dsa_news", "run": 2}, {"corpus": "gwsd", "run": 1}]
    assert benchmark.merge_result(old, {"corpus": "pstance", "run": 2})[-1] == \
        {"corpus": "pstance", "run": 2}
