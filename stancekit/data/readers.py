"""Readers for files of pairs: JSON Lines, CSV and Parquet.

Every bad row fails with one error naming file, line and field; with
``on_error="reject"`` it is written to a rejects file with the reason instead.
Nothing is dropped silently.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..config import FIELDS
from ..errors import ConfigError, DataError, quote
from ..fileio import load_json, writing
from ..labels import LABELS, LabelScheme
from .records import StancePair

REQUIRED = ("actor", "target", "text")
FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv",
           ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}
MAX_TEXT_CHARS = 200_000
# A pair has six fields; the other columns ride along in its meta. Beyond this many a file
# is not a file of pairs (and every row would carry them all).
MAX_COLUMNS = 1_000
# csv's own limit (131,072 characters a field) is below MAX_TEXT_CHARS; raise it so that a
# long text gets the text-length error with its line, not csv's "field larger than field limit".
CSV_FIELD_LIMIT = 64 * MAX_TEXT_CHARS
# JSON may spell half a surrogate pair as "\ud800": Python reads it into a str that cannot
# be written as UTF-8 later (outputs, rejects file), so such a line is refused as it is read
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
# how a user maps a column or names a label scheme, where the data came from: a config
# (``stancekit train``), the command line (``predict``/``evaluate``) or Python
HINTS = {
    "config": ("data.columns={{{field}: COLUMN}}", "data.label_scheme=NAME"),
    "cli": ("--columns {field}=COLUMN", "--label-scheme NAME"),
    "python": ("columns={{'{field}': 'COLUMN'}}", "label_scheme='NAME'"),
}


def detect_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise DataError(f"cannot tell the format from the extension {quote(suffix)}; expected "
                        "one of "
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
            undecodable: dict[int, DataError] = {}
            lines = _decoded_lines(fh, path, undecodable)
            rows = (_iter_jsonl(lines, path, undecodable) if fmt == "jsonl" else
                    _iter_csv(lines, path, undecodable, delimiter="\t" if fmt == "tsv" else ","))
            for lineno, row in rows:
                if isinstance(row, DataError) and bad_rows == "raise":
                    raise row
                yield lineno, row
    except OSError as exc:  # unreadable: permissions, I/O errors
        raise DataError(f"cannot read the file ({exc.strerror or exc})", path=str(path)) from None


# a file in UTF-16 or UTF-32 is wrong as a whole, not line by line
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _decoded_lines(fh: Any, path: Path, undecodable: dict[int, DataError]) -> Iterator[str]:
    """The file's lines as text. A line that is not UTF-8 is passed on with its bad bytes
    kept as surrogates (so that CSV quoting still parses) and its error put in
    ``undecodable``: the row that holds it is bad, the rows around it are not."""
    for lineno, raw in enumerate(fh, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            err = DataError(f"not valid UTF-8 (byte {raw[exc.start]:#x} at column {exc.start + 1});"
                            " re-save the file as UTF-8", path=str(path), line=lineno)
            if lineno == 1 and raw.startswith(_WIDE_BOMS):
                raise err from None
            err.raw = raw.decode("utf-8", "backslashreplace").rstrip("\r\n")
            undecodable[lineno] = err
            line = raw.decode("utf-8", "surrogateescape")
        if lineno == 1:
            line = line.removeprefix("\ufeff")
        yield line


def _iter_jsonl(lines: Iterator[str], path: Path, undecodable: dict[int, DataError]
                ) -> Iterator[tuple[int, dict | DataError]]:
    for lineno, line in enumerate(lines, start=1):
        if lineno in undecodable:
            yield lineno, undecodable.pop(lineno)
            continue
        if not line.strip():
            continue
        try:
            row = load_json(line, path=path, line=lineno)
        except DataError as err:  # a key repeated in the row
            err.raw = line.rstrip("\n")
            yield lineno, err
            continue
        except (ValueError, RecursionError) as exc:
            # ValueError also covers JSONDecodeError and integers too long to convert;
            # RecursionError: nesting deeper than the parser's stack
            if isinstance(exc, json.JSONDecodeError):
                hint = "" if line.endswith("\n") else " (the last line looks truncated)"
                reason = f"{exc.msg} at column {exc.colno}{hint}"
            elif isinstance(exc, RecursionError):
                reason = "nested too deeply to parse"
            else:
                reason = str(exc).split(";")[0]
            err = DataError(f"invalid JSON: {reason}", path=str(path), line=lineno)
            err.raw = line.rstrip("\n")
            yield lineno, err
            continue
        if not isinstance(row, dict):
            yield lineno, DataError(f"expected a JSON object per line, found {type(row).__name__}",
                                    path=str(path), line=lineno)
            continue
        if _SURROGATE_ESCAPE.search(line):
            try:
                json.dumps(row, ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError as exc:
                err = DataError(f"invalid JSON: the escape {exc.object[exc.start]!r} is half a "
                                "surrogate pair, not a character", path=str(path), line=lineno)
                err.raw = line.rstrip("\n")
                yield lineno, err
                continue
        yield lineno, row


def _iter_csv(lines: Iterator[str], path: Path, undecodable: dict[int, DataError],
              delimiter: str) -> Iterator[tuple[int, dict | DataError]]:
    """Rows as dicts; a row that is not UTF-8 or has another number of cells than the
    header is yielded as its `DataError` (the caller raises it or rejects the row)."""
    csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
    # strict: an unterminated quote (a truncated file) is an error, not one endless field
    rows = _csv_rows(csv.reader(lines, delimiter=delimiter, strict=True), path)
    first = next(rows, None)
    if first is None:
        return
    if undecodable:
        raise undecodable.pop(min(undecodable))  # the header: the whole file is unreadable
    header = [h.strip() for h in first[2]]
    if len(header) > MAX_COLUMNS:
        raise DataError(f"the header has {len(header):,} columns, more than the {MAX_COLUMNS:,} "
                        "allowed", path=str(path), line=1)
    _check_columns(header, path, line=1)
    for lineno, end, cells in rows:
        bad = [undecodable.pop(n) for n in sorted(undecodable) if n <= end]
        if bad:
            yield lineno, bad[0]
            continue
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            err = DataError(f"expected {len(header)} columns as in the header, found "
                            f"{len(cells)}", path=str(path), line=lineno)
            err.raw = cells
            yield lineno, err
            continue
        yield lineno, dict(zip(header, cells))


def _check_columns(names: Sequence[str], path: Path, *, line: int | None = None,
                   where: str = "the header") -> None:
    """Refuse repeated column names (a row would keep only one of their values), counted in
    one pass: a header of 50,000 columns took minutes when each was counted on its own."""
    dupes = sorted(name for name, n in Counter(names).items() if n > 1)
    if dupes:
        raise DataError(f"{where} repeats the columns {quote(dupes)}", path=str(path), line=line)


def _csv_rows(reader: Any, path: Path) -> Iterator[tuple[int, int, list[str]]]:
    """``(first line, last line, cells)`` of each record (a quoted cell may span lines); a
    csv error names the line where the bad record starts."""
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            reason = str(exc)
            if "unexpected end of data" in reason:
                reason = "a quoted field is never closed (the file looks truncated)"
            raise DataError(f"not valid CSV: {reason}", path=str(path), line=start) from None
        yield start, reader.line_num, cells
        start = reader.line_num + 1


def _iter_parquet(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise DataError(f"not a readable Parquet file ({exc})", path=str(path)) from None
    names = pf.schema_arrow.names
    if len(names) > MAX_COLUMNS:
        raise DataError(f"the file has {len(names):,} columns, more than the {MAX_COLUMNS:,} "
                        "allowed", path=str(path))
    _check_columns(names, path, where="the file")
    row = 0
    batches = pf.iter_batches(batch_size=4096)
    while True:
        try:
            batch = next(batches, None)
            records = [] if batch is None else batch.to_pylist()
        except Exception as exc:  # a damaged page or column chunk, strings that are not UTF-8
            raise DataError(f"not a readable Parquet file after row {row} ({exc})",
                            path=str(path)) from None
        if batch is None:
            return
        for rec in records:
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
        hints: How error messages tell the user to map a column or choose a label scheme:
            ``"python"`` (``columns={...}``), ``"config"`` (``data.columns``) or ``"cli"``
            (``--columns``).

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
    hints: str = "python"

    def __post_init__(self) -> None:
        if self.hints not in HINTS:
            raise ConfigError(f"hints: expected one of {sorted(HINTS)}, found {self.hints!r}")
        if self.on_error not in ("raise", "reject"):
            raise ConfigError(f"on_error: expected 'raise' or 'reject', found "
                              f"{quote(self.on_error)}")
        if self.on_error == "reject" and self.rejects_path is None:
            raise ConfigError("on_error='reject' needs a rejects_path to write rejected rows to")
        unknown = sorted(set(self.columns) - set(FIELDS))
        if unknown:
            raise ConfigError(f"column mapping names unknown fields {quote(unknown)}; fields are "
                              f"{list(FIELDS)}")
        if self.rejects_path is not None:
            parent = Path(self.rejects_path).parent
            if not parent.is_dir():  # fail now, not at the first bad row
                raise DataError("the directory of the rejects file does not exist",
                                path=str(parent))

    def read(self, path: str | Path) -> list[StancePair]:
        return list(self.iter(path))

    def iter(self, path: str | Path) -> Iterator[StancePair]:
        """Yield valid pairs; bad rows raise or go to the rejects file."""
        return (pair for pair, _ in self.iter_rows(path))

    def iter_rows(self, path: str | Path) -> Iterator[tuple[StancePair, dict[str, Any]]]:
        """Like `iter`, with each pair's raw row beside it (``predict --keep-columns``)."""
        for kept in read_valid(
                path, lambda row, **where: _Kept(self.convert(row, **where), row),
                counts=self.counts,
                rejects_path=self.rejects_path if self.on_error == "reject" else None,
                id_field=self._col("id"),
                duplicate=lambda i: f"duplicate id {quote(i)}; ids must be unique in a file"):
            yield kept.pair, kept.row

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
                how = HINTS[self.hints][0].format(field=name)
                raise fail(f"expected the column {quote(col)}, but only {quote(return_cols)} were "
                           f"found (map it with {how})", name)
            value = row[col]
            if _missing(value):
                raise fail(f"expected a non-empty value, found {_describe_missing(value)}", name)
            if not isinstance(value, str):
                raise fail(f"expected a string, found {type(value).__name__} {quote(value)}", name)
            if name == "text" and len(value) > MAX_TEXT_CHARS:
                raise fail(f"text has {len(value):,} characters, more than the {MAX_TEXT_CHARS:,} "
                           "allowed for one pair; split the article into pairs first", name)
            values[name] = value
        raw_id = row.get(self._col("id"))
        if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
            values["id"] = f"{Path(path).name if path else 'row'}:{line}"
        else:
            values["id"] = _identifier(raw_id, fail, "id")
        raw_label = row.get(self._col("label"))
        if _missing(raw_label):
            if self.require_label:
                raise fail("expected a label (one of the label scheme's names), found none", "label")
            values["label"] = None
        else:
            try:
                values["label"] = self.label_scheme(raw_label)
            except KeyError:
                raise fail(f"unknown label {quote(raw_label)}; the label scheme "
                           f"{quote(self.label_scheme.name)} knows "
                           f"{quote(self.label_scheme.known())} (stancekit labels: {list(LABELS)}; "
                           f"choose another scheme with {HINTS[self.hints][1]})",
                           "label") from None
        doc = row.get(self._col("doc_id"))
        values["doc_id"] = None if doc is None or (isinstance(doc, str) and not doc.strip()) \
            else _identifier(doc, fail, "doc_id")
        used = {self._col(n) for n in FIELDS}
        meta = {k: v for k, v in row.items() if k not in used}
        try:
            return StancePair.from_dict({**values, **meta})
        except DataError as err:
            raise DataError(err.reason, path=path, line=line, field=self._col(err.field or "")) \
                from None


