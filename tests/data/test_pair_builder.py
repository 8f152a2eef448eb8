"""The article -> pairs builder: one test per rule of `PairBuilder` (matching, windows, the
token limit); its coreference rule is in test_coreference.py."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from stancekit.data.articles import Actor

# --------------------------------------------------------------------------- matching

def test_longest_name_wins_over_a_name_it_contains(build_pairs) -> None:
    text = "Kata'ib Hezbollah praised the offensive."
    pairs = build_pairs(text, [Actor("Hezbollah"), Actor("Kata'ib Hezbollah")])
    assert {p.actor for p in pairs} == {"Kata'ib Hezbollah"}
    assert pairs[0].text[slice(*pairs[0].actor_spans[0])] == "Kata'ib Hezbollah"


def test_matching_ignores_case_quotes_and_white_space(build_pairs) -> None:
    text = "KATA\u2019IB   hezbollah praised the offensive, and Riyadh\nwelcomed it."
    pairs = build_pairs(text, [Actor("Kata'ib Hezbollah"), Actor("Saudi Arabia", ("Riyadh",))])
    assert {p.actor for p in pairs} == {"Kata'ib Hezbollah", "Saudi Arabia"}


def test_alias_is_matched_and_name_missing_actor_gives_no_pair(build_pairs) -> None:
    text = "Riyadh condemned the offensive."
    pairs = build_pairs(text, [Actor("Saudi Arabia", ("Riyadh",)), Actor("Qatar")])
    assert [p.actor for p in pairs] == ["Saudi Arabia"]


def test_character_offsets_point_at_the_mentions(build_pairs) -> None:
    text = "Fighting spread. Turkey rejected the offensive on Monday."
    (pair,) = build_pairs(text, [Actor("Turkey")], context=0)
    start, end = pair.meta["window"]
    assert text[start:end] == pair.text == "Turkey rejected the offensive on Monday."
    assert [pair.text[s:e] for s, e in pair.actor_spans] == ["Turkey"]
    assert [pair.text[s:e] for s, e in pair.target_spans] == ["the offensive"]
    es, ee = pair.meta["evidence_span"]
    assert text[es:ee] == pair.meta["evidence"]


# --------------------------------------------------------------------------- windows

def test_one_pair_per_actor_target_and_window(build_pairs) -> None:
    text = ("Egypt backed the offensive. Rain fell. Later, Egypt rejected the ceasefire. "
            "Nothing else happened.")
    pairs = build_pairs(text, [Actor("Egypt")], targets=("the offensive", "the ceasefire"),
                        context=1)
    assert len(pairs) == 4  # 2 windows x 2 targets
    assert len({p.id for p in pairs}) == 4
    assert {(p.target, p.meta["evidence"]) for p in pairs} == {
        (t, s) for t in ("the offensive", "the ceasefire")
        for s in ("Egypt backed the offensive.", "Later, Egypt rejected the ceasefire.")}


def test_context_sentence_precedes_the_evidence(build_pairs) -> None:
    text = "The offensive began at dawn. Kenya condemned it."
    (pair,) = build_pairs(text, [Actor("Kenya")], context=1)
    assert pair.text == text
    assert pair.meta["evidence"] == "Kenya condemned it."


def test_without_targets_the_other_actors_are_targets(build_pairs) -> None:
    text = "Iran accused Qatar of meddling. Qatar denied it."
    pairs = build_pairs(text, [Actor("Iran"), Actor("Qatar")], targets=(), context=0)
    assert {(p.actor, p.target) for p in pairs} == {("Iran", "Qatar"), ("Qatar", "Iran")}


# --------------------------------------------------------------------------- token limit

def test_long_windows_are_cut_not_truncated_away(build_pairs) -> None:
    filler = " ".join(f"word{i}" for i in range(400))
    text = f"Intro sentence here. {filler} and then Kenya condemned the offensive {filler}."
    pairs = build_pairs(text, [Actor("Kenya")], max_tokens=64, context=1)
    assert pairs, "the actor's mention must survive windowing"
    for p in pairs:
        assert len(p.text.split()) * 1.3 + 1 <= 64
        assert p.actor_spans and p.text[slice(*p.actor_spans[0])] == "Kenya"


def test_context_is_dropped_before_cutting_a_sentence(build_pairs) -> None:
    text = ("One two three four five six seven eight nine ten eleven twelve. "
            "Kenya condemned the offensive.")
    (pair,) = build_pairs(text, [Actor("Kenya")], max_tokens=12, context=1)
    assert pair.text == "Kenya condemned the offensive."


# --------------------------------------------------------------------------- long articles

@pytest.mark.parametrize("sep", ["\n\n", " "], ids=["paragraphs", "one-paragraph"])
def test_pair_building_is_linear_in_article_length(build_pairs, long_article, news_actors,
                                                   lines_run, monkeypatch, sep: str) -> None:
    """Before: sentence lookups, mention overlaps, first-mention ordering and span
    selection each scanned the whole article per mention (1.9M characters ran for more than
    10 minutes), and pysbd, quadratic in its input, was given the whole article."""
    from stancekit.data import sentences

    longest = []
    segmenter = sentences._segmenter()
    monkeypatch.setattr(sentences, "_segmenter", lambda: SimpleNamespace(
        segment=lambda text: longest.append(len(text)) or segmenter.segment(text)))
    small, large = long_article(6_000, sep), long_article(48_000, sep)
    work = {}
    for text in (small, large):
        work[len(text)] = lines_run(lambda t=text: build_pairs(t, news_actors, targets=(),
                                                               max_tokens=40))
    assert work[len(large)] / work[len(small)] < 8 * 1.5, work
    assert max(longest) <= sentences.BLOCK_CHARS
