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
