"""Readers for files of pairs: JSON Lines, CSV and Parquet.

Every bad row fails with one error naming file, line and field; with
``on_error="reject"`` it is written to a rejects file with the reason instead.
Nothing is dropped silently.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..config import FIELDS
from ..errors import ConfigError, DataError, quote
from ..fileio import writing
from ..labels import LABELS, LabelScheme
from .formats import MAX_TEXT_CHARS, iter_records
from .records import StancePair

REQUIRED = ("actor", "target", "text")
# how a user maps a column or names a label scheme, where the data came from: a config
# (``stancekit train``), the command line (``predict``/``evaluate``) or Python
HINTS = {
    "config": ("data.columns={{{field}: COLUMN}}", "data.label_scheme=NAME"),
    "cli": ("--columns {field}=COLUMN", "--label-scheme NAME"),
    "python": ("columns={{'{field}': 'COLUMN'}}", "label_scheme='NAME'"),
}


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
