"""Finding actor and target mentions in text.

Matching is case-insensitive, treats typographic quotes as plain ones (’ = ') and any
run of white space as one space, respects word boundaries, and resolves overlaps
longest-first, so that "Kata'ib Hezbollah" is never also read as "Hezbollah".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

Span = tuple[int, int]

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
    chosen: list[Span] = list(taken)
    result: list[Span] = []
    for span in sorted(set(found), key=lambda s: (-(s[1] - s[0]), s[0])):
        if all(span[1] <= c[0] or span[0] >= c[1] for c in chosen):
            chosen.append(span)
            result.append(span)
    return sorted(result)


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
    chosen = list(taken)
    out = []
    for m in pattern.finditer(normalize(text)):
        span = m.span()
        if all(span[1] <= c[0] or span[0] >= c[1] for c in chosen):
            out.append(span)
    return out
