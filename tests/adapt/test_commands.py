"""The adapt commands end to end on tiny models: select (pairs and articles) -> export -> a Label
Studio export written by hand -> import -> train one step; argument errors."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from stancekit.cli import main


@pytest.fixture
def pool(tmp_path: Path, synthetic_pairs, write_pairs) -> Path:
    pairs = [dataclasses.replace(p, label=None) for p in synthetic_pairs(40, seed=5)]
    return write_pairs(tmp_path / "pool.jsonl", pairs)


def test_select_export_import_train(tmp_path: Path, trained_model: Path, tiny_encoder: str,
                                    pool: Path, capsys) -> None:
    picked, tasks = tmp_path / "to_label.jsonl", tmp_path / "tasks.json"
    assert main(["select", "--model", str(trained_model), "--input", str(pool), "--n", "12",
                 "--random-share", "0.25", "--output", str(picked), "--backend", "torch"]) == 0
    assert "selected 12 (9 by uncertainty, 3 at random)" in capsys.readouterr().out
    rows = [json.loads(x) for x in picked.read_text().splitlines()]
    assert [r["meta"]["selection"]["by"] for r in rows] == ["random"] * 3 + ["uncertainty"] * 9
    assert all(set(r["meta"]["prediction"]["probs"]) == {"support", "neutral", "condemn"}
               for r in rows)
    assert len({r["doc_id"] for r in rows}) >= 6  # at most two per document

    assert main(["export", "--format", "label-studio", "--input", str(picked), "--output",
                 str(tasks)]) == 0
    assert "tasks 12 (12 with the model's pre-annotation)" in capsys.readouterr().out
    exported = json.loads(tasks.read_text())
    assert (tmp_path / "tasks.label_config.xml").read_text().startswith("<View>")
    first = exported[0]
    assert first["predictions"][0]["score"] == pytest.approx(
        max(rows[0]["meta"]["prediction"]["probs"].values()), abs=1e-6)

    # what Label Studio gives back: every task, two annotators on the first four
    export = []
    for k, t in enumerate(exported):
        gold = t["data"]["pair"]["text"]
        label = ("support" if any(w in gold for w in ("backed", "welcomed", "praised", "endorsed"))
                 else "condemn" if any(w in gold for w in ("condemned", "denounced", "rejected",
                                                              "slammed")) else "neutral")
        anns = [{"id": 2 * k + 1, "completed_by": 1, "was_cancelled": False,
                 "result": [{"from_name": "stance", "to_name": "text", "type": "choices",
                             "value": {"choices": [label]}}]}]
        if k < 4:
            other = label if k < 3 else "not about this target"
            anns.append({"id": 2 * k + 2, "completed_by": 2, "was_cancelled": False,
                         "result": [{"from_name": "stance", "to_name": "text", "type": "choices",
                                     "value": {"choices": [other]}}]})
        export.append({"id": 10 + k, "data": t["data"], "annotations": anns})
    (tmp_path / "export.json").write_text(json.dumps(export))
    mine = tmp_path / "mine.jsonl"
    assert main(["import", "--input", str(tmp_path / "export.json"), "--output", str(mine)]) == 0
    out = capsys.readouterr().out
    assert "tasks 12: labelled" in out and "4 tasks with 2+ annotators" in out
    labelled = [json.loads(x) for x in mine.read_text().splitlines()]
    assert len(labelled) + json.loads((tmp_path / "mine.agreement.json").read_text())[
        "counts"]["conflicts"] == 12
    assert labelled[0]["meta"]["annotators"] == ["1", "2"]
    assert "prediction" not in labelled[0]["meta"] and "selection" in labelled[0]["meta"]

    assert main(["train", "data.corpus=files", f"data.train={mine}", "data.dev_fraction=0.25",
                 f"model.name_or_path={trained_model}", f"train.output_dir={tmp_path / 'm'}",
                 "train.max_steps=1", "train.batch_size=4", "encoding.max_length=48",
                 "--no-eval"]) == 0
    assert (tmp_path / "m" / "model.safetensors").is_file()


def test_select_from_articles_with_an_actor_file(tmp_path: Path, trained_model: Path) -> None:
    arts = tmp_path / "articles.jsonl"
    arts.write_text("".join(json.dumps({"id": f"a{i}", "text": f"Iran backed the deal {i}. Turkey "
                                        "condemned the deal. Egypt noted the deal."}) + "\n"
                            for i in range(5)))
    actors = tmp_path / "actors.yaml"
    actors.write_text("actors: [Iran, Turkey, Egypt]\ntargets: [the deal]\n")
    out = tmp_path / "picked.jsonl"
    assert main(["select", "--model", str(trained_model), "--input", str(arts), "--actors",
                 str(actors), "--n", "4", "--output", str(out), "--backend", "torch"]) == 0
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(rows) == 4 and all(r["target"] == "the deal" for r in rows)
    assert all(r["actor_spans"] for r in rows)


def test_exclude_skips_labelled_pairs(tmp_path: Path, trained_model: Path, pool: Path,
                                      synthetic_pairs, write_pairs) -> None:
    done = write_pairs(tmp_path / "done.jsonl", synthetic_pairs(40, seed=5)[:30])
    out = tmp_path / "next.jsonl"
    assert main(["select", "--model", str(trained_model), "--input", str(pool), "--n", "40",
                 "--exclude", str(done), "--output", str(out), "--max-per-doc", "5",
                 "--duplicate-threshold", "1", "--backend", "torch"]) == 0
    ids = {json.loads(x)["id"] for x in out.read_text().splitlines()}
    assert ids and ids <= {f"s{i}" for i in range(30, 40)}


def test_export_without_predictions_uses_the_model(tmp_path: Path, trained_model: Path,
                                                    pool: Path) -> None:
    out = tmp_path / "t.json"
    assert main(["export", "--input", str(pool), "--output", str(out)]) == 0
    assert "predictions" not in json.loads(out.read_text())[0]
    assert main(["export", "--input", str(pool), "--output", str(out), "--overwrite", "--model",
                 str(trained_model), "--backend", "torch"]) == 0
    assert json.loads(out.read_text())[0]["predictions"][0]["model_version"] == "stancekit:model"


@pytest.mark.parametrize("args, message", [
    (["select", "--n", "0"], "error: --n: expected a positive integer, found 0"),
    (["select", "--n", "5", "--random-share", "2"],
     "random_share: expected a share in [0, 1], found 2.0"),
    (["select", "--n", "5", "--spread", "3"], "spread: expected a factor in [0, 1], found 3.0"),
    (["select", "--n", "5", "--batch-size", "0"],
     "error: --batch-size: expected a positive integer, found 0"),
])
def test_select_argument_values(tmp_path: Path, trained_model: Path, pool: Path, cli_error,
                                args, message) -> None:
    out = cli_error([args[0], "--model", str(trained_model), "--input", str(pool), "--output",
                     str(tmp_path / "o.jsonl"), *args[1:]])
    assert message in out


def test_outputs_are_not_overwritten(tmp_path: Path, trained_model: Path, pool: Path,
                                     cli_error) -> None:
    out = tmp_path / "o.json"
    out.write_text("keep")
    msg = cli_error(["export", "--input", str(pool), "--output", str(out)])
    assert msg == f"error: {out}: output file exists; pass --overwrite to replace it"
    assert out.read_text() == "keep"
    msg = cli_error(["import", "--input", str(pool), "--output", str(tmp_path / "no" / "p.jsonl")])
    assert msg == f"error: {tmp_path / 'no'}: the output directory does not exist"
    msg = cli_error(["select", "--model", str(trained_model), "--input", str(pool), "--n", "2",
                     "--output", str(out)])
    assert msg == f"error: {out}: output file exists; pass --overwrite to replace it"
