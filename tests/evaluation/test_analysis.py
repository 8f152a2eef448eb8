"""`analyze` and `evaluate` end to end on a tiny trained model: intervals and paired
comparisons beside the baselines, calibration stored by training, the abstention threshold
chosen on dev, and the `stancekit evaluate` / `predict --abstain-below` commands."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from stancekit import StanceClassifier
from stancekit.cli import main
from stancekit.config import load_config
from stancekit.evaluation import analyze, evaluate, summary_markdown
from stancekit.evaluation.slices import ERROR_FIELDS
from stancekit.labels import LABELS
from stancekit.training import train


@pytest.fixture(scope="module")
def trained(tiny_encoder: str, tmp_path_factory: pytest.TempPathFactory, corpus_pairs,
            write_pairs) -> Path:
    d = tmp_path_factory.mktemp("calibrated")
    train_file = write_pairs(d / "train.jsonl", corpus_pairs(120, padded=False))
    dev_file = write_pairs(d / "dev.jsonl", corpus_pairs(30, seed=1, padded=False))
    config = load_config(None, [
        "data.corpus=files", f"data.train={train_file}", f"data.dev={dev_file}",
        f"model.name_or_path={tiny_encoder}", f"train.output_dir={d / 'model'}",
        "train.epochs=15", "train.learning_rate=3e-3", "train.batch_size=8", "train.warmup=0.0",
        "train.early_stopping_patience=0", "encoding.max_length=48"])
    return train(config)


def test_training_stores_a_temperature_fitted_on_dev(trained: Path) -> None:
    meta = json.loads((trained / "stancekit.json").read_text())
    cal = meta["calibration"]
    assert cal["applies_to"] == "transformer" and cal["split"] == "dev" and cal["n"] == 30
    assert meta["temperature"] == cal["temperature"] != 1.0
    assert cal["nll_after"] <= cal["nll_before"]
    assert StanceClassifier.from_pretrained(trained).temperature == cal["temperature"]
    assert "temperature scaling of the transformer, fitted on dev" in (
        trained / "README.md").read_text()


@pytest.fixture(scope="module")
def analysis(trained: Path, corpus_pairs):
    clf = StanceClassifier.from_pretrained(trained)
    return analyze(clf, {"test": corpus_pairs(60, seed=2, padded=False)},
                   train_pairs=corpus_pairs(120, padded=False),
                   dev_pairs=corpus_pairs(30, seed=1, padded=False), n_resamples=300)["test"]


def test_analysis_reports_intervals_and_paired_comparisons(analysis) -> None:
    model, tfidf = analysis.metrics["stancekit"], analysis.metrics["tfidf_lr"]
    assert list(analysis.metrics) == ["stancekit", "majority", "tfidf_lr"]
    for key in ("f1_macro", "f_avg", "f1_support", "f1_neutral", "f1_condemn"):
        lo, hi = model[f"test_{key}_ci"]
        assert lo <= model[f"test_{key}"] <= hi
    assert tfidf["test_f1_macro_diff"] == pytest.approx(
        model["test_f1_macro"] - tfidf["test_f1_macro"])
    assert set(analysis.comparisons) == {"majority", "tfidf_lr"}
    assert analysis.comparisons["majority"]["f1_macro"]["ci"][0] > 0  # beats the majority class


def test_analysis_reports_calibration_on_the_split(analysis) -> None:
    cal = analysis.calibration
    assert cal["fit"]["applies_to"] == "transformer"
    assert cal["ece"] < cal["ece_uncalibrated"]  # the dev temperature helps on held-out pairs
    assert len(cal["bins"]) == 15 and sum(b["n"] for b in cal["bins"]) == 60


def test_analysis_chooses_the_abstention_threshold_on_dev(analysis) -> None:
    ab = analysis.abstention
    assert ab["chosen_on"] == "dev" and ab["dev"] == "chosen" and ab["target_precision"] == 0.95
    assert ab["dev_precision"] >= 0.95
    assert 0 < ab["coverage"] <= 1 and ab["n_kept"] == round(ab["coverage"] * 60)
    model = analysis.metrics["stancekit"]
    assert model["test_abstain_threshold"] == ab["threshold"]
    assert model["test_coverage"] == ab["coverage"]
    assert analysis.risk_coverage[-1]["coverage"] == 1.0


def test_analysis_is_json_and_evaluate_keeps_its_shape(analysis, trained: Path,
                                                       corpus_pairs) -> None:
    d = analysis.to_dict()
    assert json.loads(json.dumps(d))["n"] == 60
    assert set(d["slices"]) == {"target", "actor", "corpus", "length"}
    assert d["errors"]["confident_mistakes"] or d["errors"]["unsure_correct"]
    clf = StanceClassifier.from_pretrained(trained)
    results = evaluate(clf, {"test": corpus_pairs(30, seed=2)}, train_pairs=corpus_pairs(60),
                       n_resamples=50)
    assert set(results) == {"test"} and set(results["test"]) == {"stancekit", "majority",
                                                                 "tfidf_lr"}
    md = summary_markdown(results)
    assert md.startswith("### test") and "| tfidf_lr |" in md and "Calibration: ECE" in md


def test_cli_evaluate_writes_analysis_errors_and_report(trained: Path, tmp_path: Path,
                                                        capsys, corpus_pairs, write_pairs) -> None:
    data = write_pairs(tmp_path / "held.jsonl", corpus_pairs(45, seed=5))
    assert main(["evaluate", "--model", str(trained), "--data", str(data), "--output",
                 str(tmp_path / "ev"), "--report", str(tmp_path / "report"), "--bootstrap",
                 "200", "--target-precision", "0.9"]) == 0
    out = capsys.readouterr().out
    assert "### held" in out and "Abstention below" in out and "report written to" in out
    analysis = json.loads((tmp_path / "ev" / "analysis.json").read_text())["held"]
    assert analysis["abstention"]["target_precision"] == 0.9
    assert analysis["abstention"]["chosen_on"] == "dev"  # dev from the model's own config
    for folder in ("ev", "report"):
        with open(tmp_path / folder / "errors_held.csv", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert rows and set(rows[0]) == set(ERROR_FIELDS)
        assert {r["kind"] for r in rows} <= {"confident_mistake", "unsure_correct"}
    page = (tmp_path / "report" / "index.html").read_text()
    assert "Split: held" in page and page.count("data:image/png;base64,") >= 3


def test_cli_evaluate_rejects_a_bad_precision(trained: Path, capsys) -> None:
    assert main(["evaluate", "--model", str(trained), "--target-precision", "95"]) == 2
    assert ("error: --target-precision: expected a value in (0, 1], found 95.0"
            in capsys.readouterr().err)


def test_cli_predict_abstain_below(trained: Path, tmp_path: Path, capsys, write_pairs,
                                   synthetic_pairs) -> None:
    src = write_pairs(tmp_path / "in.jsonl", synthetic_pairs(20, seed=4))
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--model", str(trained), "--input", str(src), "--output", str(out),
                 "--abstain-below", "1.0"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    sure = StanceClassifier.from_pretrained(trained).predict_proba(synthetic_pairs(20, seed=4))
    assert [r.get("abstained", False) for r in rows] == [bool(p < 1.0) for p in sure.max(1)]
    assert any(r.get("abstained") for r in rows)
    assert {r["label"] for r in rows} <= set(LABELS)
    assert main(["predict", "--model", str(trained), "--input", str(src), "--output", str(out),
                 "--overwrite", "--abstain-below", "0"]) == 0
    assert not any("abstained" in json.loads(line) for line in out.read_text().splitlines())
    assert main(["predict", "--model", str(trained), "--input", str(src), "--output", str(out),
                 "--overwrite", "--abstain-below", "2"]) == 2
    assert "--abstain-below: expected a probability in [0, 1], found 2.0" in capsys.readouterr().err
