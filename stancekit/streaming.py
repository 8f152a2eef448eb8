"""Streaming prediction over files: chunks in, JSON Lines out, flat memory, input order kept."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from types import SimpleNamespace
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


def looks_like_articles(path: str | Path) -> bool:
    """True when the first row of ``path`` has a text but no ``actor`` field (articles, not pairs)."""
    from .data.readers import iter_records

    for _, row in iter_records(path, bad_rows="yield"):
        return isinstance(row, dict) and "actor" not in row and "text" in row
    return False


def predict_articles(clf: StanceClassifier, input_path: str | Path, output_path: str | Path, *,
                     actors_path: str | Path | None = None, table_path: str | Path | None = None,
                     pairs_path: str | Path | None = None, by: str | None = None,
                     discover: bool = False, rejects: str | Path | None = None, batch_size: int = 64, overwrite: bool = False,
                     progress: bool = True) -> dict[str, int]:
    """Articles in, actor-level stances out.

    Writes one JSON object per (article, actor, target) to ``output_path`` — ``doc_id``,
    ``actor``, ``target``, ``label``, ``probs``, ``evidence``, ``n_windows`` — and, when
    asked, the corpus table (actor x target, `stance_table`) to ``table_path`` and the
    window-level predictions to ``pairs_path``.
    """
    from tqdm.auto import tqdm

    from .aggregation import aggregate, stance_table, write_rows
    from .data.articles import PairBuilder, load_actor_file, read_articles

    outputs = [Path(p) for p in (output_path, table_path, pairs_path) if p is not None]
    for out in outputs:
        if out.exists() and not overwrite:
            raise DataError("output file exists; pass --overwrite to replace it", path=str(out))
        if not out.parent.is_dir():
            raise DataError("the output directory does not exist", path=str(out.parent))
    actors, targets = load_actor_file(actors_path) if actors_path else ((), ())
    builder = PairBuilder.for_classifier(clf, actors=actors, targets=targets, discover=discover)
    out = Path(output_path)
    partial = out.with_name(out.name + ".partial")
    pairs_fh = open(Path(pairs_path).with_name(Path(pairs_path).name + ".partial"), "w",  # noqa: SIM115
                    encoding="utf-8") if pairs_path else None
    counts = {"articles": 0, "pairs": 0, "stances": 0, "articles_without_actors": 0}
    read_counts: dict[str, int] = {}
    try:
        with open(partial, "w", encoding="utf-8") as fh, \
                tqdm(total=count_rows(input_path), unit="article", disable=not progress) as bar:
            for chunk in _chunks(read_articles(input_path, rejects_path=rejects, counts=read_counts), 64):
                pairs = [p for art in chunk for p in builder.build(art)]
                preds = clf.predict(pairs, batch_size=batch_size, progress=False) if pairs else []
                rows = aggregate(pairs, preds)
                for row in rows:
                    fh.write(json.dumps(row.to_dict(), ensure_ascii=False) + "\n")
                if pairs_fh is not None:
                    for pair, pred in zip(pairs, preds):
                        pairs_fh.write(json.dumps({**pred.to_dict(), "doc_id": pair.doc_id,
                                                   "actor": pair.actor, "target": pair.target,
                                                   "text": pair.text, "via": pair.meta["via"],
                                                   "window": pair.meta["window"]},
                                                  ensure_ascii=False) + "\n")
                docs_with_pairs = {p.doc_id for p in pairs}
                counts["articles"] += len(chunk)
                counts["articles_without_actors"] += sum(a.id not in docs_with_pairs for a in chunk)
                counts["pairs"] += len(pairs)
                counts["stances"] += len(rows)
                bar.update(len(chunk))
    finally:
        if pairs_fh is not None:
            pairs_fh.close()
    os.replace(partial, out)
    if pairs_path:
        os.replace(Path(pairs_path).with_name(Path(pairs_path).name + ".partial"), pairs_path)
    counts["rejected"] = read_counts.get("rejected", 0)
    if table_path:  # re-read the output: the table is built in flat memory
        with open(out, encoding="utf-8") as fh:
            slim = (SimpleNamespace(**json.loads(line)) for line in fh)
            write_rows(stance_table(slim, by=by), table_path)
    return counts
