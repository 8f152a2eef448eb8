"""Sentence splitting: abbreviations stay inside their sentence."""

from __future__ import annotations

import pytest

from stancekit.data.sentences import split_sentences


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


@pytest.mark.parametrize("text, n", [
    ("The U.S. envoy arrived on Jan. 14 in Riyadh. Dr. Amal Haddad met him.", 2),
    ("Talks resumed at 3 p.m. local time. Officials said little.", 2),
    ("Mr. Okafor, of the U.N. mission, declined to comment. He left.", 2),
])
def test_sentence_splitter_keeps_abbreviations_inside(text: str, n: int) -> None:
    assert len(sentences(text)) == n


@pytest.mark.parametrize("sep", ["\n\n", " "], ids=["paragraphs", "one-paragraph"])
def test_long_text_split_in_blocks_as_pysbd_splits_it_whole(long_article, sep: str) -> None:
    """pysbd's time is quadratic in its input, so long texts go to it in blocks; the
    sentences are the ones pysbd finds in the whole text."""
    import pysbd

    from stancekit.data.sentences import BLOCK_CHARS

    text = long_article(5 * BLOCK_CHARS + 77, sep)
    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    whole = [text[s.start:s.end].strip() for s in segmenter.segment(text)]
    assert sentences(text) == [s for s in whole if s]


def test_sentence_longer_than_a_block_is_cut_at_spaces() -> None:
    from stancekit.data.sentences import BLOCK_CHARS

    text = " ".join(f"w{i}" for i in range(BLOCK_CHARS)) + "."
    spans = split_sentences(text)
    assert all(e - s <= BLOCK_CHARS for s, e in spans)
    assert " ".join(text[s:e] for s, e in spans) == text
