"""Pairs from what a user holds in memory: `StancePair` objects, dicts, a pandas ``DataFrame``
or a ``datasets.Dataset``. Each row is checked as a file row is (`PairReader.convert`: column
mapping, label scheme, empty and NaN values), and a bad one raises a `DataError` naming the row
and the field."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..errors import DataError
from ..labels import LabelScheme
from .readers import PairReader, _missing
from .records import StancePair


def table_kind(inputs: Any) -> str | None:
    """``"DataFrame"`` or ``"Dataset"`` for a pandas or Hugging Face table, else None (neither
    library is imported to find out)."""
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(inputs, pandas.DataFrame):
        return "DataFrame"
    datasets = sys.modules.get("datasets")
    if datasets is not None and isinstance(inputs, datasets.Dataset):
        return "Dataset"
    return None


def to_pairs(inputs: Any, *, columns: Mapping[str, str] | None = None,
             label_scheme: str | Mapping[str, str] | LabelScheme = "stancekit",
             require_label: bool = False, hints: str = "python", name: str | None = None
             ) -> list[StancePair]:
    """The pairs of ``inputs``: a list (or any iterable) of `StancePair` and dicts, a pandas
    ``DataFrame`` or a ``datasets.Dataset`` with the columns ``actor``, ``target``, ``text``
    and optionally ``id``, ``label``, ``doc_id`` (other names through ``columns``).

    A row without an id gets its position as id. Other columns go to the pair's ``meta``.

    Raises:
        DataError: A row that is not a pair, naming its position (``input 3``, ``DataFrame row
            3 (index 'x')``, ``Dataset row 3``, after ``name`` when given) and the field.
    """
    scheme = label_scheme if isinstance(label_scheme, LabelScheme) else LabelScheme(label_scheme)
    reader = PairReader(columns=dict(columns or {}), label_scheme=scheme,
                        require_label=require_label, hints=hints)
    id_col = reader.columns.get("id", "id")
    pairs = []
    for pos, where, item in _rows(inputs):
        where = f"{name}, {where}" if name else where
        if isinstance(item, StancePair):
            pairs.append(item)
            continue
        if not isinstance(item, Mapping):
            raise DataError(f"{where}: expected a StancePair or a dict, found "
                            f"{type(item).__name__}")
        try:
            pair = reader.convert(item)
        except DataError as err:
            raise DataError(f"{where}: {err.reason}", field=err.field) from None
        pairs.append(dataclasses.replace(pair, id=str(pos)) if _missing(item.get(id_col))
                     else pair)
    return pairs


def _rows(inputs: Any) -> Iterator[tuple[int, str, Any]]:
    """``(position, where, row)`` of each input row."""
    kind = table_kind(inputs)
    if kind == "DataFrame":
        for pos, (index, row) in enumerate(zip(inputs.index, inputs.to_dict("records"))):
            where = f"DataFrame row {pos}" + ("" if index == pos else f" (index {index!r})")
            yield pos, where, {str(k): _plain(v) for k, v in row.items()}
        return
    if kind == "Dataset":
        for pos, row in enumerate(inputs):
            yield pos, f"Dataset row {pos}", row
        return
    if isinstance(inputs, (str, bytes, StancePair, Mapping)) or not isinstance(inputs, Iterable):
        raise DataError(f"expected a list of StancePair or dicts, a pandas DataFrame or a "
                        f"datasets Dataset, found {type(inputs).__name__}")
    for pos, item in enumerate(inputs):
        yield pos, f"input {pos}", item


def _plain(value: Any) -> Any:
    """A DataFrame cell as the value a file row would hold: arrays (Parquet list columns) as
    lists, pandas' missing-value markers as None."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return value.tolist()
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    return value