@dataclass(frozen=True)
class _Kept:
    pair: StancePair
    row: dict[str, Any]

    @property
    def id(self) -> str:
        return self.pair.id


def read_valid(path: str | Path, convert: Callable[..., Any], *, counts: dict[str, int],
               rejects_path: str | Path | None, id_field: str = "id",
               duplicate: Callable[[str], str] = lambda i: f"duplicate id {quote(i)}"
               ) -> Iterator[Any]:
    """The one loop that turns a file's rows into records: ``convert(row, path=, line=)``
    makes a record with an ``id`` or raises a `DataError`; a bad row (or a repeated id)
    raises, or with ``rejects_path`` is written there with its reason and skipped. ``counts``
    is updated with ``read`` and ``rejected``."""
    counts.setdefault("read", 0)
    counts.setdefault("rejected", 0)
    seen: set[str] = set()
    rejects: TextIO | None = None
    try:
        for lineno, row in iter_records(path, bad_rows="yield"):
            counts["read"] += 1
            try:
                if isinstance(row, DataError):
                    raise row
                record = convert(row, path=str(path), line=lineno)
                if record.id in seen:
                    raise DataError(duplicate(record.id), path=str(path), line=lineno,
                                    field=id_field)
                seen.add(record.id)
            except DataError as err:
                if rejects_path is None:
                    raise
                if rejects is None:
                    rejects = open_rejects(rejects_path)
                counts["rejected"] += 1
                write_reject(rejects, path, lineno, err, row)
                continue
            yield record
    finally:
        if rejects is not None:
            rejects.close()


