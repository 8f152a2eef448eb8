"""`stancekit.evaluation.benchmark`: which model it may reuse, which runs it makes, and how the
table is rendered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stancekit.config import load_config
from stancekit.errors import UsageError
from stancekit.evaluation.benchmark import (
    benchmark_jobs,
    merge_result,
    reference,
    to_markdown,
    trained_with_other_config,
)

ROOT = Path(__file__).resolve().parents[2]


def _model_dir(tmp_path: Path, config) -> Path:
    out = tmp_path / "model"
    out.mkdir()
    (out / "stancekit.json").write_text(json.dumps({"config": config.to_dict()}), encoding="utf-8")
    return out


def test_a_model_trained_with_the_same_config_is_reused(tmp_path: Path) -> None:
    config = load_config(ROOT / "configs" / "gwsd.yaml")
    assert trained_with_other_config(_model_dir(tmp_path, config), config) == ""


def test_a_changed_config_key_is_named_so_the_model_is_retrained(tmp_path: Path) -> None:
    config = load_config(ROOT / "configs" / "gwsd.yaml")
    out = _model_dir(tmp_path, config)
    changed = load_config(ROOT / "configs" / "gwsd.yaml", ["train.learning_rate=1e-5"])
    assert trained_with_other_config(out, changed) == "train.learning_rate"


def test_a_moved_model_directory_is_reused(tmp_path: Path) -> None:
    config = load_config(ROOT / "configs" / "gwsd.yaml")
    out = _model_dir(tmp_path, load_config(ROOT / "configs" / "gwsd.yaml",
                                           ["train.output_dir=models/elsewhere"]))
    assert trained_with_other_config(out, config) == ""


def test_a_key_newer_than_the_model_counts_as_its_default(tmp_path: Path) -> None:
    config = load_config(ROOT / "configs" / "gwsd.yaml")
    saved = config.to_dict()
    del saved["encoding"]["target_match"]  # written before the option existed
    out = tmp_path / "model"
    out.mkdir()
    (out / "stancekit.json").write_text(json.dumps({"config": saved}), encoding="utf-8")
    assert trained_with_other_config(out, config) == ""
    words = load_config(ROOT / "configs" / "gwsd.yaml", ["encoding.target_match=words"])
    assert trained_with_other_config(out, words) == "encoding.target_match"


def _row(system: str, f1: float) -> dict:
    row = {"split": "test", "system": system, "n": 10, "f1_macro": f1, "f_avg": f1,
           "ci_f1_macro": [f1 - 0.1, f1 + 0.1], "ci_f_avg": [f1 - 0.1, f1 + 0.1]}
    if system == "stancekit":
        paired = {"diff": -0.2, "ci": [-0.35, -0.05], "p_value": 0.0}
        row["vs_tfidf"] = {"f1_macro": paired, "f_avg": paired}
    return row


def _result(**rows: float) -> dict:
    return {"corpus": "semeval@cross:atheism", "metric": "f1_macro", "encoder": "e",
            "reference": reference("semeval@cross:atheism"), "train_seconds": 60,
            "n_train": 100, "stacked": False, "labels": ["support", "condemn"], "config": "c",
            "n_resamples": 1000, "rows": [_row(system, f1) for system, f1 in rows.items()]}


def _table_line(result: dict) -> str:
    return next(li for li in to_markdown([result]).splitlines()
                if li.startswith("| semeval@cross:atheism"))


def test_the_table_bolds_the_best_system_even_when_it_is_a_baseline() -> None:
    line = _table_line(_result(stancekit=0.30, tfidf_lr=0.50, majority=0.40))
    assert "**0.500 [0.400, 0.600]**" in line
    assert line.count("**") == 2
    assert "leave-one-target-out" in line


def test_the_table_reports_the_paired_difference_against_tfidf() -> None:
    line = _table_line(_result(stancekit=0.30, tfidf_lr=0.50, majority=0.40))
    # p = 0 with 1000 resamples: smaller than the smallest two-sided p-value they can show
    assert "| -0.200 [-0.350, -0.050], p < 0.002 |" in line
    result = _result(stancekit=0.30, tfidf_lr=0.50, majority=0.40)
    result["rows"][0]["vs_tfidf"]["f1_macro"] = {"diff": 0.01, "ci": [-0.02, 0.04],
                                                 "p_value": 0.47}
    assert "| +0.010 [-0.020, +0.040], p = 0.470 |" in _table_line(result)
    del result["rows"][0]["vs_tfidf"]  # a result of the last run, from before the comparison
    assert "| n/a |" in _table_line(result)


def test_update_replaces_only_the_corpus_that_was_rerun() -> None:
    old = [{"corpus": "dsa_news", "run": 1}, {"corpus": "gwsd", "run": 1}]
    assert merge_result(old, {"corpus": "dsa_news", "run": 2}) == [
        {"corpus": "dsa_news", "run": 2}, {"corpus": "gwsd", "run": 1}]
    assert merge_result(old, {"corpus": "pstance", "run": 2})[-1] == \
        {"corpus": "pstance", "run": 2}


def test_jobs_add_the_cross_target_runs_and_refuse_unknown_names() -> None:
    jobs = benchmark_jobs(["gwsd"], ["atheism"], ["train.max_steps=10"])
    assert jobs == [("gwsd", ["train.max_steps=10"]),
                    ("semeval@cross:atheism", ["data.subset=cross:atheism",
                                               "train.output_dir=models/semeval_cross_atheism",
                                               "train.max_steps=10"])]
    assert len(benchmark_jobs([], ["all"])) == 5
    with pytest.raises(UsageError, match=r"^unknown corpus 'imdb'; known: \['dsa_news', "):
        benchmark_jobs(["gwsd", "imdb"])
    with pytest.raises(UsageError, match=r"^unknown SemEval target 'brexit'"):
        benchmark_jobs([], ["brexit"])


def test_run_corpus_scores_a_tiny_model_and_reuses_it(tiny_encoder: str, tmp_path: Path,
                                                      synthetic_pairs, write_pairs,
                                                      caplog) -> None:
    from stancekit.evaluation.benchmark import run_corpus

    configs = tmp_path / "configs"
    configs.mkdir()
    files = {split: write_pairs(tmp_path / f"{split}.jsonl", synthetic_pairs(n, seed=seed))
             for split, n, seed in (("train", 120, 0), ("dev", 30, 1), ("test", 30, 2))}
    (configs / "gwsd.yaml").write_text(
        f"data:\n  corpus: files\n  train: {files['train']}\n  dev: {files['dev']}\n"
        f"  test: {files['test']}\nmodel:\n  name_or_path: {tiny_encoder}\n"
        f"train:\n  output_dir: {tmp_path / 'model'}\n  epochs: 15\n  learning_rate: 3.0e-3\n"
        "  batch_size: 8\n  early_stopping_patience: 0\nencoding:\n  max_length: 48\n",
        encoding="utf-8")
    with caplog.at_level("INFO", logger="stancekit.evaluation.benchmark"):
        result = run_corpus("gwsd", configs=configs, n_boot=200)
    assert "training gwsd" in caplog.text
    rows = {row["system"]: row for row in result["rows"]}
    assert set(rows) == {"stancekit", "majority", "tfidf_lr"}
    assert all(row["split"] == "test" and row["n"] == 30 for row in rows.values())
    model, tfidf = rows["stancekit"], rows["tfidf_lr"]
    assert model["ci_f1_macro"][0] <= model["f1_macro"] <= model["ci_f1_macro"][1]
    paired = model["vs_tfidf"]["f1_macro"]
    assert paired["diff"] == pytest.approx(model["f1_macro"] - tfidf["f1_macro"])
    assert 0 <= paired["p_value"] <= 1 and len(paired["ci"]) == 2
    assert json.loads(json.dumps(result)) == result  # what the JSON beside the table holds
    assert "| gwsd | test | f1_macro |" in to_markdown([result])
    caplog.clear()
    with caplog.at_level("INFO", logger="stancekit.evaluation.benchmark"):
        again = run_corpus("gwsd", configs=configs, n_boot=200)
    assert "training" not in caplog.text  # the same config: the model is reused
    assert again["rows"] == result["rows"]
