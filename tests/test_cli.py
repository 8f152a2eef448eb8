"""The `stancekit` command end to end on a tiny model, and its errors: bad argument values
exit 2 with one ``error:`` line (the ``cli_error`` fixture), argparse's own refusals with
its usage line, and the real process prints no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stancekit.cli import main

ROOT = Path(__file__).resolve().parent.parent


def argparse_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "Traceback" not in err
    assert err.startswith("usage: stancekit")
    return err


@pytest.fixture(scope="module")
def cli_model(tiny_encoder: str, tmp_path_factory: pytest.TempPathFactory, synthetic_pairs,
              write_pairs) -> Path:
    d = tmp_path_factory.mktemp("cli")
    train = write_pairs(d / "train.jsonl", synthetic_pairs(120))
    dev = write_pairs(d / "dev.jsonl", synthetic_pairs(30, seed=1))
    test = write_pairs(d / "test.jsonl", synthetic_pairs(30, seed=2))
    rc = main(["train", "data.corpus=files", f"data.train={train}", f"data.dev={dev}",
               f"data.test={test}", f"model.name_or_path={tiny_encoder}",
               f"train.output_dir={d / 'model'}", "train.epochs=15", "train.learning_rate=3e-3",
               "train.batch_size=8", "train.early_stopping_patience=0", "encoding.max_length=48"])
    assert rc == 0
    return d / "model"


def test_train_writes_evaluation_beside_baselines(cli_model: Path, capsys) -> None:
    results = json.loads((cli_model / "eval" / "metrics.json").read_text())
    assert set(results["test"]) == {"stancekit", "majority", "tfidf_lr"}
    assert results["test"]["majority"]["test_f1_macro"] < 0.2
    assert results["test"]["stancekit"]["test_f1_macro"] > 0.5
    assert (cli_model / "eval" / "metrics.md").read_text().startswith("### test")


def test_evaluate_on_a_file(cli_model: Path, tmp_path: Path, capsys, synthetic_pairs,
                            write_pairs) -> None:
    data = write_pairs(tmp_path / "held.jsonl", synthetic_pairs(30, seed=5))
    assert main(["evaluate", "--model", str(cli_model), "--data", str(data),
                 "--output", str(tmp_path / "ev")]) == 0
    out = capsys.readouterr().out
    assert "### held" in out and "| tfidf_lr |" in out and "| majority |" in out
    assert json.loads((tmp_path / "ev" / "metrics.json").read_text())["held"]["stancekit"]


def test_predict_round_trips_10k_rows(cli_model: Path, tmp_path: Path, capsys,
                                      synthetic_pairs) -> None:
    pairs = synthetic_pairs(10_000, seed=9)
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": p.id, "actor": p.actor, "target": p.target,
                                       "text": p.text}) + "\n" for p in pairs), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--model", str(cli_model), "--input", str(src), "--output",
                 str(out), "--batch-size", "256"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [p.id for p in pairs]
    assert set(rows[0]) == {"id", "label", "probs"}
    assert set(rows[0]["probs"]) == {"support", "neutral", "condemn"}
    assert "read 10000, predicted 10000, rejected 0" in capsys.readouterr().out
    assert not out.with_name("out.jsonl.partial").exists()


def test_predict_with_rejects(cli_model: Path, tmp_path: Path, capsys) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "actor": "Iran", "target": "the deal", "text": "Iran backed it."}\n'
                   '{"id": "b", "actor": "Iran", "target": "the deal", "text": ""}\n',
                   encoding="utf-8")
    out, rej = tmp_path / "o.jsonl", tmp_path / "rej.jsonl"
    assert main(["predict", "--model", str(cli_model), "--input", str(src), "--output", str(out),
                 "--rejects", str(rej)]) == 0
    assert len(out.read_text().splitlines()) == 1
    assert json.loads(rej.read_text())["row"]["id"] == "b"
    assert "read 2, predicted 1, rejected 1" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["predict", "--model", "/nope", "--input", "x.jsonl", "--output", "o.jsonl"],
     "error: /nope: model directory not found"),
    (["train", "--config", "/nope.yaml"], "error: /nope.yaml: config file not found"),
    (["train", "train.batch_size=-2"], "train.batch_size: expected a value >= 1, found -2"),
])
def test_errors_exit_2_without_traceback(args: list[str], message: str, capsys) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bad_input_row_in_predict(cli_model: Path, tmp_path: Path, capsys) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "actor": "Iran", "target": "t", "text": "x"}\n{oops\n')
    assert main(["predict", "--model", str(cli_model), "--input", str(src), "--output",
                 str(tmp_path / "o.jsonl")]) == 2
    assert f"error: {src}:2: invalid JSON" in capsys.readouterr().err
    assert not (tmp_path / "o.jsonl").exists()


def test_existing_output_is_not_overwritten(cli_model: Path, tmp_path: Path, capsys) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "actor": "Iran", "target": "t", "text": "x"}\n')
    out = tmp_path / "o.jsonl"
    out.write_text("keep\n")
    assert main(["predict", "--model", str(cli_model), "--input", str(src), "--output",
                 str(out)]) == 2
    assert "output file exists; pass --overwrite" in capsys.readouterr().err
    assert out.read_text() == "keep\n"


def test_predict_articles_with_an_actor_file(cli_model: Path, tmp_path: Path, capsys) -> None:
    root = ROOT / "examples"
    out, table, windows = tmp_path / "t.jsonl", tmp_path / "t.csv", tmp_path / "w.jsonl"
    assert main(["predict", "--model", str(cli_model), "--input", str(root / "article.jsonl"),
                 "--actors", str(root / "actors.yaml"), "--output", str(out), "--table",
                 str(table), "--pairs-output", str(windows)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {"doc_id", "actor", "target", "label", "probs", "evidence", "n_windows"} <= set(rows[0])
    actors = {r["actor"] for r in rows}
    # every listed actor is named in the example (Ankara, Riyadh, Cairo, the bloc -> EU ...)
    assert actors == {"Turkey", "Saudi Arabia", "Egypt", "European Union",
                      "Lenmar Liberation Front", "Kessler Maritime"}
    assert {r["target"] for r in rows} == {"the operation", "the humanitarian corridors"}
    text = json.loads((root / "article.jsonl").read_text())["text"]
    assert all(r["evidence"] in text for r in rows)
    assert sum(r["n_windows"] for r in rows) == len(windows.read_text().splitlines())
    assert table.read_text().splitlines()[0].startswith("actor,target,n,articles,")
    printed = capsys.readouterr().out
    assert "articles 1 (0 without a known actor)" in printed
    assert "12 stances (labels: support" in printed and f"stances -> {out}; table -> {table}" in printed
    assert printed.count("  Turkey ") == 2  # the preview: one line per stance


def test_articles_without_any_listed_actor_warn(cli_model: Path, tmp_path: Path, capsys) -> None:
    src = tmp_path / "arts.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "Rain fell on the capital.",
                               "actors": ["Iran"], "targets": ["the deal"]}) + "\n")
    assert main(["predict", "--model", str(cli_model), "--input", str(src), "--output",
                 str(tmp_path / "o.jsonl")]) == 0
    assert "warning: no listed actor was found in any article" in capsys.readouterr().err


def test_articles_are_detected_without_flags(cli_model: Path, tmp_path: Path) -> None:
    src = tmp_path / "arts.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "Iran backed the deal. Egypt rejected it.",
                               "actors": ["Iran", "Egypt"], "targets": ["the deal"]}) + "\n")
    out = tmp_path / "o.jsonl"
    assert main(["predict", "--model", str(cli_model), "--input", str(src), "--output",
                 str(out)]) == 0
    assert {json.loads(r)["actor"] for r in out.read_text().splitlines()} == {"Iran", "Egypt"}


def test_article_options_on_pairs_are_refused(cli_model: Path, tmp_path: Path, capsys) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "actor": "Iran", "target": "t", "text": "x"}\n')
    assert main(["predict", "--model", str(cli_model), "--input", str(src), "--output",
                 str(tmp_path / "o.jsonl"), "--table", str(tmp_path / "t.csv")]) == 2
    assert "apply to articles" in capsys.readouterr().err


# --------------------------------------------------------------------------- CLI arguments


def test_cli_argument_values(tmp_path: Path, cli_error, random_model: Path, jsonl,
                             good_row: dict) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl(good_row))
    base = ["predict", "--model", str(random_model), "--input", str(src)]
    out = tmp_path / "o.jsonl"
    assert cli_error([*base, "--output", str(out), "--batch-size", "0"]) == \
        "error: --batch-size: expected a positive integer, found 0"
    missing_dir = tmp_path / "no" / "o.jsonl"
    assert cli_error([*base, "--output", str(missing_dir)]) == \
        f"error: {missing_dir.parent}: the output directory does not exist"
    rejects = tmp_path / "no" / "rejects.jsonl"
    assert cli_error([*base, "--output", str(out), "--rejects", str(rejects)]) == \
        f"error: {rejects.parent}: the directory of the rejects file does not exist"
    missing = tmp_path / "missing.jsonl"
    assert cli_error(["predict", "--model", str(random_model), "--input", str(missing),
                      "--output", str(out)]) == f"error: {missing}: file not found"
    assert cli_error(["evaluate", "--model", str(random_model), "--data", str(missing)]) == \
        f"error: {missing}: file not found"
    assert cli_error(["evaluate", "--model", str(random_model), "--data", str(src),
                      "--label-scheme", "nope"]).startswith(
        "error: --label-scheme: unknown label scheme 'nope'; known: ['agree_disagree',")
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    pytest.param(["--batch-size", "abc"], "argument --batch-size: invalid int value: 'abc'",
                 id="non-integer-batch-size"),
    pytest.param(["--backend", "tensorrt"], "argument --backend: invalid choice: 'tensorrt'",
                 id="unknown-backend"),
    pytest.param(["--by", "week"], "argument --by: invalid choice: 'week'", id="unknown-period"),
])
def test_cli_arguments_argparse_refuses(args: list[str], message: str, capsys) -> None:
    err = argparse_error(["predict", "--model", "m", "--input", "i.jsonl", "--output", "o.jsonl",
                          *args], capsys)
    assert f"stancekit predict: error: {message}" in err


def test_cli_missing_arguments_and_commands(capsys) -> None:
    assert "the following arguments are required: --model, --output" in \
        argparse_error(["predict", "--input", "x.jsonl"], capsys)
    assert "argument command: invalid choice: 'fit'" in argparse_error(["fit"], capsys)


def test_console_entry_point_prints_no_traceback(tmp_path: Path) -> None:
    """The real process: one line and exit 2; --debug shows the traceback."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "stancekit.cli", "train", "--config", str(tmp_path / "x.yaml")]
    plain = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    assert plain.stderr.splitlines()[-1] == f"error: {tmp_path / 'x.yaml'}: config file not found"
    debug = subprocess.run([*cmd[:3], "--debug", *cmd[3:]], capture_output=True, text=True,
                           env=env, cwd=tmp_path)
    assert debug.returncode == 1 and "Traceback" in debug.stderr
    assert "stancekit.errors.ConfigError" in debug.stderr
