"""Articles to pairs: sentences, actor mentions, evidence windows.

The window rule is shared by training (`stancekit.corpus`) and prediction: a pair's
text is the sentence where the stance shows plus the sentence before it, which is
where "the ministry" or "he" usually finds its antecedent.
"""

from __future__ import annotations

from functools import lru_cache

Span = tuple[int, int]


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def split_sentences(text: str) -> list[Span]:
    """Character spans of the sentences of ``text`` (pysbd: handles "U.S.", "Dr.", "Jan. 14")."""
    spans = []
    for seg in _segmenter().segment(text):
        start, end = seg.start, seg.end
        while end > start and text[end - 1].isspace():
            end -= 1
        while start < end and text[start].isspace():
            start += 1
        if end > start:
            spans.append((start, end))
    return spans


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
