"""What a prediction run writes, and how it resumes: output paths checked against what the run
reads, locks, the progress record with the fingerprints of input and model, and the state an
interrupted run left (`stancekit.streaming` uses them)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import modeldir
from .data.formats import iter_records
from .data.records import StancePair
from .errors import DataError, UsageError
from .fileio import (
    check_outputs,
    exclusive,
    lock_path,
    partial_path,
    write_error,
)
from .prediction import StanceClassifier


def progress_path(output_path: str | Path) -> Path:
    """Where a pair prediction records its committed progress: ``<output>.progress.json``."""
    out = Path(output_path)
    return out.with_name(out.name + ".progress.json")


# parameter names, and the command line's flags
API_NAMES = {"input": "input_path", "output": "output_path", "rejects": "rejects",
             "table": "table_path", "pairs": "pairs_path", "actors": "actors_path",
             "model": "the model directory"}
CLI_NAMES = {"input": "--input", "output": "--output", "rejects": "--rejects", "table": "--table",
             "pairs": "--pairs-output", "actors": "--actors", "model": "--model"}


def check_predict_paths(input_path: str | Path, output_path: str | Path, *,
                        model: str | Path | None = None, rejects: str | Path | None = None,
                        actors: str | Path | None = None, table: str | Path | None = None,
                        pairs: str | Path | None = None,
                        names: dict[str, str] = API_NAMES) -> None:
    """Refuse a prediction that would write a file it reads (input, actor file, the model's
    files), or write one file twice; checked before anything is opened for writing. The
    outputs include their ``.partial``, progress and lock files. ``names`` words the error."""
    writes: list[tuple[str, Path]] = []
    for key, path in (("output", output_path), ("rejects", rejects), ("table", table),
                      ("pairs", pairs)):
        if path is None:
            continue
        flag = names[key]
        writes += [(flag, Path(path)), (f"the partial file of {flag}", partial_path(path)),
                   (f"the lock file of {flag}", lock_path(path))]
        if key == "output":
            writes.append((f"the progress file of {flag}", progress_path(path)))
    reads = [(names["input"], input_path), (names["actors"], actors)]
    if model is not None:
        reads += [(f"{names['model']}'s {f.name}", f) for f in modeldir.files(model)]
    check_outputs(writes, reads)


def check_rejects_dir(rejects: str | Path | None) -> None:
    if rejects is not None and not Path(rejects).parent.is_dir():
        raise DataError("the directory of the rejects file does not exist",
                        path=str(Path(rejects).parent))


def check_input(path: str | Path) -> None:
    """The input's file-level errors (missing, a directory, unknown format, unreadable) now,
    before any output is touched."""
    rows = iter_records(path, bad_rows="yield")
    next(rows, None)
    rows.close()


def lock_outputs(locks: contextlib.ExitStack, paths: list[str | Path | None]) -> None:
    """Take the lock of each output (``<path>.lock``, removed after the run); a second run
    writing one of them is refused before it touches anything."""
    for path in paths:
        if path is None or (Path(path).exists() and not Path(path).is_file()):
            continue  # nothing written (another shard's rejects) or /dev/null
        busy = (f"{path}: another stancekit run is writing this file; wait for it to finish "
                "or write to another file")
        try:
            locks.enter_context(exclusive(lock_path(path), busy, remove=True))
        except OSError as exc:  # the lock is the first file written: name the output
            raise write_error(OSError(exc.errno, exc.strerror), path) from None


def pair_bytes(pair: StancePair) -> bytes:
    return json.dumps(pair.to_dict(), sort_keys=True, ensure_ascii=False,
                      default=str).encode("utf-8", "surrogatepass") + b"\n"


def input_stamp(path: str | Path) -> dict[str, Any]:
    st = os.stat(path)
    return {"path": str(Path(path).resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def model_stamp(clf: StanceClassifier) -> dict[str, Any]:
    path = getattr(clf, "path", None)
    if path is None:  # built in memory: its metadata stands for it
        meta = json.dumps(clf.meta, sort_keys=True, default=str).encode("utf-8")
        return {"path": None, "fingerprint": hashlib.sha256(meta).hexdigest()[:16]}
    return {"path": str(Path(path).resolve()), "fingerprint": modeldir.dir_fingerprint(path)}


def resume_state(record: Path, partial: Path, out: Path, job: dict[str, Any], overwrite: bool,
                  prefix: Callable[[int], tuple[int, str]]) -> dict[str, Any] | None:
    """The committed state of an interrupted run of the same job on the same input and model,
    or None to start afresh. The record of an interrupted run that differs is refused, unless
    ``overwrite`` (then the run starts over)."""
    if not (record.is_file() and partial.is_file()):
        return None  # nothing committed yet
    reason = None
    try:
        state = json.loads(record.read_text(encoding="utf-8"))
        pairs, size = int(state["pairs"]), int(state["bytes"])
        old = state["job"]
    except (OSError, ValueError, TypeError, KeyError):
        state, reason = None, "its progress record cannot be read"
    if reason is None:
        reason = _changed(old, job)
    if reason is None and partial.stat().st_size < size:
        reason = f"{partial} is shorter than its progress record says"
    if reason is None:
        count, digest = prefix(pairs)
        if count < pairs or digest != state.get("prefix_sha256"):
            reason = (f"the first {pairs} pairs of the input are not the ones it predicted "
                      "(the input was edited)")
    if reason is None:
        return state
    if overwrite:
        return None
    raise UsageError(f"{out}: cannot resume the interrupted run: {reason}; to start over, pass "
                     f"--overwrite or delete {partial} and {record}")


def _changed(old: Any, job: dict[str, Any]) -> str | None:
    """Why the interrupted run's job ``old`` is not ``job``, or None."""
    if not isinstance(old, dict):
        return "its progress record cannot be read"
    was, now = old.get("input") or {}, job["input"]
    if was.get("path") != now["path"]:
        return f"it read another input ({was.get('path')})"
    if (was.get("size"), was.get("mtime_ns")) != (now["size"], now["mtime_ns"]):
        return ("the input changed since (size or modification time differ: "
                f"{was.get('size')} -> {now['size']} bytes)")
    was, now = old.get("model") or {}, job["model"]
    if was.get("path") != now["path"]:
        return f"it used another model ({was.get('path')})"
    if was.get("fingerprint") != now["fingerprint"]:
        return "the model changed since (stancekit.json, config.json or the weights differ)"
    if old != job:
        return (f"it ran with other options (shard {old.get('shard')}, abstain_below "
                f"{old.get('abstain_below')})")
    return None
