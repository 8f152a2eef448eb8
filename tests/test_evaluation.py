"""Evaluation beyond the headline: bootstrap intervals, paired comparisons, risk-coverage and
abstention, slices, error analysis; and calibration stored by training, end to end."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import synthetic_pairs
from sklearn.metrics import f1_score

from stancekit import StanceClassifier, StancePair
from stancekit.cli import main
from stancekit.config import load_config
from stancekit.evaluation import analyze, evaluate, summary_markdown
from stancekit.evaluation.abstention import aurc, risk_coverage, selective, threshold_for_precision
from stancekit.evaluation.slices import ERROR_FIELDS, error_examples, length_bucket, slice_metrics
from stancekit.labels import LABELS
from stancekit.metrics import (
    bootstrap_intervals,
    bootstrap_weights,
    paired_bootstrap,
    resampled_f1,
    stance_metrics,
)
from stancekit.training import train


def noisy(y: list[str], rate: float, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [LABELS[rng.integers(3)] if rng.random() < rate else lab for lab in y]


# -- bootstrap ---------------------------------------------------------------------------------
def test_bootstrap_weights_resample_rows_or_whole_groups() -> None:
    w = bootstrap_weights(10, n_resamples=50, seed=1)
    assert w.shape == (50, 10) and (w.sum(axis=1) == 10).all()
    groups = ["a", "a", "b", "c", "c", "c"]
    w = bootstrap_weights(6, groups, n_resamples=200, seed=1)
    assert (w[:, 0] == w[:, 1]).all() and (w[:, 3] == w[:, 4]).all() and (w[:, 4] == w[:, 5]).all()
    assert (w[:, [0, 2, 3]].sum(axis=1) == 3).all()  # three groups drawn each time
    with pytest.raises(ValueError, match="6 rows but 2 groups"):
        bootstrap_weights(6, ["a", "b"])


def test_bootstrap_f1_matches_sklearn() -> None:
    y = [LABELS[i % 3] for i in range(90)]
    pred = noisy(y, 0.4)
    full = resampled_f1(y, pred, np.ones((1, 90)))
    m = stance_metrics(y, pred)
    for key in ("f1_macro", "f_avg", "f1_support", "f1_neutral", "f1_condemn"):
        assert full[key][0] == pytest.approx(m[key])
    # one resample = sklearn on the rows repeated by their weight
    w = bootstrap_weights(90, n_resamples=1, seed=3)
    idx = np.repeat(np.arange(90), w[0])
    ours = resampled_f1(y, pred, w, labels=("support", "condemn"))["f1_macro"][0]
    assert ours == pytest.approx(f1_score([y[i] for i in idx], [pred[i] for i in idx],
                                          labels=["support", "condemn"], average="macro",
                                          zero_division=0))


def test_intervals_hold_the_estimate_and_shrink_with_more_data() -> None:
    y = [LABELS[i % 3] for i in range(600)]
    pred = noisy(y, 0.5)
    point = stance_metrics(y, pred)["f1_macro"]
    wide = bootstrap_intervals(y[:60], pred[:60])["f1_macro"]
    narrow = bootstrap_intervals(y, pred)["f1_macro"]
    assert narrow[0] < point < narrow[1]
    assert narrow[1] - narrow[0] < wide[1] - wide[0]
    assert set(bootstrap_intervals(y, pred)) == {"f1_macro", "f_avg", "f1_support", "f1_neutral",
                                                 "f1_condemn"}


def test_paired_bootstrap_tells_a_real_difference_from_none() -> None:
    y = [LABELS[i % 3] for i in range(300)]
    good, bad = noisy(y, 0.2, seed=1), noisy(y, 0.8, seed=2)
    real = paired_bootstrap(y, good, bad)["f1_macro"]
    assert real["diff"] > 0.3 and real["ci"][0] > 0 and real["p_value"] < 0.01
    same = paired_bootstrap(y, good, good)
    assert same["f1_macro"] == {"diff": 0.0, "ci": [0.0, 0.0], "p_value": 1.0}
    close = paired_bootstrap(y, good, noisy(y, 0.22, seed=3))["f1_macro"]
    assert close["ci"][0] < 0 < close["ci"][1]


# -- abstention ---------------------------------------------------------------------------------
PROBS = np.array([[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1]])
GOLD = ["support", "support", "condemn", "support"]  # the third is wrong


def test_risk_coverage_curve() -> None:
    curve = risk_coverage(PROBS, GOLD)
    assert [(p["threshold"], p["coverage"], p["n_kept"]) for p in curve] == [
        (0.9, 0.25, 1), (0.8, 0.75, 3), (0.6, 1.0, 4)]  # the two 0.8s stand or fall together
    assert [p["precision"] for p in curve] == pytest.approx([1.0, 2 / 3, 0.75])
    assert [p["risk"] for p in curve] == pytest.approx([0.0, 1 / 3, 0.25])
    assert aurc(curve) == pytest.approx(0.25 * 0 + 0.5 * (1 / 3) + 0.25 * 0.25)


def test_threshold_for_precision_maximises_coverage() -> None:
    assert threshold_for_precision(PROBS, GOLD, 0.95)["threshold"] == 0.9
    assert threshold_for_precision(PROBS, GOLD, 0.7) == {
        "threshold": 0.6, "coverage": 1.0, "precision": 0.75, "risk": 0.25, "n_kept": 4}
    assert threshold_for_precision(PROBS, ["neutral"] * 4, 0.5) is None
    assert selective(PROBS, GOLD, 0.8) == {"threshold": 0.8, "coverage": 0.75,
                                           "precision": pytest.approx(2 / 3), "n_kept": 3}
    assert selective(PROBS, GOLD, 0.95)["precision"] is None


# -- slices and errors --------------------------------------------------------------------------
def corpus_pairs(n: int, seed: int = 0, *, padded: bool = True) -> list[StancePair]:
    """Synthetic pairs from two source corpora, a third of them padded to each length bucket
    (``padded=False`` for training data: short inputs train faster)."""
    pad = " More words follow here."
    return [dataclasses.replace(p, meta={"domain": "courts" if i % 4 else "trade"},
                                text=p.text + pad * (i % 3) * 15 * padded)
            for i, p in enumerate(synthetic_pairs(n, seed=seed))]


def test_slices_cover_every_pair_with_counts() -> None:
    pairs = corpus_pairs(40)
    pred = noisy([p.label for p in pairs], 0.3)
    probs = np.full((40, 3), 0.2) + np.eye(3)[[LABELS.index(x) for x in pred]] * 0.4
    slices = slice_metrics(pairs, pred, probs)
    assert set(slices) == {"target", "actor", "corpus", "length"}
    for rows in slices.values():
        assert sum(r["n"] for r in rows) == 40
        assert all(sum(r[f"n_{lab}"] for lab in LABELS) == r["n"] for r in rows)
    assert [r["corpus"] for r in slices["corpus"]] == ["courts", "trade"]  # by size
    courts = slices["corpus"][0]
    idx = [i for i, p in enumerate(pairs) if p.meta["domain"] == "courts"]
    assert courts["n"] == 30 and courts["accuracy"] == pytest.approx(
        np.mean([pred[i] == pairs[i].label for i in idx]))
    assert courts["mean_confidence"] == pytest.approx(0.6)
    assert [r["length"] for r in slices["length"]] == ["<25 words", "50-99 words", "100+ words"]
    # no corpus in meta: no corpus table
    assert "corpus" not in slice_metrics(synthetic_pairs(6), ["support"] * 6, probs[:6])


def test_slice_macro_f1_uses_only_the_classes_present() -> None:
    pairs = [p for p in synthetic_pairs(9) if p.label != "neutral"]
    y = [p.label for p in pairs]
    rows = slice_metrics(pairs, y, np.full((len(y), 3), 1 / 3))["length"]
    assert rows[0]["f1_macro"] == 1.0 and rows[0]["f1_neutral"] is None


def test_length_buckets() -> None:
    assert length_bucket("one two") == "<25 words"
    assert length_bucket("w " * 25) == "25-49 words"
    assert length_bucket("w " * 120) == "100+ words"


def test_error_examples_are_ordered_by_confidence() -> None:
    pairs = synthetic_pairs(6)  # gold: support neutral condemn support neutral condemn
    probs = np.array([[0.2, 0.7, 0.1], [0.1, 0.5, 0.4], [0.9, 0.05, 0.05],
                      [0.4, 0.35, 0.25], [0.3, 0.6, 0.1], [0.1, 0.1, 0.8]])
    errors = error_examples(pairs, probs, k=2)
    assert [r["id"] for r in errors["confident_mistakes"]] == ["s2", "s0"]
    assert [r["id"] for r in errors["unsure_correct"]] == ["s3", "s1"]
    row = errors["confident_mistakes"][0]
    assert set(row) == set(ERROR_FIELDS)
    assert (row["actor"], row["gold"], row["predicted"], row["confidence"]) == (
        pairs[2].actor, "condemn", "support", 0.9)


# -- end to end on a tiny trained model ---------------------------------------------------------
def write_pairs(path: Path, pairs: list[StancePair]) -> Path:
    path.write_text("".join(json.dumps(p.to_dict()) + "\n" for p in pairs), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained(tiny_encoder: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
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
def analysis(trained: Path):
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


def test_analysis_is_json_and_evaluate_keeps_its_shape(analysis, trained: Path) -> None:
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
                                                        capsys) -> None:
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


def test_cli_predict_abstain_below(trained: Path, tmp_path: Path, capsys) -> None:
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
