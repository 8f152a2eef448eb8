"""Rows of a pair or article file, whatever its format: JSON Lines, CSV/TSV and Parquet.

iter_records yields (line, row) and refuses what cannot be a row (undecodable text, invalid
JSON, a ragged CSV record, a repeated column) with file and line; PairReader turns rows into
pairs."""
from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import DataError, quote
from ..fileio import load_json

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
