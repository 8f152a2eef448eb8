"""Finding actor and target mentions in text: the one place mentions are searched.

- `find_spans`: the spans of a list of surface forms;
- `actor_mentions`: every listed actor's mentions in an article, longest match first across
  all actors at once (the pair builder);
- `pair_mentions`: a pair's actor and target spans, given or found by name (the input
  formatter marks them; aggregation asks `mentions_target`).

Matching is case-insensitive, treats typographic quotes as plain ones (’ = ') and any
run of white space as one space, respects word boundaries, and resolves overlaps
longest-first, so that "Kata'ib Hezbollah" is never also read as "Hezbollah".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

Span = tuple[int, int]

if TYPE_CHECKING:
    from .records import StancePair

# One character for one, so that offsets in the normalised text are offsets in the original.
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'", "`": "'",
                         "\u201c": '"', "\u201d": '"', "\u00a0": " "})
_DETERMINERS = ("the ", "a ", "an ")


def normalize(text: str) -> str:
    """Typographic quotes to plain ones; same length as the input."""
    return text.translate(_QUOTES)


@lru_cache(maxsize=4096)
def _pattern(name: str) -> re.Pattern[str] | None:
    tokens = normalize(name).split()
    if not tokens:
        return None
    body = r"\s+".join(re.escape(t) for t in tokens)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def surface_forms(name: str, aliases: Iterable[str] = ()) -> list[str]:
    """The name, its aliases, and each without a leading article ("the offensive" -> "offensive")."""
    forms: list[str] = []
    for form in (name, *aliases):
        form = " ".join(form.split())
        if not form:
            continue
        forms.append(form)
        low = form.lower()
        for det in _DETERMINERS:
            if low.startswith(det) and len(form) > len(det) + 2:
                forms.append(form[len(det):])
    return list(dict.fromkeys(forms))


def find_spans(text: str, forms: Sequence[str], *, taken: Iterable[Span] = ()) -> list[Span]:
    """Character spans of ``forms`` in ``text``, longest first, without overlaps.

    Args:
        text: The text to search.
        forms: Surface forms (names, aliases).
        taken: Spans already claimed (e.g. by another actor); matches overlapping them are skipped.
    """
    norm = normalize(text)
    found: list[Span] = []
    for form in forms:
        pattern = _pattern(form)
        if pattern is not None:
            found.extend(m.span() for m in pattern.finditer(norm))
    claimed = ClaimedChars(len(text), taken)
    result = [span for span in sorted(set(found), key=lambda s: (-(s[1] - s[0]), s[0]))
              if claimed.claim(span)]
    return sorted(result)


class ClaimedChars:
    """The characters of a text already claimed by a span: checking and claiming a span
    costs its length, not the number of spans claimed before (long texts have thousands)."""

    def __init__(self, length: int, taken: Iterable[Span] = ()) -> None:
        self.chars = bytearray(length)
        for span in taken:
            self._mark(*self._clip(span))

    def free(self, span: Span) -> bool:
        return self.chars.find(1, *self._clip(span)) < 0

    def claim(self, span: Span) -> bool:
        """Claim ``span`` unless it overlaps a claimed character; True if it was free."""
        if not self.free(span):
            return False
        self._mark(*self._clip(span))
        return True

    def _clip(self, span: Span) -> Span:
        return max(0, span[0]), max(0, min(len(self.chars), span[1]))

    def _mark(self, start: int, end: int) -> None:
        if end > start:
            self.chars[start:end] = b"\x01" * (end - start)


_STOP = frozenset(["a", "an", "the", "of", "on", "in", "at", "to", "for", "from", "by", "with", "and", "or", "but", "not", "no", "its", "their", "his", "her", "this", "that", "these", "those", "over", "under", "into", "onto", "about", "against", "between", "after", "before", "during", "new", "own", "its", "all", "any", "both", "each", "more", "most", "other", "some", "such", "than", "too", "very", "can", "will", "just"])


def content_word_spans(text: str, phrase: str, *, taken: Iterable[Span] = ()) -> list[Span]:
    """Spans of the content words of ``phrase`` in ``text`` (a fallback when the phrase
    itself does not occur): words of 4+ letters that are not function words, matched on
    their first 6 characters at a word start, so "tariffs" also finds "tariff"."""
    stems = {w.lower()[:6] for w in re.findall(r"[^\W\d_]{4,}", normalize(phrase))
             if w.lower() not in _STOP}
    if not stems:
        return []
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(sorted(map(re.escape, stems))) + r")\w*",
                         re.IGNORECASE)
    claimed = ClaimedChars(len(text), taken)
    return [m.span() for m in pattern.finditer(normalize(text))
            if claimed.free(m.span())]


def form_key(form: str) -> str:
    """How two surface forms are compared: quotes, white space and case folded."""
    return " ".join(normalize(form).split()).lower()


def actor_mentions(text: str, actors: Sequence[Any]) -> dict[str, list[Span]]:
    """``{actor name: spans}`` of `Actor` objects (``name``, ``forms``); longest match first across all actors at once, so that
    "Kata'ib Hezbollah" is never also read as "Hezbollah"."""
    owner: dict[str, str] = {}
    for actor in actors:
        for form in actor.forms:
            owner.setdefault(form_key(form), actor.name)
    # find_spans resolves overlaps longest-first over the forms of every actor, then
    # each span is given back to the actor whose form matched it.
    out: dict[str, list[Span]] = {}
    for span in find_spans(text, list(owner)):
        name = owner.get(form_key(text[span[0]:span[1]]))
        if name is not None:
            out.setdefault(name, []).append(span)
    return out


def pair_mentions(pair: StancePair, *, words: bool = False) -> tuple[list[Span], list[Span]]:
    """The actor's and the target's spans in ``pair.text``: the pair's own spans where it has
    them, else found by name and ``meta["actor_aliases"]``/``meta["target_aliases"]``; with
    ``words``, a target not found by name falls back to its content words."""
    actor = list(pair.actor_spans) or find_spans(
        pair.text, surface_forms(pair.actor, pair.meta.get("actor_aliases", ())))
    target = list(pair.target_spans) or find_spans(
        pair.text, surface_forms(pair.target, pair.meta.get("target_aliases", ())), taken=actor)
    if not target and words:
        target = content_word_spans(pair.text, pair.target, taken=actor)
    return actor, target


def mentions_target(pair: StancePair) -> bool:
    """Whether the pair's text names the target, or failing that one of its content words."""
    return bool(pair.target_spans) or \
        bool(content_word_spans(pair.text, pair.target, taken=pair.actor_spans))
