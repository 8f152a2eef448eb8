"""Label audit: out-of-fold probabilities, the ranking (cleanlab and the built-in rule), the
files and the report section, and the command."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from stancekit.adapt.audit import (
    audit,
    confident_learning_flags,
    folds_for,
    rank_issues,
    run_audit,
    trained_on,
    write_audit,
)
from stancekit.cli import main
from stancekit.labels import LABELS
from stancekit.report.label_audit import write_audit_report

FLIPPED = (3, 10, 17, 26, 31, 44)


def flip(label: str) -> str:
    return LABELS[(LABELS.index(label) + 1) % 3]


@pytest.fixture(scope="module")
def noisy_pairs(synthetic_pairs):
    """60 keyword pairs (never seen by `trained_model`), six of them given a wrong label."""
    pairs = synthetic_pairs(60, seed=7)
    return [dataclasses.replace(p, label=flip(p.label) if i in FLIPPED else p.label, id=f"n{i}",
                                meta={"annotators": ["1", "2"]})
            for i, p in enumerate(pairs)]


def test_confident_learning_rule() -> None:
    y = np.array([0, 0, 0, 1, 1, 2, 2])
    probs = np.array([[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.1, 0.85, 0.05],  # 2: looks like 1
                      [0.2, 0.7, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.4, 0.3, 0.3]])
    flags = confident_learning_flags(y, probs)
    assert flags.tolist() == [False, False, True, False, False, False, False]
    order, flagged, method = rank_issues(y, probs, method="confident-learning")
    assert method == "confident-learning" and order[0] == 2
    # the unflagged, ordered by the probability of their given label: pair 6 (0.3) next
    assert order[1] == 6


def test_cleanlab_ranks_the_same_obvious_error() -> None:
    pytest.importorskip("cleanlab")
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 20)
    probs = np.eye(3)[y] * 0.8 + rng.dirichlet([1, 1, 1], size=60) * 0.2
    probs[5] = [0.05, 0.9, 0.05]  # given 0, clearly 1
    order, flagged, method = rank_issues(y, probs, method="auto")
    assert method == "cleanlab" and order[0] == 5 and flagged[5]
    assert rank_issues(y, probs, method="confident-learning")[0][0] == 5


def test_folds_keep_documents_whole(synthetic_pairs) -> None:
    pairs = synthetic_pairs(40)
    folds = folds_for(pairs, 5, seed=0)
    assert sorted(np.concatenate(folds).tolist()) == list(range(40))
    for test in folds:
        docs = {pairs[i].doc_id for i in test}
        assert all(pairs[i].doc_id not in docs for i in set(range(40)) - set(test.tolist()))


def test_features_audit_finds_the_flipped_labels(trained_model: Path, noisy_pairs) -> None:
    result = run_audit(trained_model, noisy_pairs, folds=5, backend="torch")
    top = {r["id"] for r in result.rows[:len(FLIPPED)]}
    found = len(top & {f"n{i}" for i in FLIPPED})
    # chance would put 0.6 of the six flipped pairs in the top six
    assert found >= 3, [(r["id"], r["p_given"]) for r in result.rows[:10]]
    s = result.summary
    assert s["mode"] == "features" and s["folds"] == 5 and s["n"] == 60
    assert s["flagged"] >= 3 and "warning" not in s
    first = result.rows[0]
    assert first["rank"] == 1 and first["given"] != first["suggested"]
    assert set(first["probs"]) == set(LABELS) and first["annotators"] == ["1", "2"]


def test_written_files_and_report(tmp_path: Path, noisy_pairs) -> None:
    probs = np.full((len(noisy_pairs), 3), 0.1)
    for i, p in enumerate(noisy_pairs):  # the truth, so the flipped pairs stand out
        probs[i, LABELS.index(flip(flip(p.label)) if i in FLIPPED else p.label)] = 0.8
    result = audit(noisy_pairs, probs, method="confident-learning", info={"mode": "features",
                                                                          "folds": 5})
    paths = write_audit(result, tmp_path / "audit")
    page = write_audit_report(result, tmp_path / "audit").read_text()
    rows = [json.loads(x) for x in (tmp_path / "audit" / "label_issues.jsonl").read_text()
            .splitlines()]
    assert len(rows) == 60 and {r["id"] for r in rows[:6]} == {f"n{i}" for i in FLIPPED}
    assert all(r["flagged"] for r in rows[:6]) and not any(r["flagged"] for r in rows[6:])
    assert "Likely label errors" in page and "6 of 6 flagged pairs" in page
    assert 'title="actor">' in page  # the evidence text with the actor marked
    assert paths[1].name == "audit.json"
    assert json.loads(paths[1].read_text())["flagged"] == 6


def test_audit_command(tmp_path: Path, trained_model: Path, noisy_pairs, write_pairs,
                       capsys) -> None:
    data = write_pairs(tmp_path / "mine.jsonl", noisy_pairs)
    assert main(["audit", "--model", str(trained_model), "--data", str(data), "--folds", "3",
                 "--backend", "torch", "--method", "confident-learning"]) == 0
    out = capsys.readouterr().out
    assert "60 pairs" in out and "confident-learning, features, 3 folds" in out
    assert (tmp_path / "mine.audit" / "index.html").is_file()


def test_audit_warns_when_the_model_was_trained_on_the_data(tmp_path: Path) -> None:
    meta = {"config": {"data": {"train": str(tmp_path / "mine.jsonl")}}}
    assert trained_on(meta, [], tmp_path / "mine.jsonl")
    assert not trained_on(meta, [], tmp_path / "other.jsonl")


@pytest.mark.parametrize("rows, message", [
    ("unlabelled", "field 'label': expected a label"),
    ("too-few", "an audit needs at least 10 labelled pairs, found 4"),
    ("one-label", "every pair has the label 'support'; an audit needs two or more"),
])
def test_audit_refuses_data_it_cannot_audit(tmp_path: Path, trained_model: Path, synthetic_pairs,
                                            write_pairs, cli_error, rows, message) -> None:
    pairs = synthetic_pairs(12)
    if rows == "unlabelled":
        pairs = [dataclasses.replace(pairs[0], label=None), *pairs[1:]]
    elif rows == "too-few":
        pairs = pairs[:4]
    else:
        pairs = [dataclasses.replace(p, label="support") for p in pairs]
    data = write_pairs(tmp_path / "d.jsonl", pairs)
    assert message in cli_error(["audit", "--model", str(trained_model), "--data", str(data)])


def test_audit_folds_argument(tmp_path: Path, trained_model: Path, cli_error) -> None:
    out = cli_error(["audit", "--model", str(trained_model), "--data", "x.jsonl", "--folds", "1"])
    assert out == "error: --folds: expected 2 or more, found 1"


def test_finetune_mode_trains_per_fold(tmp_path: Path, trained_model: Path, noisy_pairs) -> None:
    result = run_audit(trained_model, noisy_pairs[:24], mode="finetune", folds=2, work=tmp_path,
                       train_options={"epochs": 2})
    assert result.summary["mode"] == "finetune" and result.summary["folds"] == 2
    assert len(result.rows) == 24 and not list(tmp_path.iterdir())  # fold models removed
