"""Readers: every kind of bad row fails with file, line, field — or goes to the rejects file.

The catalogue of bad pair files is checked twice: through `PairReader`, where the error must
name the file, line and field and say what was expected; and through `stancekit train`, which
must exit 2 with one ``error:`` line (the ``cli_error`` fixture).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from stancekit.data.readers import PairReader
from stancekit.errors import ConfigError, DataError
from stancekit.labels import LabelScheme

GOOD = {"id": "1", "actor": "Iran", "target": "the deal", "text": "Iran backed the deal.",
        "label": "support"}


def jsonl(*rows: dict | str) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows).encode()


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_bytes(jsonl(*rows))
    return path


@pytest.mark.parametrize("row, message", [
    ({**GOOD, "text": ""}, "f.jsonl:2 field 'text': expected a non-empty value, found an empty one"),
    ({**GOOD, "text": "  \t "}, "f.jsonl:2 field 'text': expected a non-empty value, found an empty one"),
    ({k: v for k, v in GOOD.items() if k != "actor"},
     "f.jsonl:2 field 'actor': expected the column 'actor', but only ['id', 'label', 'target', 'text'] were found"),
    ({**GOOD, "label": "FAVOR"}, "f.jsonl:2 field 'label': unknown label 'FAVOR'; the label scheme 'stancekit' knows"),
    ({**GOOD, "label": None}, "f.jsonl:2 field 'label': expected a label"),
    ({**GOOD, "actor": 12}, "f.jsonl:2 field 'actor': expected a string, found int 12"),
    ({**GOOD, "id": [1]}, "f.jsonl:2 field 'id': expected a string or integer id, found list"),
    ({**GOOD, "text": "x" * 200_001}, "f.jsonl:2 field 'text': text has 200,001 characters"),
    ("{not json", "f.jsonl:2: invalid JSON: Expecting property name enclosed in double quotes at column 2"),
    ("[1, 2]", "f.jsonl:2: expected a JSON object per line, found list"),
    ({**GOOD}, "f.jsonl:2 field 'id': duplicate id '1'; ids must be unique in a file"),
])
def test_bad_jsonl_rows_name_file_line_field(tmp_path: Path, row, message: str) -> None:
    path = write_jsonl(tmp_path / "f.jsonl", [GOOD, row])
    with pytest.raises(DataError) as err:
        PairReader(require_label=True).read(path)
    assert str(err.value).startswith(str(tmp_path / message.split(":")[0]) + ":" +
                                      message.split(":", 1)[1])


def test_wrong_encoding_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin.jsonl"
    path.write_bytes(json.dumps(GOOD).encode() + b"\n" + '{"text": "caf\xe9"}'.encode("latin-1") + b"\n")
    with pytest.raises(DataError, match=r"latin.jsonl:2: not valid UTF-8 \(byte 0xe9 at column 14\)"):
        PairReader().read(path)


def test_truncated_last_line_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps(GOOD)[:30], encoding="utf-8")
    with pytest.raises(DataError, match=r"t.jsonl:2: invalid JSON: .*\(the last line looks truncated\)"):
        PairReader().read(path)


def test_bom_and_blank_lines_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD).encode() + b"\n\n")
    assert [p.id for p in PairReader().read(path)] == ["1"]


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nope.jsonl: file not found"):
        PairReader().read(tmp_path / "nope.jsonl")
    (tmp_path / "d.jsonl").mkdir()
    with pytest.raises(DataError, match="expected a file, found a directory"):
        PairReader().read(tmp_path / "d.jsonl")
    with pytest.raises(DataError, match=r"cannot tell the format from the extension '.xlsx'"):
        PairReader().read(tmp_path / "f.xlsx")


def test_empty_file_gives_no_pairs(tmp_path: Path) -> None:
    assert PairReader().read(write_jsonl(tmp_path / "e.jsonl", [])) == []


def test_csv_with_column_and_label_mapping(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text('Tweet,Target,Stance,source\n"Stop, please",Joe Biden,AGAINST,author\n'
                    "Go go,Joe Biden,FAVOR,author\n", encoding="utf-8")
    reader = PairReader(columns={"text": "Tweet", "target": "Target", "label": "Stance",
                                 "actor": "source"},
                        label_scheme=LabelScheme("favor_against"), require_label=True)
    pairs = reader.read(path)
    assert [(p.text, p.label) for p in pairs] == [("Stop, please", "condemn"), ("Go go", "support")]
    assert pairs[0].id == "p.csv:2"


def test_csv_nan_and_ragged_rows(tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    path.write_text("id,actor,target,text\n1,Iran,the deal,\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"n.csv:2 field 'text': expected a non-empty value"):
        PairReader().read(path)
    path.write_text("id,actor,target,text\n1,Iran,the deal\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"n.csv:2: expected 4 columns as in the header, found 3"):
        PairReader().read(path)


def test_parquet_rows_and_nulls(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"id": ["a", "b"], "actor": ["Iran", "Iran"],
                             "target": ["the deal", "the deal"], "text": ["ok", None]}), path)
    with pytest.raises(DataError, match=r"p.parquet:2 field 'text': expected a non-empty value"):
        PairReader().read(path)


def test_rejects_file_keeps_every_bad_row(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "f.jsonl", [GOOD, {**GOOD, "id": "2", "text": ""}, "{bad",
                                              {**GOOD, "id": "3"}])
    rejects = tmp_path / "rejects.jsonl"
    reader = PairReader(on_error="reject", rejects_path=rejects)
    assert [p.id for p in reader.read(path)] == ["1", "3"]
    rows = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(r["line"], r["field"]) for r in rows] == [(2, "text"), (3, None)]
    assert rows[0]["row"]["id"] == "2" and "empty" in rows[0]["reason"]
    assert rows[1]["row"] == "{bad"  # the raw line, so nothing is lost
    assert reader.counts == {"read": 4, "rejected": 2}


@pytest.mark.parametrize("name, content, bad", [
    pytest.param("r.csv", "id,actor,target,text\n1,Iran,the deal,Iran backed the deal.\n"
                 "2,Iran,the deal\n3,Iran,the deal,Iran backed it.\n".encode(),
                 (3, "expected 4 columns as in the header, found 3", ["2", "Iran", "the deal"]),
                 id="csv-ragged-row"),
    pytest.param("l.csv", "id,actor,target,text\n1,Iran,the deal,Iran backed the deal.\n"
                 "2,Iran,the deal,caf\xe9 owners backed it\n"
                 "3,Iran,the deal,Iran backed it.\n".encode("latin-1"),
                 (3, "not valid UTF-8 (byte 0xe9 at column 20); re-save the file as UTF-8",
                  "2,Iran,the deal,caf\\xe9 owners backed it"), id="csv-latin1-row"),
    pytest.param("l.csv", 'id,actor,target,text\n1,Iran,the deal,"Iran backed\nthe deal."\n'
                 '2,Iran,the deal,"caf\xe9\nowners"\n3,Iran,the deal,Iran backed it.\n'
                 .encode("latin-1"),
                 (4, "not valid UTF-8 (byte 0xe9 at column 21); re-save the file as UTF-8",
                  '2,Iran,the deal,"caf\\xe9'), id="csv-latin1-inside-a-quoted-cell"),
    pytest.param("l.jsonl", (json.dumps({**GOOD, "id": "1"}) + "\n"
                             + json.dumps({**GOOD, "id": "2", "text": "caf\xe9"},
                                          ensure_ascii=False)
                             + "\n" + json.dumps({**GOOD, "id": "3"}) + "\n").encode("latin-1"),
                 (2, "not valid UTF-8 (byte 0xe9 at column 64); re-save the file as UTF-8", None),
                 id="jsonl-latin1-line"),
])
def test_bad_line_goes_to_rejects_and_the_rest_is_read(tmp_path: Path, name: str, content: bytes,
                                                       bad: tuple) -> None:
    """A ragged CSV row or a line that is not UTF-8 is one bad row: with a rejects file it is
    diverted there (file, line, reason) and the rows after it are read; without one, the run
    stops at it (test_csv_nan_and_ragged_rows, test_wrong_encoding_names_the_line)."""
    path = tmp_path / name
    path.write_bytes(content)
    rejects = tmp_path / "rejects.jsonl"
    reader = PairReader(on_error="reject", rejects_path=rejects)
    assert [p.id for p in reader.read(path)] == ["1", "3"]
    (row,) = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    line, reason, raw = bad
    assert (row["path"], row["line"], row["reason"]) == (str(path), line, reason)
    if raw is not None:
        assert row["row"] == raw
    else:
        assert '"id": "2"' in row["row"] and "caf\\xe9" in row["row"]
    assert reader.counts == {"read": 3, "rejected": 1}
    with pytest.raises(DataError, match=f"{name}:{line}: " + re.escape(reason)):
        PairReader().read(path)


def test_utf16_file_is_refused_whole_even_with_rejects(tmp_path: Path) -> None:
    path = tmp_path / "u.jsonl"
    path.write_bytes((json.dumps(GOOD) + "\n").encode("utf-16"))
    reader = PairReader(on_error="reject", rejects_path=tmp_path / "rejects.jsonl")
    with pytest.raises(DataError, match=r"u.jsonl:1: not valid UTF-8 \(byte 0xff at column 1\)"):
        reader.read(path)


def test_label_schemes() -> None:
    assert LabelScheme("favor_against")(" against ") == "condemn"
    assert LabelScheme({"6": "support", "4": "neutral", "2": "condemn"})(6.0) == "support"
    assert LabelScheme("numeric")(-1) == "condemn"
    with pytest.raises(ConfigError, match="unknown label scheme 'nope'"):
        LabelScheme("nope")
    with pytest.raises(ConfigError, match=r"maps onto \['positive'\]"):
        LabelScheme({"pos": "positive"})


# --------------------------------------------------------------------------- pair files


def _parquet(columns: dict) -> bytes:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf)
    return buf.getvalue()


def _parquet_columns(names: list[str]) -> bytes:
    """A one-row Parquet file whose columns are ``names`` (which may repeat)."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.Table.from_arrays([pa.array(["x"]) for _ in names], names=names), buf)
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
                 "'condemn']; choose another scheme with ", id="csv-NaN-label"),
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
    pytest.param("n.jsonl", jsonl(GOOD, '{"id": NaN, "actor": "Iran", "target": "the deal", '
                                        '"text": "Iran backed it.", "label": "support"}'),
                 2, "id", "expected a string or integer id, found NaN", id="jsonl-NaN-id"),
    pytest.param("n.jsonl", jsonl(GOOD, {**GOOD, "id": "2", "doc_id": float("nan")}), 2,
                 "doc_id", "expected a string or integer id, found NaN", id="jsonl-NaN-doc-id"),
    pytest.param("n.parquet", _parquet({**_ROW, "text": ["x"], "id": [float("nan")]}), 1, "id",
                 "expected a string or integer id, found NaN", id="parquet-NaN-id"),
    pytest.param("k.jsonl", jsonl(GOOD, '{"id": "2", "actor": "Iran", "target": "the deal", '
                                        '"text": "Iran backed it.", "actor": "Egypt"}'), 2,
                 "actor", "the key 'actor' appears twice in one object; a JSON reader would "
                 "keep only the last value", id="jsonl-repeated-key"),
    pytest.param("k.jsonl", jsonl(GOOD, '{"id": "2", "actor": "Iran", "target": "the deal", '
                                        '"text": "x", "meta": {"a": 1, "a": 2}}'), 2,
                 "a", "the key 'a' appears twice in one object", id="jsonl-repeated-nested-key"),
    pytest.param("k.parquet", _parquet_columns(["id", "actor", "target", "text", "text"]), None,
                 None, "the file repeats the columns ['text']", id="parquet-repeated-column"),
    pytest.param("c.csv", ",".join(["id", "actor", "target", "text"]
                                   + [f"c{i}" for i in range(50_000)]).encode() + b"\n", 1, None,
                 "the header has 50,004 columns, more than the 1,000 allowed",
                 id="csv-50k-columns"),
    pytest.param("g.jsonl", jsonl(GOOD, '{"id": "2", "actor": "Iran\\ud800", "target": "t", '
                                        '"text": "x", "label": "support"}'), 2, None,
                 "invalid JSON: the escape '\\ud800' is half a surrogate pair, not a character",
                 id="json-lone-surrogate-escape"),
]


