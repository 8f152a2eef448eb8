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
    assert "argument COMMAND: invalid choice: 'fit'" in argparse_error(["fit"], capsys)


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


# --------------------------------------------------------------------------- conventions


def test_version_help_and_python_m(capsys) -> None:
    from stancekit import __version__

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out == f"stancekit {__version__}\n"
    assert main([]) == 0  # bare `stancekit`: the help, not an error
    out = capsys.readouterr().out
    assert out.startswith("usage: stancekit") and "commands:\n  COMMAND\n    train " in out
    assert "stancekit predict --model" in out  # examples
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "stancekit", "--version"], capture_output=True,
                         text=True, env=env)
    assert run.returncode == 0 and run.stdout == f"stancekit {__version__}\n"


def test_debug_is_accepted_after_the_subcommand(tmp_path: Path) -> None:
    from stancekit.errors import ConfigError

    with pytest.raises(ConfigError, match="config file not found"):
        main(["train", "--config", str(tmp_path / "x.yaml"), "--debug"])
    with pytest.raises(ConfigError, match="config file not found"):
        main(["--debug", "train", "--config", str(tmp_path / "x.yaml")])


def test_one_input_flag_with_the_old_name_hidden(cli_model: Path, tmp_path: Path, capsys,
                                                 synthetic_pairs, write_pairs) -> None:
    data = write_pairs(tmp_path / "held.jsonl", synthetic_pairs(20, seed=5))
    for flag in ("--input", "--data"):
        assert main(["evaluate", "--model", str(cli_model), flag, str(data), "--output",
                     str(tmp_path / flag.strip("-")), "--bootstrap", "0"]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    help_text = capsys.readouterr().out
    assert "--input FILE" in help_text and "--data" not in help_text


def test_train_refuses_to_replace_a_model_without_overwrite(cli_model: Path, cli_error,
                                                            small_data) -> None:
    before = (cli_model / "model.safetensors").read_bytes()
    assert cli_error(["train", "data.corpus=files", f"data.train={small_data[0]}",
                      f"data.dev={small_data[1]}", f"train.output_dir={cli_model}"]) == (
        f"error: {cli_model}: a model directory is already there; pass --overwrite (Python: "
        "train(..., overwrite=True)) to replace it, or choose another train.output_dir")
    assert (cli_model / "model.safetensors").read_bytes() == before


def test_relative_data_paths_survive_a_change_of_directory(
        tiny_encoder: str, tmp_path: Path, monkeypatch, capfd, synthetic_pairs,
        write_pairs) -> None:
    """Data paths are stored absolute, so `evaluate` from elsewhere finds the train split
    (its baselines); training prints no transformers LOAD REPORT or mean_resizing notice."""
    work = tmp_path / "project"
    work.mkdir()
    write_pairs(work / "train.jsonl", synthetic_pairs(30))
    write_pairs(work / "dev.jsonl", synthetic_pairs(12, seed=1))
    write_pairs(work / "test.jsonl", synthetic_pairs(12, seed=2))
    monkeypatch.chdir(work)
    assert main(["train", "data.corpus=files", "data.train=train.jsonl", "data.dev=dev.jsonl",
                 "data.test=test.jsonl", f"model.name_or_path={tiny_encoder}",
                 "train.output_dir=model", "train.max_steps=2", "encoding.max_length=32",
                 "--no-eval"]) == 0
    err = capfd.readouterr().err
    assert "LOAD REPORT" not in err and "mean_resizing" not in err and "Loading weights" not in err
    config = json.loads((work / "model" / "stancekit.json").read_text())["config"]
    assert config["data"]["train"] == str(work / "train.jsonl")
    monkeypatch.chdir(tmp_path)
    assert main(["evaluate", "--model", "project/model", "--bootstrap", "0"]) == 0
    assert "| tfidf_lr |" in capfd.readouterr().out


def test_only_the_stancekit_logger_is_configured(capsys) -> None:
    import logging

    from stancekit.cli import setup_logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    setup_logging()
    setup_logging()  # again: still one handler
    assert root.handlers == handlers and root.level == level
    assert sum(type(h).__name__ == "_Stderr" for h in logging.getLogger("stancekit").handlers) == 1
    logging.getLogger("matplotlib.font_manager").info("generated new fontManager")
    logging.getLogger("stancekit.training").info("training in bf16")
    err = capsys.readouterr().err
    assert "training in bf16" in err and "fontManager" not in err


# --------------------------------------------------------------------------- columns


def test_predict_and_evaluate_follow_the_column_and_label_hints(cli_model: Path, tmp_path: Path,
                                                                capsys, cli_error) -> None:
    rows = [{"uid": f"u{i}", "source": actor, "target": "the deal", "sentence": text,
             "stance": gold, "outlet": "wire"}
            for i, (actor, text, gold) in enumerate([
                ("Iran", "Iran backed the deal, the ministry said.", "FAVOR"),
                ("Egypt", "Egypt condemned the deal, the ministry said.", "AGAINST"),
                ("Kenya", "Kenya noted the deal, the ministry said.", "NONE")] * 4)]
    src = tmp_path / "mine.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "o.jsonl"
    base = ["predict", "--model", str(cli_model), "--input", str(src), "--output", str(out)]
    assert cli_error([*base, "--articles"]).startswith(f"error: {src}:1")  # no 'actor': articles
    hint = cli_error([*base, "--columns", "actor=source"])
    assert hint == (f"error: {src}:1 field 'text': expected the column 'text', but only "
                    "['outlet', 'sentence', 'source', 'stance', 'target', 'uid'] were found "
                    "(map it with --columns text=COLUMN)")
    assert main([*base, "--columns", "actor=source,text=sentence", "--columns", "id=uid",
                 "--keep-columns"]) == 0
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in got] == [r["uid"] for r in rows]
    assert set(got[0]) == {"uid", "source", "target", "sentence", "stance", "outlet", "id",
                           "label", "probs"}
    assert got[0]["outlet"] == "wire" and got[0]["stance"] == "FAVOR"
    ev = ["evaluate", "--model", str(cli_model), "--input", str(src), "--columns",
          "actor=source,text=sentence,id=uid,label=stance", "--output", str(tmp_path / "ev"),
          "--bootstrap", "0"]
    assert cli_error(ev).endswith("field 'stance': unknown label 'FAVOR'; the label scheme "
                                  "'stancekit' knows ['condemn', 'neutral', 'support'] (stancekit "
                                  "labels: ['support', 'neutral', 'condemn']; choose another "
                                  "scheme with --label-scheme NAME)")
    assert main([*ev, "--label-scheme", "favor_against"]) == 0
    assert main([*ev, "--label-scheme", "FAVOR=support,NONE=neutral,AGAINST=condemn"]) == 0
    assert "### mine" in capsys.readouterr().out
    assert cli_error([*base, "--columns", "txt=sentence", "--overwrite"]) == (
        "error: --columns: unknown field 'txt'; the fields that can be mapped are ['id', "
        "'actor', 'target', 'text', 'label', 'doc_id']")


def test_keep_columns_renames_clashing_input_columns(cli_model: Path, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,actor,target,text,label,probs\n"
                   "a,Iran,the deal,Iran backed the deal.,support,0.3\n", encoding="utf-8")
    out = tmp_path / "o.jsonl"
    assert main(["predict", "--model", str(cli_model), "--input", str(src), "--output", str(out),
                 "--keep-columns"]) == 0
    row = json.loads(out.read_text())
    assert list(row) == ["actor", "target", "text", "input_label", "input_probs", "id", "label",
                         "probs"]
    assert row["input_label"] == "support" and row["input_probs"] == "0.3"
    assert set(row["probs"]) == {"support", "neutral", "condemn"}
