"""Encoding pairs for the model: a template for actor and target, marked mentions in the text.

The encoding is part of the model: `PairEncoder.to_dict` is saved in the model
directory and `PairEncoder.from_dict` restores it, so that prediction encodes exactly
as training did.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .config import EncodingConfig
from .data.actors import content_word_spans, find_spans, surface_forms
from .data.records import Span, StancePair
from .labels import LABEL2ID


class PairEncoder:
    """Turns `StancePair` objects into model inputs.

    The first segment is ``template`` filled with actor and target; the second is the
    text, with the actor's mentions wrapped in ``actor_markers`` and the target's in
    ``target_markers`` when ``mark_mentions`` is on. Mentions come from the pair's spans,
    or are found by name (and ``meta["actor_aliases"]``/``meta["target_aliases"]``).
    """

    def __init__(self, config: EncodingConfig) -> None:
        self.config = config

    @property
    def marker_tokens(self) -> list[str]:
        if not self.config.mark_mentions:
            return []
        return [*self.config.actor_markers, *self.config.target_markers]

    def first_segment(self, pair: StancePair) -> str:
        return self.config.template.format(actor=pair.actor, target=pair.target)

    def second_segment(self, pair: StancePair) -> str:
        if not self.config.mark_mentions:
            return pair.text
        actor = list(pair.actor_spans) or find_spans(
            pair.text, surface_forms(pair.actor, pair.meta.get("actor_aliases", ())))
        target = list(pair.target_spans) or find_spans(
            pair.text, surface_forms(pair.target, pair.meta.get("target_aliases", ())), taken=actor)
        if not target and self.config.target_match == "words":
            target = content_word_spans(pair.text, pair.target, taken=actor)
        return mark(pair.text, actor, target, self.config.actor_markers, self.config.target_markers)

    def texts(self, pairs: Sequence[StancePair]) -> tuple[list[str], list[str]]:
        return [self.first_segment(p) for p in pairs], [self.second_segment(p) for p in pairs]

    def tokenize(self, tokenizer: Any, pairs: Sequence[StancePair], *, with_labels: bool = False,
                 padding: bool | str = False, return_tensors: str | None = None) -> Any:
        first, second = self.texts(pairs)
        enc = tokenizer(first, second, truncation="only_second", max_length=self.config.max_length,
                        padding=padding, return_tensors=return_tensors)
        if with_labels:
            enc["labels"] = [LABEL2ID[p.label] for p in pairs]
        return enc

    def dataset(self, tokenizer: Any, pairs: Sequence[StancePair]) -> Any:
        """A tokenized `datasets.Dataset` with ``labels`` (ids only live here and in the model)."""
        import datasets

        enc = self.tokenize(tokenizer, pairs, with_labels=True)
        return datasets.Dataset.from_dict(dict(enc))

    def to_dict(self) -> dict[str, Any]:
        return {"template": self.config.template, "mark_mentions": self.config.mark_mentions,
                "actor_markers": list(self.config.actor_markers),
                "target_markers": list(self.config.target_markers),
                "max_length": self.config.max_length}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PairEncoder:
        data = dict(data)
        data["actor_markers"] = tuple(data["actor_markers"])
        data["target_markers"] = tuple(data["target_markers"])
        return cls(EncodingConfig(**data))


def mark(text: str, actor: Sequence[Span], target: Sequence[Span], actor_markers: Sequence[str],
         target_markers: Sequence[str]) -> str:
    """Wrap spans in markers: ``mark("Riyadh urged", [(0, 6)], [], ("[A]", "[/A]"), ...)``
    gives ``"[A] Riyadh [/A] urged"``. Target spans that overlap an actor span are skipped."""
    inserts: list[tuple[int, int, str]] = []  # (position, order, token): closers before openers
    for spans, (open_, close) in ((actor, actor_markers), (target, target_markers)):
        for start, end in spans:
            if spans is target and any(s < end and start < e for s, e in actor):
                continue
            inserts.append((start, 1, open_ + " "))
            inserts.append((end, 0, " " + close))
    out, last = [], 0
    for pos, _, token in sorted(inserts):
        out.append(text[last:pos])
        out.append(token)
        last = pos
    out.append(text[last:])
    return "".join(out)
