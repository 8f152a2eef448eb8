"""Actor discovery with spaCy (the optional 'discover' extra)."""

from __future__ import annotations

import pytest

from stancekit.data.articles import Actor, Article
from stancekit.data.pair_builder import PairBuilder


def test_discovery_with_spacy() -> None:
    pytest.importorskip("spacy", reason="the optional 'discover' extra (spaCy) is not installed")
    from stancekit.data.discovery import discover_actors
    from stancekit.errors import ModelError

    try:
        discover_actors("Egypt.")
    except ModelError as err:
        pytest.skip(str(err))

    names = {a.name for a in discover_actors("Egypt and the United Nations criticised Hamas "
                                             "on Monday, Ahmed Karimi said.")}
    assert {"Egypt", "Ahmed Karimi"} <= names
    text = "Kenya condemned the offensive. Ahmed Karimi, a Tanzanian envoy, backed it."
    builder = PairBuilder(discover=True)
    pairs = builder.build(Article(id="d", text=text, actors=(Actor("Kenya"),),
                                  targets=("the offensive",)))
    assert {"Kenya", "Ahmed Karimi"} <= {p.actor for p in pairs}


def test_discovery_reads_a_long_article_in_blocks(long_article, monkeypatch) -> None:
    """spaCy refuses a text over its max_length (1,000,000 characters; articles may have
    2,000,000): before, a long article with discovery on failed with spaCy's ValueError."""
    pytest.importorskip("spacy", reason="the optional 'discover' extra (spaCy) is not installed")
    from stancekit.data import discovery
    from stancekit.errors import ModelError

    try:
        nlp = discovery._spacy_pipeline(None)
    except ModelError as err:
        pytest.skip(str(err))
    text = long_article(12_000)
    expected = {a.name for a in discovery.discover_actors(long_article(3_000))}
    monkeypatch.setattr(nlp, "max_length", 5_000)
    monkeypatch.setattr(discovery, "BLOCK_CHARS", 4_000)
    assert {a.name for a in discovery.discover_actors(text)} == expected
