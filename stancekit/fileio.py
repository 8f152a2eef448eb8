"""Writing files safely: every output is written beside its place and renamed into it, so a
reader never sees half a file; a run never writes a file it reads; one run at a time writes
an output (`exclusive`); a failed write is one clear error naming the file; values are made
JSON-plain in one place."""

from __future__ import annotations

import contextlib
import errno as errnos
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .errors import OutputError, StanceKitError, UsageError

# (name, path): the name is what the user can change, a flag (``--rejects``) or a config key
Named = Iterable[tuple[str, "str | Path | None"]]


def partial_path(path: str | Path) -> Path:
    """Where ``path`` grows until it is complete: ``<path>.partial``."""
    path = Path(path)
    return path.with_name(path.name + ".partial")


@contextlib.contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """Yield ``<path>.partial`` to write; on success rename it onto ``path``, on any error
    remove it and leave ``path`` as it was."""
    tmp = partial_path(path)
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def write_json_atomically(path: str | Path, data: Any) -> None:
    with replacing(path) as tmp:
        tmp.write_text(json.dumps(data), encoding="utf-8")


def jsonable(value: Any) -> Any:
    """Tuples to lists and numpy scalars/arrays to Python values, recursively."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------- outputs vs inputs


def same_file(a: str | Path, b: str | Path) -> bool:
    """True when ``a`` and ``b`` are one file: the same path once symlinks are resolved, or,
    for files that exist, the same inode (a hard link)."""
    if Path(a).resolve() == Path(b).resolve():
        return True
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _inside(path: str | Path, tree: str | Path) -> bool:
    return Path(path).resolve().is_relative_to(Path(tree).resolve())


def check_outputs(writes: Named, reads: Named, *, trees: Named = ()) -> None:
    """Refuse a run that would write a file it reads, or write one file twice.

    Called before anything is opened for writing. ``writes`` are the files the run writes
    (with their ``.partial``, progress and lock siblings), ``reads`` the files it reads (a
    model directory's files one by one), ``trees`` the directories it writes or replaces as a
    whole (training's output): nothing read may lie inside them.

    Raises:
        UsageError: Naming both (flag or config key, and the path).
    """
    writes = [(n, Path(p)) for n, p in writes if p is not None]
    reads = [(n, Path(p)) for n, p in reads if p is not None]
    for i, (wname, w) in enumerate(writes):
        for rname, r in reads:
            if same_file(w, r):
                raise UsageError(f"{wname} and {rname} are the same file{_which(w, r)}; a run "
                                 f"never writes a file it reads: give {_flag(wname)} another path")
        for oname, o in writes[:i]:
            if same_file(w, o) and _flag(wname) != _flag(oname):
                raise UsageError(f"{oname} and {wname} are the same file{_which(o, w)}; each "
                                 f"output needs its own file: give {_flag(wname)} another path")
    for tname, t in trees:
        if t is None:
            continue
        for rname, r in reads:
            if _inside(r, t):
                raise UsageError(f"{rname} ({r}) is inside {tname} ({t}), which this run "
                                 f"writes or replaces; a run never writes a file it reads: "
                                 f"choose another {_flag(tname)}")


def _flag(name: str) -> str:
    """``--output`` of "the progress file of --output"."""
    return name.split()[-1]


def _which(a: Path, b: Path) -> str:
    if os.path.abspath(a) == os.path.abspath(b):
        return f" ({a})"
    if a.resolve() == b.resolve():
        return f" ({a} is {b.resolve()} through a symbolic link)"
    return f" ({a} and {b} are hard links to one file)"


def lock_path(path: str | Path) -> Path:
    """The lock file of an output written by one run at a time: ``<path>.lock``."""
    path = Path(path)
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def exclusive(lock: str | Path, busy: str, *, remove: bool = False) -> Iterator[None]:
    """Hold ``lock`` (an advisory ``flock``) for the run; a second run raises
    ``StanceKitError(busy)`` at once and touches nothing. The kernel drops the lock when a
    process dies, so a killed run never blocks the next one.

    With ``remove``, the lock file is deleted before it is released: a run that opened the
    file before it was deleted finds it gone and opens the new one.
    """
    import fcntl

    lock = Path(lock)
    while True:
        fh = open(lock, "a")  # noqa: SIM115 ("a": never truncates another run's lock file)
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise StanceKitError(busy) from None
        try:
            same = os.stat(lock).st_ino == os.fstat(fh.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        fh.close()  # the lock file was deleted by the run that held it: take the new one
    try:
        yield
    finally:
        if remove:
            lock.unlink(missing_ok=True)
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


# --------------------------------------------------------------------------- failed writes

_ADVICE = {errnos.ENOSPC: "free some space", errnos.EDQUOT: "free some space",
           errnos.EROFS: "choose a writable place", errnos.EACCES: "choose a writable place",
           errnos.EPERM: "choose a writable place"}


def write_error(exc: OSError, path: str | Path, hint: str = "") -> OutputError:
    """An `OutputError` for an `OSError` raised while writing ``path``: it names the file the
    system names (else ``path``), the system's reason, and how to go on (``hint``: what to
    do once the cause is fixed, e.g. rerun to resume)."""
    where = exc.filename if isinstance(exc.filename, (str, os.PathLike)) else path
    advice = ", then ".join(a for a in (_ADVICE.get(exc.errno), hint) if a)
    reason = exc.strerror or str(exc) or type(exc).__name__
    return OutputError(f"cannot write the file ({reason})" + (f"; {advice}" if advice else ""),
                       path=str(where), errno=exc.errno)


@contextlib.contextmanager
def writing(path: str | Path, hint: str = "") -> Iterator[None]:
    """Turn an `OSError` raised inside the block into one `OutputError` naming the file."""
    try:
        yield
    except OSError as exc:
        raise write_error(exc, path, hint) from None
