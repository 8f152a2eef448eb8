"""Selection: uncertainty measures, the diversity rules, the random share, option checks."""

from __future__ import annotations

import numpy as np
import pytest

from stancekit.adapt.selection import DuplicateIndex, select, shingles, uncertainty
from stancekit.data.records import StancePair
from stancekit.errors import ConfigError


def pair(i: int, text: str | None = None, *, actor: str = "Iran", target: str = "the deal",
         doc: str | None = None) -> StancePair:
    return StancePair(id=f"p{i}", actor=actor, target=target,
                      text=text or f"Iran said something different number {i} about the deal today",
                      doc_id=doc or f"d{i}")


def test_margin_and_entropy() -> None:
    probs = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.6, 0.3, 0.1]])
    np.testing.assert_allclose(uncertainty(probs, "margin"), [0.0, 1.0, 1.0, 0.7])
    ent = uncertainty(probs, "entropy")
    assert ent[0] == pytest.approx(0.0, abs=1e-9) and ent[2] == pytest.approx(1.0)
    assert ent[1] == pytest.approx(np.log(2) / np.log(3))
    with pytest.raises(ConfigError, match="measure: expected one of"):
        uncertainty(probs, "variance")


def test_picks_the_most_uncertain_first() -> None:
    pairs = [pair(i) for i in range(5)]
    probs = np.array([[0.9, 0.05, 0.05], [0.4, 0.35, 0.25], [0.7, 0.2, 0.1],
                      [0.34, 0.33, 0.33], [0.98, 0.01, 0.01]])
    picks = select(pairs, probs, 3)
    assert [p.index for p in picks] == [3, 1, 2]
    assert all(p.by == "uncertainty" for p in picks) and [p.rank for p in picks] == [0, 1, 2]


def test_near_duplicate_windows_are_skipped() -> None:
    text = "The ministry said Iran would never accept the deal as it stands now"
    pairs = [pair(0, text), pair(1, text + "."), pair(2, "Iran " + text.lower()), pair(3)]
    probs = np.array([[0.34, 0.33, 0.33]] * 3 + [[0.6, 0.3, 0.1]])
    picks = select(pairs, probs, 3)
    assert [p.index for p in picks] == [0, 3]  # 1 and 2 repeat 0; nothing else is left
    # at threshold 1 only identical word trigrams count: the variant with "Iran" comes back
    assert [p.index for p in select(pairs, probs, 3, duplicate_threshold=1.0)] == [0, 2, 3]
    # the same window about another target is another question
    other = [pair(0, text), pair(1, text, target="the talks")]
    assert len(select(other, probs[:2], 2)) == 2


def test_labelled_texts_count_as_picked() -> None:
    text = "The ministry said Iran would never accept the deal as it stands now"
    pairs = [pair(0, text), pair(1)]
    picks = select(pairs, np.array([[0.34, 0.33, 0.33], [0.8, 0.1, 0.1]]), 2,
                   labelled=[pair(9, text + "!")])
    assert [p.index for p in picks] == [1]


def test_documents_are_capped() -> None:
    pairs = [pair(i, doc="same") for i in range(4)] + [pair(9, doc="other")]
    probs = np.array([[0.34, 0.33, 0.33]] * 4 + [[0.5, 0.4, 0.1]])
    picks = select(pairs, probs, 3, max_per_doc=2)
    assert sorted(p.index for p in picks) == [0, 1, 4]


def test_an_overrepresented_actor_is_discounted() -> None:
    # half the pool is Iran and Iran's pairs are all slightly more uncertain: without spreading
    # the batch is all Iran; with it, Turkey gets about its share
    pairs = [pair(i, actor="Iran") for i in range(10)] + \
        [pair(10 + i, actor="Turkey", text=f"Ankara said a thing {i} about the deal")
         for i in range(10)]
    probs = np.array([[0.36, 0.34, 0.30]] * 10 + [[0.40, 0.33, 0.27]] * 10)
    spread = select(pairs, probs, 6, spread=0.5)
    flat = select(pairs, probs, 6, spread=1.0)
    assert sum(pairs[p.index].actor == "Turkey" for p in flat) == 0
    assert sum(pairs[p.index].actor == "Turkey" for p in spread) == 3
    # one target for the whole pool: spreading changes nothing
    assert [p.index for p in select(pairs[:10], probs[:10], 5)] == \
        [p.index for p in select(pairs[:10], probs[:10], 5, spread=1.0)]


def test_random_share_and_random_strategy() -> None:
    pairs = [pair(i) for i in range(50)]
    probs = np.random.default_rng(0).dirichlet([1, 1, 1], size=50)
    picks = select(pairs, probs, 10, random_share=0.3, seed=1)
    assert [p.by for p in picks] == ["random"] * 3 + ["uncertainty"] * 7
    assert len({p.index for p in picks}) == 10
    assert [p.index for p in picks] == [p.index for p in select(pairs, probs, 10, random_share=0.3,
                                                                 seed=1)]
    rand = select(pairs, probs, 10, strategy="random", seed=2)
    assert {p.by for p in rand} == {"random"} and len({p.index for p in rand}) == 10
    assert len(select(pairs, probs, 80)) <= 50


@pytest.mark.parametrize("kwargs, message", [
    ({"n": 0}, "n: expected a positive integer, found 0"),
    ({"strategy": "coreset"},
     "strategy: expected one of ['uncertainty', 'random'], found 'coreset'"),
    ({"random_share": 1.5}, "random_share: expected a share in [0, 1], found 1.5"),
    ({"spread": -1}, "spread: expected a factor in [0, 1], found -1"),
    ({"max_per_doc": 0}, "max_per_doc: expected a positive integer or none, found 0"),
    ({"duplicate_threshold": 0}, "duplicate_threshold: expected a share in (0, 1], found 0"),
])
def test_bad_options(kwargs: dict, message: str) -> None:
    args = {"n": 2, **kwargs}
    with pytest.raises(ConfigError) as err:
        select([pair(0)], np.array([[0.5, 0.3, 0.2]]), **args)
    assert message in str(err.value)


def test_probabilities_must_match_the_pairs() -> None:
    with pytest.raises(ConfigError, match=r"expected one row per pair \(2\), found 1"):
        select([pair(0), pair(1)], np.array([[0.5, 0.3, 0.2]]), 1)


def test_shingles_and_duplicate_index() -> None:
    assert shingles("A b, c!") == shingles("a B c")
    assert shingles("") == frozenset()
    index = DuplicateIndex(0.7)
    index.add("one two three four five six seven")
    assert index.near("one two three four five six seven eight")
    assert not index.near("completely other words in this sentence here")
