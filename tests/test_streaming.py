"""Prediction over files: resume after kill -9, shards, a finished output left alone; and
the files a prediction writes are only the ones the command line named."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stancekit.cli import main
from stancekit.prediction import StanceClassifier
from stancekit.streaming import predict_file

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def write_numbered_pairs(synthetic_pairs):
    """``write_numbered_pairs(path, n)``: ``n`` synthetic pairs with ids p0, p1, ... as JSONL."""

    def write(path: Path, n: int) -> Path:
        with open(path, "w", encoding="utf-8") as fh:
            for i, p in enumerate(synthetic_pairs(n, seed=3)):
                row = p.to_dict()
                row["id"] = f"p{i}"
                fh.write(json.dumps(row) + "\n")
        return path

    return write


def tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def ids_of(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text().splitlines()]


def test_killed_prediction_resumes_with_every_id_once(trained_model: Path, tmp_path: Path,
                                                      write_numbered_pairs) -> None:
    src = write_numbered_pairs(tmp_path / "in.jsonl", 6000)
    out = tmp_path / "out.jsonl"
    cmd = [sys.executable, "-m", "stancekit.cli", "predict", "--model", str(trained_model),
           "--input", str(src), "--output", str(out), "--chunk-size", "100", "--batch-size", "16"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    record = out.with_name("out.jsonl.progress.json")
    deadline = time.time() + 120
    while time.time() < deadline:
        if record.is_file() and json.loads(record.read_text() or "{}").get("pairs", 0) >= 300:
            break
        if proc.poll() is not None:
            pytest.fail("the prediction run ended before it could be killed")
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists() and out.with_name("out.jsonl.partial").exists()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "resumed after" in done.stdout
    ids = ids_of(out)
    assert ids == [f"p{i}" for i in range(6000)]  # every id once, in input order
    assert not record.exists()
    # the same as an uninterrupted run: same labels; probabilities up to float rounding, which
    # moves with the thread count and the batch shapes (this process runs one torch thread)
    clean = tmp_path / "clean.jsonl"
    predict_file(StanceClassifier.from_pretrained(trained_model), src, clean, progress=False)
    expected = [json.loads(line) for line in clean.read_text().splitlines()]
    resumed = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["label"] for r in resumed] == [r["label"] for r in expected]
    for got, want in zip(resumed, expected):
        assert got["probs"] == pytest.approx(want["probs"], abs=1e-4), got["id"]


def test_shards_cover_the_input_exactly_once(trained_model: Path, tmp_path: Path,
                                             write_numbered_pairs) -> None:
    src = write_numbered_pairs(tmp_path / "in.jsonl", 500)
    clf = StanceClassifier.from_pretrained(trained_model)
    whole = tmp_path / "all.jsonl"
    predict_file(clf, src, whole, progress=False)
    shards = []
    for i in range(3):
        part = tmp_path / f"part{i}.jsonl"
        counts = predict_file(clf, src, part, num_shards=3, shard_index=i, progress=False)
        assert counts["predicted"] > 100
        shards += part.read_text().splitlines()
    assert sorted(shards) == sorted(whole.read_text().splitlines())


def test_finished_output_is_not_resumed_or_overwritten(trained_model: Path, tmp_path: Path,
                                                       write_numbered_pairs) -> None:
    from stancekit.errors import DataError

    src = write_numbered_pairs(tmp_path / "in.jsonl", 20)
    out = tmp_path / "out.jsonl"
    clf = StanceClassifier.from_pretrained(trained_model)
    predict_file(clf, src, out, progress=False)
    with pytest.raises(DataError, match="output file exists"):
        predict_file(clf, src, out, progress=False)


# --------------------------------------------------------------------------- output paths


def test_ids_and_names_never_become_paths(random_model: Path, tmp_path: Path, jsonl) -> None:
    """Ids, actor and target names full of path syntax are data: the only files written are
    the outputs the command line named."""
    evil = "../../../pwned/..\\x/"
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_bytes(jsonl({"id": evil + "1", "actor": "/etc/passwd", "target": "../..",
                             "text": "/etc/passwd backed ../.. today.", "doc_id": evil}))
    articles = tmp_path / "articles.jsonl"
    articles.write_bytes(jsonl({"id": evil, "text": "Iran/.. backed ../evil. ~/x rejected it.",
                                "actors": ["Iran/..", "~/x"], "targets": ["../evil"]}))
    before = tree(tmp_path)
    assert main(["predict", "--model", str(random_model), "--input", str(pairs), "--output",
                 str(tmp_path / "p.jsonl")]) == 0
    assert main(["predict", "--model", str(random_model), "--input", str(articles), "--output",
                 str(tmp_path / "a.jsonl"), "--table", str(tmp_path / "t.csv"),
                 "--pairs-output", str(tmp_path / "w.jsonl")]) == 0
    assert tree(tmp_path) - before == {"p.jsonl", "a.jsonl", "t.csv", "w.jsonl"}
    assert {json.loads(r)["id"] for r in (tmp_path / "p.jsonl").read_text().splitlines()} == \
        {evil + "1"}
    assert not any("pwned" in p.name for p in tmp_path.parent.parent.rglob("*"))


def test_failed_prediction_leaves_no_partial_output(random_model: Path, tmp_path: Path,
                                                    cli_error, good_row, jsonl) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl(good_row, "{oops"))
    cli_error(["predict", "--model", str(random_model), "--input", str(src), "--output",
               str(tmp_path / "o.jsonl")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]
