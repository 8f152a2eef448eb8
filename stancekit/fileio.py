"""Files read and written safely.

Writing: every output is written beside its place and renamed into it, so a reader never
sees half a file; values are made JSON-plain in one place. Reading: YAML and JSON documents
whose keys repeat are refused (a parser would keep the last value silently), and a YAML
document is bounded in nodes and in what its aliases expand to (an alias bomb), before
anything is built from it."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from .errors import DataError, quote

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
