"""Streaming prediction over files: chunks in, JSON Lines out, flat memory, input order kept."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from itertools import islice
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from .data.readers import PairReader, detect_format
from .errors import ConfigError, DataError, StanceKitError
from .fileio import partial_path, write_json_atomically
from .labels import LabelScheme
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
                 progress: bool = True, abstain_below: float | None = None,
                 num_shards: int = 1, shard_index: int = 0, chunk_size: int = CHUNK,
                 columns: Mapping[str, str] | None = None,
                 label_scheme: str | Mapping[str, str] | LabelScheme = "stancekit",
                 keep_columns: bool = False) -> dict[str, int]:
    """Predict every pair of ``input_path`` into ``output_path`` (JSON Lines), resumably.

    One output object per valid input row, in input order: ``id``, ``label``, ``probs``
    (and ``abstained: true`` below ``abstain_below``).

    The output grows in ``<output>.partial`` one committed chunk at a time: the chunk's
    lines are flushed and fsynced, then ``<output>.progress.json`` records how many pairs
    and bytes are committed. After a crash (even ``kill -9``), running the same call again
    truncates the partial file to its last commit and continues after the pairs it holds;
    the finished file is renamed into place, so every input id appears exactly once.

    With ``num_shards`` > 1, this process handles the pairs whose id hashes to
    ``shard_index`` (stable across runs and machines); the shards' outputs together hold
    every id exactly once. Rejected rows are written by shard 0 only.

    ``columns`` and ``label_scheme`` read other column and label names (`PairReader`);
    ``keep_columns`` copies each input row's columns into its output row (an input column
    whose name the output uses, ``label`` say, is kept as ``input_label``).
    """
    from tqdm.auto import tqdm

    check_shards(num_shards, shard_index)
    out = Path(output_path)
    partial = partial_path(out)
    record = out.with_name(out.name + ".progress.json")
    scheme = label_scheme if isinstance(label_scheme, LabelScheme) else LabelScheme(label_scheme)
    job = {"input": str(Path(input_path).resolve()), "shard": [shard_index, num_shards],
           "abstain_below": abstain_below, "model": str(getattr(clf, "path", "")),
           "columns": dict(columns or {}), "label_scheme": scheme.to_dict(),
           "keep_columns": keep_columns}
    state = _resume_state(record, partial, job)
    if out.exists() and not overwrite and state is None:
        raise DataError("output file exists; pass --overwrite to replace it", path=str(out))
    if not out.parent.is_dir():
        raise DataError("the output directory does not exist", path=str(out.parent))
    mine = rejects if shard_index == 0 else (os.devnull if rejects else None)
    if state is not None and rejects and shard_index == 0:
        Path(rejects).write_text("", encoding="utf-8")  # rebuilt as the input is re-read
    reader = PairReader(columns=dict(columns or {}), label_scheme=scheme, hints="cli",
                        on_error="reject" if rejects else "raise", rejects_path=mine)
    done = state["pairs"] if state else 0
    rows_iter = (r for r in reader.iter_rows(input_path)
                 if num_shards == 1 or _shard_of(r[0].id, num_shards) == shard_index)
    predicted = 0
    total = count_rows(input_path)
    try:
        with open(partial, "r+b" if state else "wb") as fh, \
                tqdm(total=total, unit="pair", disable=not progress) as bar:
            if state:
                fh.truncate(state["bytes"])
                fh.seek(state["bytes"])
                skipped = sum(1 for _ in islice(rows_iter, done))
                if skipped != done:
                    raise DataError(f"cannot resume: the progress record says {done} pairs are "
                                    f"done but the input now has {skipped}; the partial output "
                                    "is removed, run again to start over", path=str(input_path))
                predicted = done
                bar.update(done)
            for chunk in _chunks(rows_iter, chunk_size):
                preds = clf.predict([pair for pair, _ in chunk], batch_size=batch_size,
                                    abstain_below=abstain_below)
                out_rows = ([_with_input(p.to_dict(), row, reader.columns) for p, (_, row)
                             in zip(preds, chunk)] if keep_columns else
                            [p.to_dict() for p in preds])
                fh.write("".join(json.dumps(r, ensure_ascii=False, default=str) + "\n"
                                 for r in out_rows).encode("utf-8"))
                fh.flush()
                os.fsync(fh.fileno())
                predicted += len(chunk)
                write_json_atomically(record, {**job, "pairs": predicted, "bytes": fh.tell()})
                bar.update(len(chunk))
    except StanceKitError:
        # bad input: the user will change the file, so nothing here can be resumed
        partial.unlink(missing_ok=True)
        record.unlink(missing_ok=True)
        raise
    os.replace(partial, out)
    record.unlink(missing_ok=True)
    return {"read": reader.counts["read"], "predicted": predicted - done, "resumed_after": done,
            "rejected": reader.counts["rejected"] if shard_index == 0 else 0}


def _with_input(pred: dict[str, Any], row: Mapping[str, Any], columns: Mapping[str, str]
                ) -> dict[str, Any]:
    """An output row with the input row's columns in front; an input column named like an
    output field is kept as ``input_<name>`` (the id column itself is the output's ``id``)."""
    id_col = columns.get("id", "id")
    out = {(f"input_{k}" if k in pred and k != id_col else k): v for k, v in row.items()
           if not (k == "id" == id_col)}
    return {**out, **pred}


def check_shards(num_shards: int, shard_index: int, *, name: str = "shard_index") -> None:
    """The one check of a shard assignment (library arguments and CLI flags alike)."""
    if not (num_shards >= 1 and 0 <= shard_index < num_shards):
        raise ConfigError(f"{name}: expected 0 <= shard index < number of shards, found shard "
                          f"{shard_index} of {num_shards}")


def _shard_of(pair_id: str, num_shards: int) -> int:
    import zlib

    return zlib.crc32(pair_id.encode("utf-8")) % num_shards


def _resume_state(record: Path, partial: Path, job: dict[str, Any]) -> dict[str, Any] | None:
    """The committed state of an interrupted run of the same job, or None."""
    if not (record.is_file() and partial.is_file()):
        return None
    try:
        state = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if any(state.get(k) != v for k, v in job.items()):
        return None
    if partial.stat().st_size < state.get("bytes", 0):
        return None
    return state


def looks_like_articles(path: str | Path, *, columns: Mapping[str, str] | None = None) -> bool:
    """True when the first row of ``path`` has a text but no ``actor`` field (articles, not
    pairs); ``columns`` names the pairs' columns when they are mapped."""
    from .data.readers import iter_records

    columns = columns or {}
    for _, row in iter_records(path, bad_rows="yield"):
        return (isinstance(row, dict) and columns.get("actor", "actor") not in row
                and columns.get("text", "text") in row)
    return False


def predict_articles(clf: StanceClassifier, input_path: str | Path, output_path: str | Path, *,
                     actors_path: str | Path | None = None, table_path: str | Path | None = None,
                     pairs_path: str | Path | None = None, by: str | None = None,
                     discover: bool = False, rejects: str | Path | None = None, batch_size: int = 64, overwrite: bool = False,
                     progress: bool = True, abstain_below: float | None = None) -> dict[str, int]:
    """Articles in, actor-level stances out.

    Writes one JSON object per (article, actor, target) to ``output_path`` — ``doc_id``,
    ``actor``, ``target``, ``label``, ``probs``, ``evidence``, ``n_windows`` — and, when
    asked, the corpus table (actor x target, `stance_table`) to ``table_path`` and the
    window-level predictions to ``pairs_path``.
    """
    from tqdm.auto import tqdm

    from .aggregation import aggregate, stance_table, write_rows
    from .data.articles import load_actor_file, read_articles
    from .data.pair_builder import PairBuilder

    outputs = [Path(p) for p in (output_path, table_path, pairs_path) if p is not None]
    for out in outputs:
        if out.exists() and not overwrite:
            raise DataError("output file exists; pass --overwrite to replace it", path=str(out))
        if not out.parent.is_dir():
            raise DataError("the output directory does not exist", path=str(out.parent))
    actors, targets = load_actor_file(actors_path) if actors_path else ((), ())
    builder = PairBuilder.for_classifier(clf, actors=actors, targets=targets, discover=discover)
    out = Path(output_path)
    partial = partial_path(out)
    pairs_fh = (open(partial_path(pairs_path), "w", encoding="utf-8")  # noqa: SIM115
                if pairs_path else None)
    counts = {"articles": 0, "pairs": 0, "stances": 0, "articles_without_actors": 0}
    read_counts: dict[str, int] = {}
    try:
        with open(partial, "w", encoding="utf-8") as fh, \
                tqdm(total=count_rows(input_path), unit="article", disable=not progress) as bar:
            for chunk in _chunks(read_articles(input_path, rejects_path=rejects, counts=read_counts), 64):
                pairs = [p for art in chunk for p in builder.build(art)]
                preds = clf.predict(pairs, batch_size=batch_size, progress=False,
                                    abstain_below=abstain_below) if pairs else []
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
    except BaseException:
        partial.unlink(missing_ok=True)  # articles are not resumable: leave nothing half-done
        if pairs_path:
            partial_path(pairs_path).unlink(missing_ok=True)
        raise
    finally:
        if pairs_fh is not None:
            pairs_fh.close()
    os.replace(partial, out)
    if pairs_path:
        os.replace(partial_path(pairs_path), pairs_path)
    counts["rejected"] = read_counts.get("rejected", 0)
    if table_path:  # re-read the output: the table is built in flat memory
        with open(out, encoding="utf-8") as fh:
            slim = (SimpleNamespace(**json.loads(line)) for line in fh)
            write_rows(stance_table(slim, by=by), table_path)
    return counts
