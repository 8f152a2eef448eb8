"""Coreference: a referring phrase ("the ministry", "he said") carries the actor named before
it into a pair of its own, within the carry window."""

from __future__ import annotations

import pytest

from stancekit.data.articles import Actor
from stancekit.data.coreference import anaphor_kinds


@pytest.mark.parametrize("follow_up", [
    "The ministry said the offensive was unacceptable.",
    "Its spokesman said the offensive was unacceptable.",
    "The group said the offensive was unacceptable.",
    "He said the offensive was unacceptable.",
])
def test_referring_phrase_carries_the_actor_forward(build_pairs, follow_up: str) -> None:
    text = f"Kenya issued a statement on Tuesday. {follow_up}"
    pairs = build_pairs(text, [Actor("Kenya")], context=0)
    carried = [p for p in pairs if p.meta["via"] == "coreference"]
    assert len(carried) == 1
    assert carried[0].meta["evidence"] == follow_up
    assert carried[0].text.startswith("Kenya")  # the window reaches back to the antecedent
    assert carried[0].actor_spans


def test_carry_over_stops_after_the_window(build_pairs) -> None:
    text = "Kenya spoke first. Rain fell. Roads closed. Markets shut. The ministry said no."
    assert not [p for p in build_pairs(text, [Actor("Kenya")], carry_window=2)
                if p.meta["via"] == "coreference"]
    assert [p for p in build_pairs(text, [Actor("Kenya")], carry_window=4)
            if p.meta["via"] == "coreference"]


def test_carry_over_goes_to_the_first_named_actor_of_a_matching_kind(build_pairs) -> None:
    text = ("Brazil and Vale Mining met on Monday. The company said the offensive would hurt "
            "exports.")
    actors = [Actor("Brazil", kind="state"), Actor("Vale Mining", kind="company")]
    carried = [p for p in build_pairs(text, actors, context=0) if p.meta["via"] == "coreference"]
    assert [p.actor for p in carried] == ["Vale Mining"]
    untyped = [Actor("Brazil"), Actor("Vale Mining")]
    carried = [p for p in build_pairs(text, untyped, context=0) if p.meta["via"] == "coreference"]
    assert [p.actor for p in carried] == ["Brazil"]


def test_no_carry_when_turned_off_or_nothing_refers_back(build_pairs) -> None:
    text = "Kenya spoke first. The offensive continued."
    assert all(p.meta["via"] == "name" for p in build_pairs(text, [Actor("Kenya")]))
    text = "Kenya spoke first. The ministry said no."
    assert all(p.meta["via"] == "name" for p in build_pairs(text, [Actor("Kenya")], carry_window=0))


def test_anaphor_kinds() -> None:
    assert anaphor_kinds("The court said so.") == [("court",)]
    assert anaphor_kinds("It was raining.") == []
    assert anaphor_kinds("Fighting continued.") == []
