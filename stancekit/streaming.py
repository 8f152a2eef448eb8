"""Streaming prediction over files: chunks in, JSON Lines out, flat memory, input order kept."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from .data.readers import PairReader, detect_format
from .errors import DataError
from .prediction import StanceClassifier

CHUNK = 2048  # pairs sorted by length together; bigger chunks batch better, cost memory


def count_rows(path: str | Path) -> int | None:
    """Fast row count for the progress bar (lines of a text file; None for Parquet)."""
    if detect_format(path) == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    with open(path, "rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


def _chunks(it: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while chunk := list(islice(it, size)):
        yield chunk


def predict_file(clf: StanceClassifier, input_path: str | Path, output_path: str | Path, *,
                 batch_size: int = 64, rejects: str | Path | None = None, overwrite: bool = False,
                 progress: bool = True) -> dict[str, int]:
    """Predict every pair of ``input_path`` into ``output_path`` (JSON Lines).

    One output object per valid input row, in input order: ``id``, ``label``, ``probs``.
    The output is written to ``<output>.partial`` and renamed when complete.
    """
    from tqdm.auto import tqdm

    out = Path(output_path)
    if out.exists() and not overwrite:
        raise DataError("output file exists; pass --overwrite to replace it", path=str(out))
    if not out.parent.is_dir():
        raise DataError("the output directory does not exist", path=str(out.parent))
    reader = PairReader(on_error="reject" if rejects else "raise", rejects_path=rejects)
    partial = out.with_name(out.name + ".partial")
    predicted = 0
    total = count_rows(input_path)
    with open(partial, "w", encoding="utf-8") as fh, tqdm(total=total, unit="pair",
                                                          disable=not progress) as bar:
        for chunk in _chunks(reader.iter(input_path), CHUNK):
            for pred in clf.predict(chunk, batch_size=batch_size):
                fh.write(json.dumps(pred.to_dict(), ensure_ascii=False) + "\n")
            predicted += len(chunk)
            bar.update(len(chunk))
    os.replace(partial, out)
    return {"read": reader.counts["read"], "predicted": predicted,
            "rejected": reader.counts["rejected"]}