@pytest.mark.parametrize("name, content, line, field, reason", PAIR_FILES)
def test_bad_pair_file(tmp_path: Path, cli_error, small_data, name: str, content: bytes,
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
    out = cli_error(["train", "data.corpus=files", f"data.train={path}", f"train.output_dir={tmp_path}/m",
                     f"data.dev={small_data[1]}"])
    assert out.startswith(f"error: {where}: {reason}")


def test_unreadable_pair_file(tmp_path: Path, cli_error, monkeypatch, small_data) -> None:
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
    out = cli_error(["train", "data.corpus=files", f"data.train={path}", f"train.output_dir={tmp_path}/m",
                     f"data.dev={small_data[1]}"])
    assert out == f"error: {path}: cannot read the file (Permission denied)"


def test_column_mapped_to_a_column_the_file_lacks(tmp_path: Path, cli_error, small_data) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(jsonl(GOOD))
    reason = ("expected the column 'sentence', but only ['actor', 'id', 'label', 'target', "
              "'text'] were found (map it with ")
    with pytest.raises(DataError) as info:
        PairReader(columns={"text": "sentence"}).read(path)
    assert (info.value.line, info.value.field, info.value.reason) == \
        (1, "sentence", reason + "columns={'text': 'COLUMN'})")
    out = cli_error(["train", "data.corpus=files", f"data.train={path}", f"train.output_dir={tmp_path}/m",
                     f"data.dev={small_data[1]}", "data.columns={text: sentence}"])
    # the hint in the words of the place the mapping is given: a config override here
    assert out == f"error: {path}:1 field 'sentence': {reason}data.columns={{text: COLUMN}})"


@pytest.mark.parametrize("content", [
    pytest.param(b"", id="empty-file"),
    pytest.param(b"\n  \n\t\n", id="only-blank-lines"),
    pytest.param(b"\xef\xbb\xbf", id="only-a-BOM"),
])
def test_train_file_without_rows(tmp_path: Path, cli_error, small_data, content: bytes) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(content)
    assert PairReader().read(path) == []  # an empty file is no error for prediction ...
    out = cli_error(["train", "data.corpus=files", f"data.train={path}", f"train.output_dir={tmp_path}/m",
                     f"data.dev={small_data[1]}"])  # ... but nothing to train on is
    assert out == "error: the train split is empty; nothing to train on"


def test_accepted_variants_bom_csv_header_and_extra_columns(tmp_path: Path) -> None:
    """Not errors: a CSV saved with a BOM (Excel) and columns stancekit does not know."""
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbfid,actor,target,text,label,source\r\n"
                     b"1,Iran,the deal,Iran backed the deal.,support,wire\r\n")
    (pair,) = PairReader(require_label=True).read(path)
    assert (pair.id, pair.label, dict(pair.meta)) == ("1", "support", {"source": "wire"})


def test_reader_options_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^on_error: expected 'raise' or 'reject', "
                       r"found 'skip'$"):
        PairReader(on_error="skip")
    with pytest.raises(ConfigError, match=r"^column mapping names unknown fields \['speaker'\]"):
        PairReader(columns={"speaker": "source"})
    with pytest.raises(ConfigError, match="needs a rejects_path"):
        PairReader(on_error="reject")
