"""Sentences and evidence windows: how text is cut into the units the model sees.

An evidence window is the sentence where an actor shows up plus the sentence before it
(where "the ministry" or "he" usually finds its antecedent). Training on the embedded corpus
(`stancekit.corpus`) and prediction on articles (`stancekit.data.pair_builder`) cut windows
the same way, with these functions.
"""

from __future__ import annotations

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


@lru_cache(maxsize=256)  # an article's windows are cut from the same text many times
def _sentence_spans(text: str) -> tuple[Span, ...]:
    spans = []
    for seg in _segmenter().segment(text):
        start, end = seg.start, seg.end
        while end > start and text[end - 1].isspace():
            end -= 1
        while start < end and text[start].isspace():
            start += 1
        if end > start:
            spans.append((start, end))
    return tuple(spans)


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
    """The index of the sentence that holds the start of ``span``."""
    for i, (_, e) in enumerate(sentences):
        if span[0] < e:
            return i
    return len(sentences) - 1


def approx_tokens(text: str) -> int:
    """A tokenizer-free estimate of WordPiece tokens (about 1.3 per English word)."""
    return int(len(text.split()) * 1.3) + 1
