"""Writing files safely: every output is written beside its place and renamed into it, so a
reader never sees half a file; values are made JSON-plain in one place."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any


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
