"""Streaming prediction over files: chunks in, JSON Lines out, flat memory, input order kept."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from itertools import islice
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from .data.formats import detect_format
from .data.readers import PairReader
from .data.records import StancePair
from .errors import ConfigError, DataError, Interrupted
from .fileio import (
    partial_path,
    write_json_atomically,
    writing,
)
from .labels import LabelScheme
from .prediction import StanceClassifier
from .prediction_runs import (
    check_input,
    check_predict_paths,
    check_rejects_dir,
    input_stamp,
    lock_outputs,
    model_stamp,
    pair_bytes,
    progress_path,
    resume_state,
)

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
    and bytes are committed, a fingerprint of the input (size, modification time and a hash
    of the committed pairs) and of the model. After a crash (``kill -9``, Ctrl-C, a full
    disk), running the same call again truncates the partial file to its last commit and
    continues after the pairs it holds; the finished file is renamed into place, so every
    input id appears exactly once. A changed input or model is refused (``overwrite=True``
    starts over). ``<output>.lock`` keeps a second run off the same output.

    The rejects file is written anew by every run (a resumed run rebuilds it as it re-reads
    the input). With ``num_shards`` > 1, this process handles the pairs whose id hashes to
    ``shard_index`` (stable across runs and machines); the shards' outputs together hold
    every id exactly once. Rejected rows are written by shard 0 only.

    ``columns`` and ``label_scheme`` read other column and label names (`PairReader`);
    ``keep_columns`` copies each input row's columns into its output row (an input column
    whose name the output uses, ``label`` say, is kept as ``input_label``).
    """
    from tqdm.auto import tqdm

    check_shards(num_shards, shard_index)
    out = Path(output_path)
    partial, record = partial_path(out), progress_path(out)
    check_predict_paths(input_path, out, model=clf.path, rejects=rejects)
    scheme = label_scheme if isinstance(label_scheme, LabelScheme) else LabelScheme(label_scheme)
    if not out.parent.is_dir():
        raise DataError("the output directory does not exist", path=str(out.parent))
    check_rejects_dir(rejects)
    check_input(input_path)
    mine = rejects if shard_index == 0 else (os.devnull if rejects else None)

    def reader(**kw: Any) -> PairReader:
        return PairReader(columns=dict(columns or {}), label_scheme=scheme, hints="cli", **kw)

    def shard_rows(r: PairReader) -> Iterator[tuple[StancePair, dict[str, Any]]]:
        return (kept for kept in r.iter_rows(input_path)
                if num_shards == 1 or _shard_of(kept[0].id, num_shards) == shard_index)

    def prefix(n: int) -> tuple[int, str]:  # read-only: bad rows go nowhere
        h, count = hashlib.sha256(), 0
        for pair, _ in islice(shard_rows(reader(on_error="reject", rejects_path=os.devnull)), n):
            h.update(pair_bytes(pair))
            count += 1
        return count, h.hexdigest()

    job = {"input": input_stamp(input_path), "shard": [shard_index, num_shards],
           "abstain_below": abstain_below, "model": model_stamp(clf),
           "columns": dict(columns or {}), "label_scheme": scheme.to_dict(),
           "keep_columns": keep_columns}
    resume_hint = "run the same command again to resume"
    with contextlib.ExitStack() as locks:
        lock_outputs(locks, [out, mine])
        state = resume_state(record, partial, out, job, overwrite, prefix)
        if out.exists() and not overwrite and state is None:
            raise DataError("output file exists; pass --overwrite to replace it", path=str(out))
        if state is None:
            with writing(record):
                record.unlink(missing_ok=True)
        if rejects and shard_index == 0:
            with writing(rejects):
                open(rejects, "w").close()  # noqa: SIM115 (rebuilt as the input is (re-)read)
        pairs_reader = reader(on_error="reject" if rejects else "raise", rejects_path=mine)
        pairs_iter = shard_rows(pairs_reader)
        done = state["pairs"] if state else 0
        hasher = hashlib.sha256()
        predicted = done  # committed pairs, this run's and the interrupted one's
        total = count_rows(input_path)
        try:
            with writing(partial, resume_hint):
                fh = open(partial, "r+b" if state else "wb")  # noqa: SIM115
            with fh, tqdm(total=total, unit="pair", disable=not progress) as bar:
                if state:
                    with writing(partial, resume_hint):
                        fh.truncate(state["bytes"])
                        fh.seek(state["bytes"])
                    skipped = 0
                    for pair, _ in islice(pairs_iter, done):
                        hasher.update(pair_bytes(pair))
                        skipped += 1
                    if skipped != done:
                        raise DataError(f"cannot resume: the progress record says {done} pairs "
                                        f"are done but the input now has {skipped}; the partial "
                                        "output is removed, run again to start over",
                                        path=str(input_path))
                    bar.update(done)
                for chunk in _chunks(pairs_iter, chunk_size):
                    preds = clf.predict([pair for pair, _ in chunk], batch_size=batch_size,
                                        abstain_below=abstain_below)
                    out_rows = ([_with_input(p.to_dict(), row, pairs_reader.columns)
                                 for p, (_, row) in zip(preds, chunk)] if keep_columns else
                                [p.to_dict() for p in preds])
                    lines = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n"
                                    for r in out_rows).encode("utf-8")
                    with writing(partial, resume_hint):
                        fh.write(lines)
                        fh.flush()
                        os.fsync(fh.fileno())
                    for pair, _ in chunk:
                        hasher.update(pair_bytes(pair))
                    with writing(record, resume_hint):
                        write_json_atomically(record, {
                            "job": job, "pairs": predicted + len(chunk), "bytes": fh.tell(),
                            "prefix_sha256": hasher.hexdigest()})
                    predicted += len(chunk)
                    bar.update(len(chunk))
        except (DataError, ConfigError):
            # bad input: the user will change the file, so nothing here can be resumed
            partial.unlink(missing_ok=True)
            record.unlink(missing_ok=True)
            raise
        except KeyboardInterrupt:
            where = (f"after {predicted} pairs, committed to {partial}" if predicted else
                     "before any pair was committed")
            raise Interrupted(f"interrupted: stopped {where}; run the same command again to "
                              "resume") from None
        with writing(out):
            os.replace(partial, out)
        record.unlink(missing_ok=True)
    return {"read": pairs_reader.counts["read"], "predicted": predicted - done,
            "resumed_after": done,
            "rejected": pairs_reader.counts["rejected"] if shard_index == 0 else 0}



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


