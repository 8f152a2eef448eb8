"""A run never writes a file it reads, nor one file twice: every command that writes checks
its outputs against its inputs (paths resolved, symbolic and hard links followed) before it
opens anything for writing; and a write the system refuses (read-only place, full disk) is
one ``error:`` line naming the file."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest

from stancekit.errors import UsageError

RULE = "a run never writes a file it reads"


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.fixture
def model_copy(random_model: Path, tmp_path: Path):
    """``model_copy(**data)``: a copy of the random model whose training config's data section
    is updated with ``data`` (what evaluate reads as the model's own data)."""

    def make(**data) -> Path:
        path = tmp_path / "model"
        shutil.copytree(random_model, path)
        meta = json.loads((path / "stancekit.json").read_text())
        meta["config"]["data"].update(data)
        (path / "stancekit.json").write_text(json.dumps(meta))
        return path

    return make


@pytest.fixture
def pairs_file(tmp_path: Path, jsonl, good_row: dict) -> Path:
    d = tmp_path / "d"
    d.mkdir()
    path = d / "in.jsonl"
    path.write_bytes(jsonl(good_row, {**good_row, "id": "2", "text": ""}))  # row 2 is rejected
    return path


# --------------------------------------------------------------------------- predict

@pytest.mark.parametrize("case", [
    "rejects-is-input", "rejects-symlink-to-input", "rejects-hard-link-to-input",
    "output-is-input-with-overwrite", "rejects-is-output", "output-is-a-model-file",
    "input-is-the-progress-file-of-output", "table-is-output", "pairs-output-is-actor-file",
])
def test_predict_never_writes_what_it_reads(case: str, model_copy, pairs_file: Path,
                                            cli_error, tmp_path: Path) -> None:
    model = model_copy()
    d = pairs_file.parent
    src, out = pairs_file, d / "o.jsonl"
    extra: list[str] = []
    if case == "rejects-is-input":
        extra = ["--rejects", str(src)]
        expected = f"--rejects and --input are the same file ({src})"
    elif case == "rejects-symlink-to-input":
        (d / "link.jsonl").symlink_to(src)
        extra = ["--rejects", str(d / "link.jsonl")]
        expected = (f"--rejects and --input are the same file ({d / 'link.jsonl'} is "
                    f"{src.resolve()} through a symbolic link)")
    elif case == "rejects-hard-link-to-input":
        os.link(src, d / "hard.jsonl")
        extra = ["--rejects", str(d / "hard.jsonl")]
        expected = (f"--rejects and --input are the same file ({d / 'hard.jsonl'} and {src} are "
                    "hard links to one file)")
    elif case == "output-is-input-with-overwrite":
        out, extra = src, ["--overwrite"]
        expected = f"--output and --input are the same file ({src})"
    elif case == "rejects-is-output":
        extra = ["--rejects", str(out)]
        message = (f"error: --output and --rejects are the same file ({out}); each output needs "
                   "its own file: give --rejects another path")
    elif case == "output-is-a-model-file":
        out, extra = model / "config.json", ["--overwrite"]
        expected = f"--output and --model's config.json are the same file ({out})"
    elif case == "input-is-the-progress-file-of-output":
        src = d / "o.jsonl.progress.json"
        shutil.copy(pairs_file, src)
        expected = f"the progress file of --output and --input are the same file ({src})"
    elif case == "table-is-output":
        extra = ["--articles", "--table", str(out)]
        message = (f"error: --output and --table are the same file ({out}); each output needs "
                   "its own file: give --table another path")
    else:
        actors = d / "actors.yaml"
        actors.write_text("actors: [{name: Iran}]\n")
        extra = ["--actors", str(actors), "--pairs-output", str(actors)]
        expected = f"--pairs-output and --actors are the same file ({actors})"
    if case not in ("rejects-is-output", "table-is-output"):
        flag = expected.split()[0] if expected.startswith("--") else "--output"
        message = f"error: {expected}; {RULE}: give {flag} another path"
    before, model_before = tree(d), tree(model)
    assert cli_error(["predict", "--model", str(model), "--input", str(src), "--output",
                      str(out), *extra]) == message
    assert tree(d) == before and tree(model) == model_before  # nothing written, nothing lost


def test_predict_api_checks_too(random_model: Path, pairs_file: Path) -> None:
    from stancekit.prediction import StanceClassifier
    from stancekit.streaming import predict_file

    clf = StanceClassifier.from_pretrained(random_model)
    with pytest.raises(UsageError, match=r"^rejects and input_path are the same file"):
        predict_file(clf, pairs_file, pairs_file.parent / "o.jsonl", rejects=pairs_file)
    assert len(pairs_file.read_text().splitlines()) == 2


# --------------------------------------------------------------------------- evaluate, report

def test_evaluate_never_writes_what_it_reads(model_copy, tmp_path: Path, synthetic_pairs,
                                             write_pairs, cli_error) -> None:
    ev, report = tmp_path / "ev", tmp_path / "rep"
    ev.mkdir()
    report.mkdir()
    held = write_pairs(ev / "metrics.json", synthetic_pairs(9, seed=4))  # JSON Lines by name
    train = write_pairs(tmp_path / "train.jsonl", synthetic_pairs(12))
    model = model_copy(corpus="files", train=str(train), dev=str(held))
    other = write_pairs(tmp_path / "x.jsonl", synthetic_pairs(9, seed=5))
    errors_csv = report / "errors_x.csv"  # what --report writes for the split 'x'
    errors_csv.write_text("id,actor,target,text,label\n1,Iran,the deal,Iran backed it.,support\n")
    base = ["evaluate", "--model", str(model), "--no-baselines", "--bootstrap", "0"]
    before = tree(tmp_path)
    assert cli_error([*base, "--data", str(held), "--output", str(ev)]) == (
        f"error: --output and --input are the same file ({held}); {RULE}: give --output another "
        "path")
    # the model's own data (read here for the dev split) is an input too
    assert cli_error([*base, "--data", str(other), "--output", str(ev)]) == (
        f"error: --output and the model's data.dev are the same file ({held}); {RULE}: give "
        "--output another path")
    assert cli_error([*base, "--data", str(other), "--data", str(errors_csv), "--output",
                      str(tmp_path / "ev2"), "--report", str(report)]) == (
        f"error: --report and --input are the same file ({errors_csv}); {RULE}: give --report "
        "another path")
    assert tree(tmp_path) == before


def test_report_never_writes_its_input(tmp_path: Path, cli_error) -> None:
    page = tmp_path / "index.html"
    page.write_text("<html></html>")
    assert cli_error(["report", "--input", str(page), "--output", str(tmp_path)]) == (
        f"error: --output and --input are the same file ({page}); {RULE}: give --output another "
        "path")
    assert page.read_text() == "<html></html>"


# --------------------------------------------------------------------------- train

def test_train_never_replaces_what_it_reads(random_model: Path, tiny_encoder: str, small_data,
                                            tmp_path: Path, cli_error) -> None:
    out = tmp_path / "m"
    shutil.copytree(random_model, out)  # a model training would replace
    train = out / "train.jsonl"
    shutil.copy(small_data[0], train)
    before = tree(tmp_path)
    base = ["train", "data.corpus=files", f"data.dev={small_data[1]}", f"train.output_dir={out}",
            "train.max_steps=1"]  # were the check missing: one step of the tiny encoder
    assert cli_error([*base, f"data.train={train}", f"model.name_or_path={tiny_encoder}"]) == (
        f"error: data.train ({train}) is inside train.output_dir ({out}), which this run writes "
        f"or replaces; {RULE}: choose another train.output_dir")
    # a model directory trained further in place would be replaced while it is the encoder
    assert cli_error([*base, f"data.train={small_data[0]}", f"model.name_or_path={out}"]) == (
        f"error: model.name_or_path ({out}) is inside train.output_dir ({out}), which this run "
        f"writes or replaces; {RULE}: choose another train.output_dir")
    assert tree(tmp_path) == before and not (tmp_path / "m.work").exists()


def test_same_file_and_distinct_outputs(tmp_path: Path) -> None:
    from stancekit.fileio import check_outputs, same_file

    a = tmp_path / "a.jsonl"
    a.write_text("x")
    (tmp_path / "sub").mkdir()
    assert same_file(a, tmp_path / "sub" / ".." / "a.jsonl")
    assert not same_file(a, tmp_path / "b.jsonl")
    check_outputs([("--output", tmp_path / "b.jsonl")], [("--input", a), ("--actors", None)])
    with pytest.raises(UsageError, match="each output needs its own file"):
        check_outputs([("--output", tmp_path / "b"), ("--table", tmp_path / "sub" / ".." / "b")],
                      [])


# --------------------------------------------------------------------------- failed writes

def test_read_only_output_directory(model_copy, pairs_file: Path, synthetic_pairs, write_pairs,
                                    failing_writes, cli_error) -> None:
    d = pairs_file.parent
    held = write_pairs(d / "held.jsonl", synthetic_pairs(9, seed=4))
    model = model_copy(corpus="files", train=str(held), dev=str(held))
    ro = d / "ro"
    ro.mkdir()
    failing_writes(ro, errno.EACCES)
    out = ro / "o.jsonl"
    assert cli_error(["predict", "--model", str(model), "--input", str(pairs_file),
                      "--output", str(out), "--rejects", str(d / "rej.jsonl")]) == (
        f"error: {out}: cannot write the file (Permission denied); choose a writable place")
    assert cli_error(["evaluate", "--model", str(model), "--data", str(held), "--output",
                      str(ro), "--no-baselines", "--bootstrap", "0"]) == (
        f"error: {ro / 'metrics.json'}: cannot write the file (Permission denied); choose a "
        "writable place")
    assert list(ro.iterdir()) == []


def test_write_error_names_the_file_and_the_way_on(tmp_path: Path) -> None:
    from stancekit.errors import OutputError
    from stancekit.fileio import write_error

    err = write_error(OSError(errno.ENOSPC, "No space left on device"), tmp_path / "o.partial",
                      "run the same command again to resume")
    assert isinstance(err, OutputError) and err.errno == errno.ENOSPC
    assert str(err) == (f"{tmp_path / 'o.partial'}: cannot write the file (No space left on "
                        "device); free some space, then run the same command again to resume")
    err = write_error(OSError(errno.EROFS, "Read-only file system", "/mnt/x"), "ignored")
    assert str(err) == "/mnt/x: cannot write the file (Read-only file system); choose a " \
                       "writable place"
