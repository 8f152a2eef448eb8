"""Encoding: templates and mention markers (finding mentions: data/test_mentions.py)."""

from __future__ import annotations

from stancekit.config import EncodingConfig
from stancekit.data.records import StancePair
from stancekit.encoding import PairFormatter, mark


def test_mentions_are_marked_with_aliases() -> None:
    enc = PairFormatter(EncodingConfig())
    pair = StancePair(id="1", actor="Saudi Arabia", target="the offensive",
                      text="Riyadh urged restraint over the offensive.",
                      meta={"actor_aliases": ["Riyadh"]})
    assert enc.first_segment(pair) == "Saudi Arabia on the offensive"
    assert enc.second_segment(pair) == "[A] Riyadh [/A] urged restraint over [T] the offensive [/T]."


def test_given_spans_win_over_search() -> None:
    enc = PairFormatter(EncodingConfig())
    pair = StancePair(id="1", actor="p", target="q", text="Kratz blamed Avery.",
                      actor_spans=((0, 5),), target_spans=((13, 18),))
    assert enc.second_segment(pair) == "[A] Kratz [/A] blamed [T] Avery [/T]."


def test_marking_can_be_switched_off() -> None:
    enc = PairFormatter(EncodingConfig(mark_mentions=False))
    pair = StancePair(id="1", actor="Iran", target="the deal", text="Iran backed the deal.")
    assert enc.second_segment(pair) == "Iran backed the deal."
    assert enc.marker_tokens == []


def test_target_overlapping_actor_is_not_marked_twice() -> None:
    assert mark("Iran deal", [(0, 9)], [(5, 9)], ("[A]", "[/A]"), ("[T]", "[/T]")) == \
        "[A] Iran deal [/A]"


def test_encoder_round_trips() -> None:
    enc = PairFormatter(EncodingConfig(template="{target} / {actor}", max_length=64))
    assert PairFormatter.from_dict(enc.to_dict()).config == enc.config


def test_marking_is_linear_in_the_number_of_mentions(lines_run) -> None:
    """Before, each target span was compared with every actor span: a long pair text with
    thousands of given spans took minutes."""
    def work(n: int) -> int:
        text = "Iran the deal " * n
        actor = [(14 * i, 14 * i + 4) for i in range(n)]
        target = [(14 * i + 5, 14 * i + 13) for i in range(n)] + [(0, 8)]
        return lines_run(lambda: mark(text, actor, target, ("[A]", "[/A]"), ("[T]", "[/T]")))

    assert work(4000) / work(500) < 8 * 1.5
