"""Errors raised by stancekit.

Every error meant for a user says what was expected, what was found and where
(file, line, field), so that the command line can print it without a traceback.
"""

from __future__ import annotations

import reprlib
from typing import Any


class StanceKitError(Exception):
    """Base class of every error stancekit raises on purpose."""


class ConfigError(StanceKitError, ValueError):
    """A configuration file, override or argument is invalid."""


class DataError(StanceKitError, ValueError):
    """An input row or file is invalid.

    Args:
        message: What was expected and what was found.
        path: The file the row came from, if any.
        line: The 1-based line (or row) number, if known.
        field: The offending field, if one.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.path, self.line, self.field, self.reason = path, line, field, message
        where = ""
        if path is not None:
            where = str(path) + (f":{line}" if line is not None else "")
        if field is not None:
            where = f"{where} field {quote(field)}" if where else f"field {quote(field)}"
        super().__init__(f"{where}: {message}" if where else message)


class ModelError(StanceKitError):
    """A model directory or encoder cannot be found or loaded."""


class UsageError(StanceKitError):
    """A command-line argument is invalid (the command prints it and exits with status 2)."""


class TrainingCollapsed(StanceKitError):
    """Every training attempt ended no better than predicting the majority class."""


class OutputError(StanceKitError):
    """A file cannot be written (read-only directory, full disk, ...).

    Args:
        message: What failed and how to go on.
        path: The file that could not be written.
        errno: The operating system's error number, if any.
    """

    def __init__(self, message: str, *, path: str | None = None, errno: int | None = None) -> None:
        self.path, self.errno = path, errno
        super().__init__(f"{path}: {message}" if path is not None else message)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) stopped a run cleanly; the message says where and how to go on.

    A `KeyboardInterrupt`, not a `StanceKitError`: code that handles bad input never
    swallows it, and the command exits with status 130.
    """

QUOTE_CHARS = 80


class _Quoter(reprlib.Repr):
    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxstring, self.maxother, self.maxlong = 3, QUOTE_CHARS, QUOTE_CHARS, 40
        self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = self.maxdict = 6

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 128:  # str() of a huge int is slow, and refused beyond 4300 digits
            return f"<an integer of {x.bit_length():,} bits>"
        return super().repr_int(x, level)


_QUOTER = _Quoter()


def quote(value: Any) -> str:
    """How an error message quotes a value it found: ``repr(value)`` cut to about 80
    characters, built without ever making the repr of all of a huge or deeply shared value
    (a YAML alias bomb holds hundreds of millions of elements)."""
    try:
        text = _QUOTER.repr(value)
    except Exception:  # a value whose own __repr__ fails
        text = f"<{type(value).__name__}>"
    return text if len(text) <= QUOTE_CHARS + 10 else text[:QUOTE_CHARS] + "..."
