"""Files read and written safely.

Writing: every output is written beside its place and renamed into it, so a reader never
sees half a file; a run never writes a file it reads; one run at a time writes an output
(`exclusive`); a failed write is one clear error naming the file; values are made JSON-plain
in one place. Reading: YAML and JSON documents whose keys repeat are refused (a parser would
keep the last value silently), and a YAML document is bounded in nodes and in what its
aliases expand to (an alias bomb), before anything is built from it."""

from __future__ import annotations

import contextlib
import errno as errnos
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from .errors import DataError, OutputError, StanceKitError, UsageError, quote

# (name, path): the name is what the user can change, a flag (``--rejects``) or a config key
Named = Iterable[tuple[str, "str | Path | None"]]


# A YAML document may hold this many characters and nodes as written (an actor file of
# 10,000 actors with aliases has ~100,000 nodes) ...
MAX_YAML_CHARS = 50_000_000
MAX_YAML_NODES = 1_000_000
# ... and its aliases may stand for this many nodes in all: anchors that save typing stay far
# below, a "billion laughs" document (aliases of aliases) is refused before it is built.
MAX_YAML_ALIAS_NODES = 10_000


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


# --------------------------------------------------------------------------- reading


def load_yaml(text: str, *, path: str | Path) -> Any:
    """``yaml.safe_load(text)``, refusing repeated keys, more than `MAX_YAML_CHARS` characters
    or `MAX_YAML_NODES` nodes, and aliases standing for more than `MAX_YAML_ALIAS_NODES` nodes.

    Raises:
        DataError: Naming ``path``, the line and the key (``field``).
        yaml.YAMLError, ValueError, RecursionError: As ``yaml.safe_load`` (the caller words them).
    """
    if len(text) > MAX_YAML_CHARS:
        raise DataError(f"{len(text):,} characters of YAML, more than the {MAX_YAML_CHARS:,} "
                        "allowed", path=str(path))
    loader = _BoundedLoader(text)
    loader.source = str(path)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_aliases(node, str(path))
        return loader.construct_document(node)
    finally:
        loader.dispose()


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader counting the nodes it composes and refusing repeated keys."""

    source = ""
    nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.nodes += 1
        if self.nodes > MAX_YAML_NODES:
            mark = self.peek_event().start_mark
            raise DataError(f"more than {MAX_YAML_NODES:,} YAML nodes; split the file",
                            path=self.source, line=mark.line + 1)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: set = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    repeated = key in seen
                    seen.add(key)
                except TypeError:  # an unhashable key: construct_mapping words it
                    continue
                if repeated:
                    raise DataError(f"the key {quote(key)} appears twice in one mapping; a "
                                    "YAML reader would keep only the last value",
                                    path=self.source, line=key_node.start_mark.line + 1,
                                    field=str(key))
        return super().construct_mapping(node, deep=deep)


def _check_aliases(root: Any, path: str) -> None:
    """Refuse a document whose aliases stand for more than `MAX_YAML_ALIAS_NODES` nodes. The
    composer hands back the anchored node itself for an alias, so a node met again is an
    alias; what it stands for is counted once per node (memoised), never expanded."""
    size: dict[int, int] = {}  # id(node) -> nodes under it and itself, aliases expanded

    def subtree(node: Any) -> int:
        if id(node) not in size:
            size[id(node)] = -1  # on the stack: a recursive alias is expanded once
            children = node.value if isinstance(node.value, list) else []
            total = 1
            for child in children:
                for sub in (child if isinstance(child, tuple) else (child,)):
                    total += subtree(sub) if size.get(id(sub)) != -1 else 1
            size[id(node)] = total
        return max(size[id(node)], 1)

    expanded, seen, stack = 0, {id(root)}, [root]
    while stack:
        node = stack.pop()
        children = node.value if isinstance(node.value, list) else []
        for child in children:
            for sub in (child if isinstance(child, tuple) else (child,)):
                if id(sub) in seen:
                    expanded += subtree(sub)
                    if expanded > MAX_YAML_ALIAS_NODES:
                        raise DataError(f"aliases expand to more than {MAX_YAML_ALIAS_NODES:,}"
                                        " nodes (the node anchored on this line is one of them);"
                                        " write the values out instead", path=path,
                                        line=sub.start_mark.line + 1)
                else:
                    seen.add(id(sub))
                    stack.append(sub)


class _RepeatedKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _RepeatedKey(key)
            seen.add(key)
    return out


def load_json(text: str, *, path: str | Path, line: int | None = None) -> Any:
    """``json.loads(text)``, refusing an object whose keys repeat.

    Args:
        line: The line ``text`` is (JSON Lines); without it the repeated key's line is found.

    Raises:
        DataError: A repeated key, naming ``path``, the line and the key (``field``).
        json.JSONDecodeError, ValueError, RecursionError: As ``json.loads``.
    """
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs)
    except _RepeatedKey as err:
        if line is None:
            line = _line_of_repeated_key(text)
        raise DataError(f"the key {quote(err.key)} appears twice in one object; a JSON reader "
                        "would keep only the last value", path=str(path), line=line,
                        field=err.key) from None


def _line_of_repeated_key(text: str) -> int | None:
    """The line of the second appearance of a repeated key: the document is parsed again by
    the pure-Python decoder, which tells where each object starts and ends (errors only)."""
    import re
    from json import decoder, scanner

    found: list[int] = []
    objects: list[tuple[int, int]] = []  # (start, end) of every object parsed so far

    def parse_object(s_and_end: tuple[str, int], strict: bool, scan_once: Any, object_hook: Any,
                     object_pairs_hook: Any, memo: Any = None) -> tuple[Any, int]:
        s, start = s_and_end
        pairs, end = decoder.JSONObject(s_and_end, strict, scan_once, None, list, memo)
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:  # its second spelling outside the objects nested in this one
                nested = [(a, b) for a, b in objects if start <= a < end]
                hits = [m.start() for m in re.finditer(re.escape(json.dumps(key)) + r"\s*:",
                                                       s[start:end])
                        if not any(a <= start + m.start() < b for a, b in nested)]
                found.append(start + (hits[1] if len(hits) > 1 else 0))
                raise _RepeatedKey(key)
            seen.add(key)
        objects.append((start, end))
        return dict(pairs), end

    dec = json.JSONDecoder()
    dec.parse_object = parse_object
    dec.scan_once = scanner.py_make_scanner(dec)
    with contextlib.suppress(ValueError, RecursionError):
        dec.decode(text)
    return text.count("\n", 0, found[0]) + 1 if found else None
