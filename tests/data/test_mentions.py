"""Finding mentions: longest name first, quotes, case and white space ignored, word boundaries,
surface forms."""

from __future__ import annotations

from stancekit.data.mentions import find_spans, surface_forms


def test_longest_match_first_and_quote_insensitive() -> None:
    text = "Fighters of Kata\u2019ib  Hezbollah and Hezbollah met."
    spans = find_spans(text, ["Hezbollah", "Kata'ib Hezbollah"])
    assert [text[s:e] for s, e in spans] == ["Kata\u2019ib  Hezbollah", "Hezbollah"]


def test_word_boundaries_and_case() -> None:
    text = "IRAN and Iranian officials; iran said"
    assert [text[s:e] for s, e in find_spans(text, ["Iran"])] == ["IRAN", "iran"]


def test_surface_forms_drop_leading_article() -> None:
    assert surface_forms("the offensive", ["The Saudi-led push"]) == [
        "the offensive", "offensive", "The Saudi-led push", "Saudi-led push"]
