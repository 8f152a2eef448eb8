"""The dsa_news paper's 5-class metric from 3-way predictions of both directions."""

from __future__ import annotations

from stancekit.data.records import StancePair
from stancekit.evaluation.generalization import dsa_five_class, five_class_macro_f1


def _both(doc: str, raw: str) -> list[StancePair]:
    meta = {"corpus": "dsa_news", "raw_label": raw}
    return [StancePair(id=f"{doc}:pq", actor="P", target="Q", text="P and Q.", doc_id=doc,
                       meta=meta),
            StancePair(id=f"{doc}:qp", actor="Q", target="P", text="P and Q.", doc_id=doc,
                       meta=meta)]


def test_five_class_labels_come_from_both_directions() -> None:
    pairs = [*_both("a", "1"), *_both("b", "4"), *_both("c", "0"), *_both("d", "3")]
    predicted = ["support", "condemn",    # p->q decides first: 1
                 "neutral", "condemn",    # q blames p: 4
                 "neutral", "neutral",    # nothing: 0
                 "neutral", "support"]    # q endorses p: 2 (gold 3)
    gold, pred = dsa_five_class(pairs, predicted)
    assert gold == ["1", "4", "0", "3"] and pred == ["1", "4", "0", "2"]
    assert 0 < five_class_macro_f1(gold, pred) < 1