def write_reject(fh: TextIO, path: str | Path, line: int, err: DataError, row: Any) -> None:
    """One rejects-file line: where, which field, why, and the raw row (kept, never lost)."""
    raw = _jsonable(row) if isinstance(row, dict) else getattr(err, "raw", None)
    with writing(fh.name):
        fh.write(json.dumps({"path": str(path), "line": line, "field": err.field,
                             "reason": err.reason, "row": raw}, ensure_ascii=False) + "\n")
        fh.flush()  # a full disk shows here, at the row, not when the file is closed


def open_rejects(path: str | Path) -> TextIO:
    try:
        return open(path, "a", encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        raise DataError(f"cannot write the rejects file ({exc.strerror or exc})",
                        path=str(path)) from None


def _identifier(value: Any, fail: Callable[[str, str], DataError], name: str) -> str:
    """An id as text: a string or an integer. Anything else — NaN (a spreadsheet's empty
    cell), a float, a list — is refused, never replaced by an id of stancekit's own."""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    found = "NaN" if isinstance(value, float) and math.isnan(value) else type(value).__name__
    raise fail(f"expected a string or integer id, found {found}", name)


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _describe_missing(value: Any) -> str:
    if value is None:
        return "null"
    return "NaN" if isinstance(value, float) else "an empty one"


def _jsonable(row: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): (v if isinstance(v, (str, int, float, bool, type(None), list, dict)) else str(v))
            for k, v in row.items()}
