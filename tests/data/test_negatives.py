"""Neutral examples that teach target-directed decisions: ``data.hard_negatives`` (a polar
window paired with another document's target) and ``data.window_negatives`` (the pair
builder's windows of pairs annotated neutral in exhaustively annotated articles)."""

from __future__ import annotations

from collections import Counter

from stancekit import load_config
from stancekit.corpus import is_exhaustive, iter_articles, window_negatives_of
from stancekit.data.mentions import content_word_spans, find_spans, surface_forms
from stancekit.data.records import StancePair
from stancekit.data.splits import hard_negatives, load_splits


def _pairs() -> list[StancePair]:
    texts = {"support": "Aldoria praised the ceasefire deal brokered in Vesna.",
             "condemn": "Corvan condemned the border raid near Dunmere.",
             "neutral": "Eskar said its ministers met in the capital."}
    targets = {"support": "the ceasefire deal", "condemn": "the border raid",
               "neutral": "the fishing quota"}
    actors = {"support": "Aldoria", "condemn": "Corvan", "neutral": "Eskar"}
    return [StancePair(id=f"{lab}{i}", actor=actors[lab], target=targets[lab], text=texts[lab],
                       label=lab, doc_id=f"doc-{lab}-{i}", actor_spans=((0, len(actors[lab])),))
            for i in range(10) for lab in ("support", "condemn", "neutral")]


def test_hard_negatives_are_neutral_copies_with_a_target_the_text_never_mentions() -> None:
    pairs = _pairs()
    negatives = hard_negatives(pairs, 0.5)
    assert len(negatives) == 10  # half of the 20 support/condemn pairs
    by_id = {p.id: p for p in pairs}
    for neg in negatives:
        source = by_id[neg.id.removesuffix("|negative")]
        assert source.label in ("support", "condemn")
        assert neg.label == "neutral" and neg.text == source.text and neg.actor == source.actor
        assert neg.target != source.target and not neg.target_spans
        assert not find_spans(neg.text, surface_forms(neg.target))
        assert not content_word_spans(neg.text, neg.target)
    assert hard_negatives(pairs, 0.5) == negatives  # seeded


def test_hard_negatives_in_a_config_add_to_train_only(synthetic_pairs, write_pairs, tmp_path) -> None:
    path = write_pairs(tmp_path / "own.jsonl", synthetic_pairs(60))
    base = ["data.corpus=files", f"data.train={path}"]
    plain = load_splits(load_config(None, base).data)
    more = load_splits(load_config(None, [*base, "data.hard_negatives=1.0"]).data)
    assert more["dev"] == plain["dev"]
    added = Counter(p.label for p in more["train"]) - Counter(p.label for p in plain["train"])
    assert set(added) == {"neutral"} and added["neutral"] > 0


def test_window_negatives_come_only_from_exhaustive_articles_and_neutral_pairs() -> None:
    articles = list(iter_articles())
    exhaustive = [a for a in articles if is_exhaustive(a)]
    assert any(a["id"].startswith("rw") for a in exhaustive)
    partial = next(a for a in articles if not is_exhaustive(a))
    assert window_negatives_of(partial) == []
    article = next(a for a in exhaustive if a["id"].startswith("rw"))
    neutral = {(a["actor"], a["target"]) for a in article["annotations"] if a["stance"] == "neutral"}
    negatives = window_negatives_of(article)
    assert negatives and all(p.label == "neutral" for p in negatives)
    assert {(p.actor, p.target) for p in negatives} <= neutral
    assert all(p.text in article["text"] for p in negatives)


def test_window_negatives_join_train_and_leave_evaluation_splits_alone() -> None:
    plain = load_splits(load_config(None, []).data)
    more = load_splits(load_config(None, ["data.window_negatives=true"]).data)
    assert len(more["train"]) > len(plain["train"])
    for name in ("dev", "test", "test_events", "dev_real", "test_real"):
        assert more[name] == plain[name]
