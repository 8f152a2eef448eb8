"""Records: the frozen types that flow through stancekit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import DataError, quote
from ..labels import LABELS

Span = tuple[int, int]


@dataclass(frozen=True)
class StancePair:
    """One actor's reaction to one target in a piece of text.

    Args:
        id: Unique id of the pair in its collection.
        actor: Who takes the stance ("Saudi Arabia").
        target: What the stance is about ("the offensive").
        text: The evidence: a sentence or a few sentences.
        label: ``support``, ``neutral`` or ``condemn`` when known.
        doc_id: The article the text came from, for grouping and aggregation.
        actor_spans: Character offsets of the actor's mentions in ``text``; when empty
            the encoder finds them by name.
        target_spans: Character offsets of the target's mentions in ``text``.
        meta: Anything else the source carried (aliases, corpus, date, ...).
    """

    id: str
    actor: str
    target: str
    text: str
    label: str | None = None
    doc_id: str | None = None
    actor_spans: tuple[Span, ...] = ()
    target_spans: tuple[Span, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("id", "actor", "target", "text"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise DataError(f"expected a string, found {type(value).__name__} {quote(value)}",
                                field=name)
            if not value.strip():
                raise DataError("expected a non-empty string, found an empty one", field=name)
        if self.label is not None and self.label not in LABELS:
            raise DataError(f"expected one of {list(LABELS)}, found {quote(self.label)}",
                            field="label")
        for name in ("actor_spans", "target_spans"):
            if not isinstance(getattr(self, name), (tuple, list)):
                raise DataError(f"expected a tuple of (start, end) spans, found "
                                f"{type(getattr(self, name)).__name__}", field=name)
            for span in getattr(self, name):
                if not _is_offsets(span):
                    raise DataError(f"expected a span as [start, end] character offsets, found "
                                    f"{quote(span)}", field=name)
                if not 0 <= span[0] < span[1] <= len(self.text):
                    raise DataError(f"span {quote(span)} is outside the text (length "
                                    f"{len(self.text)})",
                                    field=name)

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> StancePair:
        """Build a pair from a plain dict with the field names above (extra keys go to ``meta``)."""
        known = {"id", "actor", "target", "text", "label", "doc_id", "actor_spans", "target_spans",
                 "meta"}
        if not isinstance(row, Mapping):
            raise DataError(f"expected a mapping of fields, found {type(row).__name__}")
        missing = [k for k in ("actor", "target", "text") if k not in row]
        if missing:
            raise DataError(f"expected the fields ['actor', 'target', 'text'], but {missing} "
                            f"missing; found {sorted(map(str, row))}", field=missing[0])
        raw_meta = row.get("meta") or {}
        if not isinstance(raw_meta, Mapping):
            raise DataError(f"expected an object of extra fields, found {type(raw_meta).__name__}",
                            field="meta")
        meta = dict(raw_meta)
        meta.update({k: v for k, v in row.items() if k not in known})
        return cls(
            id=str(row.get("id", "")) or _auto_id(row),
            actor=row["actor"], target=row["target"], text=row["text"],
            label=row.get("label"), doc_id=row.get("doc_id"),
            actor_spans=_spans(row.get("actor_spans"), "actor_spans"),
            target_spans=_spans(row.get("target_spans"), "target_spans"),
            meta=meta,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "actor": self.actor, "target": self.target,
                               "text": self.text}
        if self.label is not None:
            out["label"] = self.label
        if self.doc_id is not None:
            out["doc_id"] = self.doc_id
        if self.actor_spans:
            out["actor_spans"] = [list(s) for s in self.actor_spans]
        if self.target_spans:
            out["target_spans"] = [list(s) for s in self.target_spans]
        if self.meta:
            out["meta"] = dict(self.meta)
        return out


def _is_offsets(span: Any) -> bool:
    return (isinstance(span, (tuple, list)) and len(span) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) for x in span))


def _spans(value: Any, name: str) -> tuple[Span, ...]:
    """Spans from a file: a list of ``[start, end]`` pairs of integer character offsets."""
    if value is None or (isinstance(value, str) and not value.strip()):  # an empty CSV cell
        return ()
    if not isinstance(value, (list, tuple)) or \
            not all(isinstance(s, (list, tuple)) and len(s) == 2 for s in value):
        raise DataError(f"expected a list of [start, end] character offsets, found {quote(value)}",
                        field=name)
    return tuple((s[0], s[1]) for s in value)


def _auto_id(row: Mapping[str, Any]) -> str:
    import hashlib

    key = "\x1f".join(str(row.get(k, "")) for k in ("actor", "target", "text"))
    return "auto-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]
