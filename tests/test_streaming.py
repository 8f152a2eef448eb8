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


def test_missing_input_through_the_api(random_model: Path, tmp_path: Path) -> None:
    from stancekit.errors import DataError

    clf = StanceClassifier.from_pretrained(random_model)
    with pytest.raises(DataError, match=r"nope.jsonl: file not found$"):
        predict_file(clf, tmp_path / "nope.jsonl", tmp_path / "o.jsonl", progress=False)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- resume, locks


@pytest.fixture
def interrupted(monkeypatch):
    """``interrupted(clf, src, out, after=2, **kw)``: a `predict_file` run stopped by Ctrl-C
    after ``after`` committed chunks; returns the `Interrupted` error."""
    from stancekit.errors import Interrupted

    def run(clf, src: Path, out: Path, after: int = 2, **kw) -> Interrupted:
        calls = []
        real = clf.predict

        def predict(*args, **kwargs):
            calls.append(1)
            if len(calls) > after:
                raise KeyboardInterrupt
            return real(*args, **kwargs)

        monkeypatch.setattr(clf, "predict", predict)
        with pytest.raises(Interrupted) as info:
            predict_file(clf, src, out, progress=False, **kw)
        monkeypatch.setattr(clf, "predict", real)
        return info.value

    return run


def test_resume_refuses_a_changed_input_or_model(random_model: Path, tmp_path: Path,
                                                  write_numbered_pairs, interrupted,
                                                  cli_error, capsys) -> None:
    import shutil

    model = tmp_path / "model"
    shutil.copytree(random_model, model)
    src = write_numbered_pairs(tmp_path / "in.jsonl", 200)
    out = tmp_path / "out.jsonl"
    partial, record = tmp_path / "out.jsonl.partial", tmp_path / "out.jsonl.progress.json"
    args = ["predict", "--model", str(model), "--input", str(src), "--output", str(out),
            "--chunk-size", "20"]
    stopped = interrupted(StanceClassifier.from_pretrained(model), src, out, chunk_size=20)
    assert str(stopped) == (f"interrupted: stopped after 40 pairs, committed to {partial}; run "
                            "the same command again to resume")
    kept = partial.read_bytes(), record.read_bytes()
    start_over = f"; to start over, pass --overwrite or delete {partial} and {record}"

    # ids edited inside the committed prefix, same size and modification time: the hash sees it
    stat = src.stat()
    src.write_text(src.read_text().replace('"id": "p3"', '"id": "q3"'))
    os.utime(src, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert cli_error(args) == (f"error: {out}: cannot resume the interrupted run: the first 40 "
                               "pairs of the input are not the ones it predicted (the input was "
                               "edited)" + start_over)
    # ... and edited the ordinary way
    src.write_text(src.read_text().replace('"id": "q3"', '"id": "edited-3"'))
    assert cli_error(args) == (f"error: {out}: cannot resume the interrupted run: the input "
                               "changed since (size or modification time differ: "
                               f"{stat.st_size} -> {src.stat().st_size} bytes)" + start_over)
    assert (partial.read_bytes(), record.read_bytes()) == kept  # refused: nothing touched

    # --overwrite starts over, on the input as it is now
    assert main([*args, "--overwrite"]) == 0
    assert "resumed" not in capsys.readouterr().out
    assert ids_of(out)[:4] == ["p0", "p1", "p2", "edited-3"] and len(ids_of(out)) == 200

    # a model changed between the runs
    out.unlink()
    interrupted(StanceClassifier.from_pretrained(model), src, out, chunk_size=20)
    meta = json.loads((model / "stancekit.json").read_text())
    (model / "stancekit.json").write_text(json.dumps({**meta, "temperature": 2.0}))
    assert cli_error(args) == (f"error: {out}: cannot resume the interrupted run: the model "
                               "changed since (stancekit.json, config.json or the weights "
                               "differ)" + start_over)


def test_second_run_on_the_same_output_is_refused(random_model: Path, tmp_path: Path,
                                                   write_numbered_pairs, cli_error) -> None:
    import fcntl

    src = write_numbered_pairs(tmp_path / "in.jsonl", 10)
    out = tmp_path / "out.jsonl"
    first = {"out.jsonl.partial": b'{"id": "p0"}\n', "out.jsonl.progress.json": b"{}",
             "rejects.jsonl": b"first run's rejects\n"}
    for name, content in first.items():
        (tmp_path / name).write_bytes(content)
    with open(tmp_path / "out.jsonl.lock", "a") as first_run:  # the first run's lock
        fcntl.flock(first_run, fcntl.LOCK_EX | fcntl.LOCK_NB)
        before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
        assert cli_error(["predict", "--model", str(random_model), "--input", str(src),
                          "--output", str(out), "--rejects", str(tmp_path / "rejects.jsonl")]) \
            == (f"error: {out}: another stancekit run is writing this file; wait for it to "
                "finish or write to another file")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_rejects_file_is_rebuilt_by_every_run(random_model: Path, tmp_path: Path,
                                              write_numbered_pairs, interrupted) -> None:
    src = write_numbered_pairs(tmp_path / "in.jsonl", 100)
    lines = src.read_text().splitlines()
    lines[5] = lines[95] = '{"id": "bad"}'  # one bad row early, one late
    src.write_text("\n".join(lines) + "\n")
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    clf = StanceClassifier.from_pretrained(random_model)
    for _ in range(2):  # a fresh run replaces the rejects of the last one
        predict_file(clf, src, out, rejects=rejects, overwrite=True, progress=False)
        assert [json.loads(r)["line"] for r in rejects.read_text().splitlines()] == [6, 96]
    out.unlink()
    interrupted(clf, src, out, rejects=rejects, chunk_size=20)
    counts = predict_file(clf, src, out, rejects=rejects, chunk_size=20, progress=False)
    assert counts["resumed_after"] == 40 and counts["rejected"] == 2
    assert [json.loads(r)["line"] for r in rejects.read_text().splitlines()] == [6, 96]
    assert len(ids_of(out)) == 98


def test_full_disk_stops_cleanly_and_resumes(random_model: Path, tmp_path: Path,
                                             write_numbered_pairs, failing_writes,
                                             capsys) -> None:
    import errno

    src = write_numbered_pairs(tmp_path / "in.jsonl", 100)
    out = tmp_path / "out.jsonl"
    partial, record = tmp_path / "out.jsonl.partial", tmp_path / "out.jsonl.progress.json"
    args = ["predict", "--model", str(random_model), "--input", str(src), "--output", str(out),
            "--chunk-size", "20"]
    stop = failing_writes(partial, errno.ENOSPC, after=2)  # the third chunk finds the disk full
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.splitlines()[-1] == (
        f"error: {partial}: cannot write the file (No space left on device); free some space, "
        "then run the same command again to resume")
    assert json.loads(record.read_text())["pairs"] == 40  # the last commit survives
    assert partial.stat().st_size > json.loads(record.read_text())["bytes"]  # half a chunk more
    stop()
    assert main(args) == 0
    assert "resumed after 40" in capsys.readouterr().out
    clean = tmp_path / "clean.jsonl"
    predict_file(StanceClassifier.from_pretrained(random_model), src, clean, chunk_size=20,
                 progress=False)
    assert out.read_bytes() == clean.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean.jsonl", "in.jsonl", "out.jsonl"]


def test_ctrl_c_stops_cleanly_and_resumes(random_model: Path, tmp_path: Path,
                                          write_numbered_pairs, capsys) -> None:
    """A real process: SIGINT stops it with one line and status 130, keeping what it
    committed; meanwhile a second run on the same output is refused; the rerun resumes to
    the output of an uninterrupted run, byte for byte (all on one torch thread)."""
    src = write_numbered_pairs(tmp_path / "in.jsonl", 5000)
    out = tmp_path / "out.jsonl"
    args = ["predict", "--model", str(random_model), "--input", str(src), "--output", str(out),
            "--chunk-size", "100", "--batch-size", "16"]
    # the child waits 0.5 s before each chunk (a sitecustomize only this test writes), so that
    # on a fast machine it is still running when a second run is refused and it is stopped
    slow = tmp_path / "slow"
    slow.mkdir()
    (slow / "sitecustomize.py").write_text(
        "import time\nfrom stancekit.prediction import StanceClassifier\n"
        "_predict = StanceClassifier.predict\n"
        "def predict(self, *a, **kw):\n    time.sleep(0.5)\n    return _predict(self, *a, **kw)\n"
        "StanceClassifier.predict = predict\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": f"{slow}{os.pathsep}{ROOT}", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "stancekit.cli", *args]
    # SIGINT as a terminal delivers it, even when this test runs in a background job (which
    # starts with SIGINT ignored, an ignorance children inherit)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=lambda: signal.signal(signal.SIGINT,
                                                                        signal.SIG_DFL))
    record = out.with_name("out.jsonl.progress.json")
    deadline = time.time() + 120
    while not (record.is_file() and json.loads(record.read_text() or "{}").get("pairs", 0)):
        if proc.poll() is not None or time.time() > deadline:
            pytest.fail(f"the run ended before it could be interrupted: {proc.communicate()}")
        time.sleep(0.05)
    assert main(args) == 2  # a second run while the first one writes
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"error: {out}: another stancekit run is writing this file; wait for it to finish or "
        "write to another file")
    if proc.poll() is not None:
        pytest.fail(f"the run ended before it could be interrupted: {proc.communicate()}")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err, err
    done = json.loads(record.read_text())["pairs"]
    assert err.splitlines()[-1] == (f"interrupted: stopped after {done} pairs, committed to "
                                    f"{out}.partial; run the same command again to resume")
    assert not out.exists() and 0 < done < 5000
    assert main(args) == 0  # the rerun (in this process: one thread, as the killed one)
    assert f"resumed after {done}" in capsys.readouterr().out
    clean = tmp_path / "clean.jsonl"
    predict_file(StanceClassifier.from_pretrained(random_model), src, clean, batch_size=16,
                 chunk_size=100, progress=False)
    assert out.read_bytes() == clean.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean.jsonl", "in.jsonl", "out.jsonl",
                                                           "slow"]
