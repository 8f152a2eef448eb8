"""Aggregation: windows -> one stance per (article, actor, target) -> the actor x target table."""

from __future__ import annotations

from pathlib import Path

import pytest

from stancekit.aggregation import ActorStance, aggregate, stance_table, write_rows
from stancekit.data.articles import Actor
from stancekit.prediction import Prediction


def pred(label: str, s: float, n: float, c: float) -> Prediction:
    return Prediction(label=label, probs={"support": s, "neutral": n, "condemn": c})


def test_the_most_opinionated_window_decides(build_pairs) -> None:
    text = "Kenya met Iran. Kenya condemned the offensive. Kenya left."
    pairs = build_pairs(text, [Actor("Kenya")], context=0)
    preds = [pred("neutral", .1, .8, .1), pred("condemn", .05, .15, .8), pred("neutral", .2, .7, .1)]
    (row,) = aggregate(pairs, preds)
    assert (row.label, row.n_windows, row.evidence) == ("condemn", 3, "Kenya condemned the offensive.")
    assert row.probs["condemn"] == .8
    assert abs(sum(row.mean_probs.values()) - 1) < 1e-6


def test_all_neutral_windows_stay_neutral(build_pairs) -> None:
    pairs = build_pairs("Kenya met Iran. Kenya left.", [Actor("Kenya")], context=0)
    (row,) = aggregate(pairs, [pred("neutral", .2, .6, .2), pred("neutral", .1, .85, .05)])
    assert row.label == "neutral" and row.evidence == "Kenya left."


def test_stance_table_counts_and_shares(tmp_path: Path) -> None:
    def row(doc, label, date):
        return ActorStance(doc, "Kenya", "the deal", label, {}, "", 1, date=date)

    rows = [row("a", "support", "2024-01-02"), row("b", "support", "2024-02-01"),
            row("c", "condemn", "2024-02-03")]
    (total,) = stance_table(rows)
    assert (total["n"], total["n_support"], total["share_support"], total["majority"]) == \
        (3, 2, 0.6667, "support")
    by_month = stance_table(rows, by="month")
    assert [(r["month"], r["n"]) for r in by_month] == [("2024-01", 1), ("2024-02", 2)]
    out = write_rows(by_month, tmp_path / "table.csv")
    assert out.read_text().splitlines()[0].startswith("actor,target,month,n,")


def test_which_windows_may_decide(build_pairs) -> None:
    """``target_windows``: any window (default), windows naming the target when there are
    any, or only those; ``min_polar`` sets a floor under the deciding probability."""
    text = "Kenya praised Iran. Kenya condemned the offensive."
    pairs = build_pairs(text, [Actor("Kenya")], context=0)
    preds = [pred("support", .9, .05, .05), pred("condemn", .1, .2, .7)]
    assert len(pairs) == 2
    decide = lambda **kw: aggregate(pairs, preds, **kw)[0].label  # noqa: E731
    assert decide() == "support"
    assert decide(target_windows="prefer") == "condemn"
    assert decide(target_windows="only") == "condemn"
    assert decide(min_polar=0.95) == "neutral"
    assert decide(target_windows="only", min_polar=0.8) == "neutral"
    with pytest.raises(ValueError, match="target_windows"):
        decide(target_windows="some")
