"""Readers: every kind of bad row fails with file, line, field — or goes to the rejects file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stancekit.data.readers import PairReader
from stancekit.errors import DataError
from stancekit.errors import ConfigError
from stancekit.labels import LabelScheme

GOOD = {"id": "1", "actor": "Iran", "target": "the deal", "text": "Iran backed the deal.",
        "label": "support"}


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows),
                    encoding="utf-8")
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


def test_label_schemes() -> None:
    assert LabelScheme("favor_against")(" against ") == "condemn"
    assert LabelScheme({"6": "support", "4": "neutral", "2": "condemn"})(6.0) == "support"
    assert LabelScheme("numeric")(-1) == "condemn"
    with pytest.raises(ConfigError, match="unknown label scheme 'nope'"):
        LabelScheme("nope")
    with pytest.raises(ConfigError, match=r"maps onto \['positive'\]"):
        LabelScheme({"pos": "positive"})