def looks_like_articles(path: str | Path, *, columns: Mapping[str, str] | None = None) -> bool:
    """True when the first row of ``path`` has a text but no ``actor`` field (articles, not
    pairs); ``columns`` names the pairs' columns when they are mapped."""
    from .data.formats import iter_records

    columns = columns or {}
    for _, row in iter_records(path, bad_rows="yield"):
        return (isinstance(row, dict) and columns.get("actor", "actor") not in row
                and columns.get("text", "text") in row)
    return False


def predict_articles(clf: StanceClassifier, input_path: str | Path, output_path: str | Path, *,
                     actors_path: str | Path | None = None, table_path: str | Path | None = None,
                     pairs_path: str | Path | None = None, by: str | None = None,
                     discover: bool = False, rejects: str | Path | None = None,
                     batch_size: int = 64, overwrite: bool = False, progress: bool = True,
                     abstain_below: float | None = None) -> dict[str, int]:
    """Articles in, actor-level stances out.

    Writes one JSON object per (article, actor, target) to ``output_path`` — ``doc_id``,
    ``actor``, ``target``, ``label``, ``probs``, ``evidence``, ``n_windows`` — and, when
    asked, the corpus table (actor x target, `stance_table`) to ``table_path`` and the
    window-level predictions to ``pairs_path``. Not resumable: a failed or interrupted run
    leaves no output behind. Outputs are locked and checked against the inputs like
    `predict_file`'s.
    """
    from tqdm.auto import tqdm

    from .aggregation import aggregate, stance_table, write_rows
    from .data.articles import load_actor_file, read_articles
    from .data.pair_builder import PairBuilder

    check_predict_paths(input_path, output_path, model=clf.path, rejects=rejects,
                        actors=actors_path, table=table_path, pairs=pairs_path)
    outputs = [Path(p) for p in (output_path, table_path, pairs_path) if p is not None]
    for out in outputs:
        if out.exists() and not overwrite:
            raise DataError("output file exists; pass --overwrite to replace it", path=str(out))
        if not out.parent.is_dir():
            raise DataError("the output directory does not exist", path=str(out.parent))
    check_rejects_dir(rejects)
    check_input(input_path)
    actors, targets = load_actor_file(actors_path) if actors_path else ((), ())
    builder = PairBuilder.for_classifier(clf, actors=actors, targets=targets, discover=discover)
    out = Path(output_path)
    partial = partial_path(out)
    pairs_partial = partial_path(pairs_path) if pairs_path else None
    counts = {"articles": 0, "pairs": 0, "stances": 0, "articles_without_actors": 0}
    read_counts: dict[str, int] = {}
    with contextlib.ExitStack() as locks:
        lock_outputs(locks, [out, table_path, pairs_path, rejects])
        if rejects:
            with writing(rejects):
                open(rejects, "w").close()  # noqa: SIM115 (each run writes its own rejects)
        try:
            with writing(partial), contextlib.ExitStack() as files:
                fh = files.enter_context(open(partial, "w", encoding="utf-8"))
                pairs_fh = (files.enter_context(open(pairs_partial, "w", encoding="utf-8"))
                            if pairs_partial else None)
                bar = files.enter_context(tqdm(total=count_rows(input_path), unit="article",
                                               disable=not progress))
                articles = read_articles(input_path, rejects_path=rejects, counts=read_counts)
                for chunk in _chunks(articles, 64):
                    pairs = [p for art in chunk for p in builder.build(art)]
                    preds = clf.predict(pairs, batch_size=batch_size, progress=False,
                                        abstain_below=abstain_below) if pairs else []
                    rows = aggregate(pairs, preds)
                    fh.write("".join(json.dumps(row.to_dict(), ensure_ascii=False) + "\n"
                                     for row in rows))
                    if pairs_fh is not None:
                        with writing(pairs_partial):
                            pairs_fh.write("".join(json.dumps(
                                {**pred.to_dict(), "doc_id": pair.doc_id, "actor": pair.actor,
                                 "target": pair.target, "text": pair.text,
                                 "via": pair.meta["via"], "window": pair.meta["window"]},
                                ensure_ascii=False) + "\n" for pair, pred in zip(pairs, preds)))
                    docs_with_pairs = {p.doc_id for p in pairs}
                    counts["articles"] += len(chunk)
                    counts["articles_without_actors"] += sum(a.id not in docs_with_pairs
                                                             for a in chunk)
                    counts["pairs"] += len(pairs)
                    counts["stances"] += len(rows)
                    bar.update(len(chunk))
        except BaseException as exc:
            partial.unlink(missing_ok=True)  # articles are not resumable: leave nothing half-done
            if pairs_partial:
                pairs_partial.unlink(missing_ok=True)
            if isinstance(exc, KeyboardInterrupt):
                raise Interrupted("interrupted: articles are not resumable, so nothing was "
                                  "written; run the same command again to start over") from None
            raise
        with writing(out):
            os.replace(partial, out)
        if pairs_path:
            with writing(pairs_path):
                os.replace(pairs_partial, pairs_path)
        counts["rejected"] = read_counts.get("rejected", 0)
        if table_path:  # re-read the output: the table is built in flat memory
            with writing(table_path), open(out, encoding="utf-8") as fh:
                slim = (SimpleNamespace(**json.loads(line)) for line in fh)
                write_rows(stance_table(slim, by=by), table_path)
    return counts
