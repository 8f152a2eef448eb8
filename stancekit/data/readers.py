"""Readers for files of pairs: JSON Lines, CSV and Parquet.

Every bad row fails with one error naming file, line and field; with
``on_error="reject"`` it is written to a rejects file with the reason instead.
Nothing is dropped silently.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..errors import DataError
from ..labels import LABELS, LabelScheme
from .records import StancePair

FIELDS = ("id", "actor", "target", "text", "label", "doc_id")
REQUIRED = ("actor", "target", "text")
FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv",
           ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}
MAX_TEXT_CHARS = 200_000


def detect_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise DataError(f"cannot tell the format from the extension {suffix!r}; expected one of "
                        f"{sorted(FORMATS)}", path=str(path))
    return FORMATS[suffix]


def iter_records(path: str | Path, fmt: str | None = None, *, bad_rows: str = "raise"
                 ) -> Iterator[tuple[int, dict[str, Any] | DataError]]:
    """Yield ``(line_number, row)`` for each record of a JSONL, CSV/TSV or Parquet file.

    Args:
        bad_rows: ``"raise"`` raises on a line that cannot be parsed; ``"yield"`` yields
            ``(line_number, DataError)`` for it and goes on with the next line.

    Raises:
        DataError: The file is missing, unreadable, not UTF-8, or a line is not a JSON object.
    """
    path = Path(path)
    fmt = fmt or detect_format(path)
    if not path.exists():
        raise DataError("file not found", path=str(path))
    if path.is_dir():
        raise DataError("expected a file, found a directory", path=str(path))
    try:
        if fmt == "parquet":
            yield from _iter_parquet(path)
            return
        with path.open("rb") as fh:
            lines = _decoded_lines(fh, path)
            if fmt == "jsonl":
                for lineno, row in _iter_jsonl(lines, path):
                    if isinstance(row, DataError) and bad_rows == "raise":
                        raise row
                    yield lineno, row
            else:
                yield from _iter_csv(lines, path, delimiter="\t" if fmt == "tsv" else ",")
    except PermissionError as exc:
        raise DataError(f"cannot read the file ({exc.strerror})", path=str(path)) from None


def _decoded_lines(fh: Any, path: Path) -> Iterator[str]:
    for lineno, raw in enumerate(fh, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"not valid UTF-8 (byte {raw[exc.start]:#x} at column {exc.start + 1});"
                            " re-save the file as UTF-8", path=str(path), line=lineno) from None
        if lineno == 1:
            line = line.removeprefix("\ufeff")
        yield line


def _iter_jsonl(lines: Iterator[str], path: Path) -> Iterator[tuple[int, dict | DataError]]:
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            hint = "" if line.endswith("\n") else " (the last line looks truncated)"
            err = DataError(f"invalid JSON: {exc.msg} at column {exc.colno}{hint}",
                            path=str(path), line=lineno)
            err.raw = line.rstrip("\n")
            yield lineno, err
            continue
        if not isinstance(row, dict):
            yield lineno, DataError(f"expected a JSON object per line, found {type(row).__name__}",
                                    path=str(path), line=lineno)
            continue
        yield lineno, row


def _iter_csv(lines: Iterator[str], path: Path, delimiter: str) -> Iterator[tuple[int, dict]]:
    reader = csv.reader(lines, delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        return
    header = [h.strip() for h in header]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise DataError(f"the header repeats the columns {dupes}", path=str(path), line=1)
    start = reader.line_num + 1
    for cells in reader:
        lineno, start = start, reader.line_num + 1
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise DataError(f"expected {len(header)} columns as in the header, found {len(cells)}",
                            path=str(path), line=lineno)
        yield lineno, dict(zip(header, cells))


def _iter_parquet(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise DataError(f"not a readable Parquet file ({exc})", path=str(path)) from None
    row = 0
    for batch in pf.iter_batches(batch_size=4096):
        for rec in batch.to_pylist():
            row += 1
            yield row, rec


@dataclass
class PairReader:
    """Reads pairs from a file, mapping columns and labels, validating every row.

    Args:
        columns: Maps stancekit fields to the file's column names, e.g.
            ``{"text": "sentence", "actor": "source"}``; unmapped fields keep their names.
        label_scheme: How the file's labels map onto support/neutral/condemn.
        require_label: Training and evaluation need a label on every row.
        on_error: ``"raise"`` (default) stops at the first bad row; ``"reject"`` writes it
            to ``rejects_path`` with the reason and goes on.
        rejects_path: Where rejected rows go (JSON Lines), required with ``on_error="reject"``.

    Example:
        >>> reader = PairReader(columns={"text": "sentence"}, require_label=True)
        >>> pairs = reader.read("train.jsonl")  # doctest: +SKIP
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    label_scheme: LabelScheme = field(default_factory=LabelScheme)
    require_label: bool = False
    on_error: str = "raise"
    rejects_path: str | Path | None = None
    counts: dict[str, int] = field(default_factory=lambda: {"read": 0, "rejected": 0})

    def __post_init__(self) -> None:
        if self.on_error not in ("raise", "reject"):
            raise ValueError(f"on_error must be 'raise' or 'reject', found {self.on_error!r}")
        if self.on_error == "reject" and self.rejects_path is None:
            raise ValueError("on_error='reject' needs a rejects_path to write rejected rows to")
        unknown = sorted(set(self.columns) - set(FIELDS))
        if unknown:
            raise ValueError(f"column mapping names unknown fields {unknown}; fields are {FIELDS}")

    def read(self, path: str | Path) -> list[StancePair]:
        return list(self.iter(path))

    def iter(self, path: str | Path) -> Iterator[StancePair]:
        """Yield valid pairs; bad rows raise or go to the rejects file."""
        seen: set[str] = set()
        rejects: TextIO | None = None
        try:
            for lineno, row in iter_records(path, bad_rows="yield"):
                self.counts["read"] += 1
                try:
                    if isinstance(row, DataError):
                        raise row
                    pair = self.convert(row, path=str(path), line=lineno)
                    if pair.id in seen:
                        raise DataError(f"duplicate id {pair.id!r}; ids must be unique in a file",
                                        path=str(path), line=lineno, field=self._col("id"))
                    seen.add(pair.id)
                except DataError as err:
                    if self.on_error == "raise":
                        raise
                    if rejects is None:
                        rejects = open(self.rejects_path, "a", encoding="utf-8")  # noqa: SIM115
                    self.counts["rejected"] += 1
                    raw = _jsonable(row) if isinstance(row, dict) else getattr(err, "raw", None)
                    rejects.write(json.dumps({"path": str(path), "line": lineno, "field": err.field,
                                              "reason": err.reason, "row": raw},
                                             ensure_ascii=False) + "\n")
                    continue
                yield pair
        finally:
            if rejects is not None:
                rejects.close()

    def _col(self, name: str) -> str:
        return self.columns.get(name, name)

    def convert(self, row: Mapping[str, Any], *, path: str | None = None,
                line: int | None = None) -> StancePair:
        """Turn one raw row into a `StancePair` or raise a `DataError` naming the field."""
        def fail(msg: str, name: str) -> DataError:
            return DataError(msg, path=path, line=line, field=self._col(name))

        values: dict[str, Any] = {}
        for name in REQUIRED:
            col = self._col(name)
            if col not in row:
                return_cols = sorted(map(str, row))
                raise fail(f"expected the column {col!r}, but only {return_cols} were found"
                           + (" (map it with columns.{0}=...)".format(name)), name)
            value = row[col]
            if _missing(value):
                raise fail("expected a non-empty value, found an empty one", name)
            if not isinstance(value, str):
                raise fail(f"expected a string, found {type(value).__name__} {value!r}", name)
            if name == "text" and len(value) > MAX_TEXT_CHARS:
                raise fail(f"text has {len(value):,} characters, more than the {MAX_TEXT_CHARS:,} "
                           "allowed for one pair; split the article into pairs first", name)
            values[name] = value
        raw_id = row.get(self._col("id"))
        if _missing(raw_id):
            values["id"] = f"{Path(path).name if path else 'row'}:{line}"
        elif isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool):
            values["id"] = str(raw_id)
        else:
            raise fail(f"expected a string or integer id, found {type(raw_id).__name__}", "id")
        raw_label = row.get(self._col("label"))
        if _missing(raw_label):
            if self.require_label:
                raise fail("expected a label (one of the label scheme's names), found none", "label")
            values["label"] = None
        else:
            try:
                values["label"] = self.label_scheme(raw_label)
            except KeyError:
                raise fail(f"unknown label {raw_label!r}; the label scheme {self.label_scheme.name!r}"
                           f" knows {self.label_scheme.known()} (stancekit labels: {list(LABELS)})",
                           "label") from None
        doc = row.get(self._col("doc_id"))
        values["doc_id"] = None if _missing(doc) else str(doc)
        used = {self._col(n) for n in FIELDS}
        meta = {k: v for k, v in row.items() if k not in used}
        try:
            return StancePair.from_dict({**values, **meta})
        except DataError as err:
            raise DataError(err.reason, path=path, line=line, field=self._col(err.field or "")) \
                from None


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _jsonable(row: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): (v if isinstance(v, (str, int, float, bool, type(None), list, dict)) else str(v))
            for k, v in row.items()}
