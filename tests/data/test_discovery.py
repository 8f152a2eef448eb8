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
