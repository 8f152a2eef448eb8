"""Sentences and evidence windows: how text is cut into the units the model sees.

An evidence window is the sentence where an actor shows up plus the sentence before it
(where "the ministry" or "he" usually finds its antecedent). Training on the embedded corpus
(`stancekit.corpus`) and prediction on articles (`stancekit.data.pair_builder`) cut windows
the same way, with these functions.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

Span = tuple[int, int]


@lru_cache(maxsize=1)
def _segmenter() -> Any:
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def split_sentences(text: str) -> list[Span]:
    """Character spans of the sentences of ``text`` (pysbd: handles "U.S.", "Dr.", "Jan. 14")."""
    return list(_sentence_spans(text))


# pysbd's time grows with the square of the text it is given (each abbreviation it finds
# rewrites the whole text, and each sentence's offsets are searched from the start), so a
# long text is given to it in blocks of about this many characters: time linear in the text.
BLOCK_CHARS = 2_000


@lru_cache(maxsize=256)  # an article's windows are cut from the same text many times
def _sentence_spans(text: str) -> tuple[Span, ...]:
    """Sentences found block by block. pysbd ends a sentence at every line break, so a block
    that ends just after one is cut where pysbd would cut anyway; a block without one gives
    back its last sentence, which the next block starts with (its end may lie beyond the
    block). A single sentence longer than a block is cut at the block's last space."""
    spans: list[Span] = []
    pos, n = 0, len(text)
    while pos < n:
        end = n if n - pos <= BLOCK_CHARS else pos + BLOCK_CHARS
        if end < n:
            newline = text.rfind("\n", pos + BLOCK_CHARS // 4, end)
            if newline >= 0:
                end = newline + 1
        found = _segment(text, pos, end)
        if end == n or text[end - 1] == "\n" or not found:
            spans.extend(found)
            pos = end
        elif len(found) > 1:
            spans.extend(found[:-1])
            pos = found[-1][0]
        else:  # one sentence fills the block
            space = text.rfind(" ", found[0][0] + 1, end)
            cut = space if space > found[0][0] else end
            spans.extend(_trimmed(text, found[0][0], cut))
            pos = cut
    return tuple(spans)


def _segment(text: str, start: int, end: int) -> list[Span]:
    """pysbd's sentences of ``text[start:end]`` as spans of ``text``, white space trimmed."""
    spans: list[Span] = []
    for seg in _segmenter().segment(text[start:end]):
        spans.extend(_trimmed(text, start + seg.start, start + seg.end))
    return spans


def _trimmed(text: str, start: int, end: int) -> list[Span]:
    while end > start and text[end - 1].isspace():
        end -= 1
    while start < end and text[start].isspace():
        start += 1
    return [(start, end)] if end > start else []


def evidence_window(text: str, evidence: str, *, context: int = 1) -> str:
    """The sentences covering ``evidence`` plus ``context`` sentences before them."""
    start = text.find(evidence)
    if start < 0:
        raise ValueError(f"evidence not found in text: {evidence[:60]!r}")
    end = start + len(evidence)
    sentences = split_sentences(text)
    idx = [i for i, (s, e) in enumerate(sentences) if s < end and start < e]
    if not idx:
        return evidence
    first = max(0, idx[0] - context)
    return text[sentences[first][0]:sentences[idx[-1]][1]]


def sentence_of(sentences: Sequence[Span], span: Span) -> int:
    """The index of the sentence that holds the start of ``span`` (a binary search: the
    sentences are in text order)."""
    return min(bisect_right(sentences, span[0], key=lambda s: s[1]), len(sentences) - 1)


def approx_tokens(text: str) -> int:
    """A tokenizer-free estimate of WordPiece tokens (about 1.3 per English word)."""
    return int(len(text.split()) * 1.3) + 1
