"""The article -> pairs builder: one test per rule in `stancekit.data.articles`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stancekit.aggregation import ActorStance, aggregate, stance_table, write_rows
from stancekit.data.articles import Actor, Article, article_from_dict, load_actor_file, read_articles
from stancekit.data.coreference import anaphor_kinds
from stancekit.data.pair_builder import PairBuilder
from stancekit.data.sentences import split_sentences
from stancekit.errors import DataError
from stancekit.prediction import Prediction


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def build(text: str, actors: list[Actor], targets=("the offensive",), **kw) -> list:
    return PairBuilder(**kw).build(Article(id="a1", text=text, actors=tuple(actors),
                                           targets=tuple(targets)))


# --------------------------------------------------------------------------- sentences

@pytest.mark.parametrize("text, n", [
    ("The U.S. envoy arrived on Jan. 14 in Riyadh. Dr. Amal Haddad met him.", 2),
    ("Talks resumed at 3 p.m. local time. Officials said little.", 2),
    ("Mr. Okafor, of the U.N. mission, declined to comment. He left.", 2),
])
def test_sentence_splitter_keeps_abbreviations_inside(text: str, n: int) -> None:
    assert len(sentences(text)) == n


# --------------------------------------------------------------------------- matching

def test_longest_name_wins_over_a_name_it_contains() -> None:
    text = "Kata'ib Hezbollah praised the offensive."
    pairs = build(text, [Actor("Hezbollah"), Actor("Kata'ib Hezbollah")])
    assert {p.actor for p in pairs} == {"Kata'ib Hezbollah"}
    assert pairs[0].text[slice(*pairs[0].actor_spans[0])] == "Kata'ib Hezbollah"


def test_matching_ignores_case_quotes_and_white_space() -> None:
    text = "KATA\u2019IB   hezbollah praised the offensive, and Riyadh\nwelcomed it."
    pairs = build(text, [Actor("Kata'ib Hezbollah"), Actor("Saudi Arabia", ("Riyadh",))])
    assert {p.actor for p in pairs} == {"Kata'ib Hezbollah", "Saudi Arabia"}


def test_alias_is_matched_and_name_missing_actor_gives_no_pair() -> None:
    text = "Riyadh condemned the offensive."
    pairs = build(text, [Actor("Saudi Arabia", ("Riyadh",)), Actor("Qatar")])
    assert [p.actor for p in pairs] == ["Saudi Arabia"]


def test_character_offsets_point_at_the_mentions() -> None:
    text = "Fighting spread. Turkey rejected the offensive on Monday."
    (pair,) = build(text, [Actor("Turkey")], context=0)
    start, end = pair.meta["window"]
    assert text[start:end] == pair.text == "Turkey rejected the offensive on Monday."
    assert [pair.text[s:e] for s, e in pair.actor_spans] == ["Turkey"]
    assert [pair.text[s:e] for s, e in pair.target_spans] == ["the offensive"]
    es, ee = pair.meta["evidence_span"]
    assert text[es:ee] == pair.meta["evidence"]


# --------------------------------------------------------------------------- windows

def test_one_pair_per_actor_target_and_window() -> None:
    text = ("Egypt backed the offensive. Rain fell. Later, Egypt rejected the ceasefire. "
            "Nothing else happened.")
    pairs = build(text, [Actor("Egypt")], targets=("the offensive", "the ceasefire"), context=1)
    assert len(pairs) == 4  # 2 windows x 2 targets
    assert len({p.id for p in pairs}) == 4
    assert {(p.target, p.meta["evidence"]) for p in pairs} == {
        (t, s) for t in ("the offensive", "the ceasefire")
        for s in ("Egypt backed the offensive.", "Later, Egypt rejected the ceasefire.")}


def test_context_sentence_precedes_the_evidence() -> None:
    text = "The offensive began at dawn. Kenya condemned it."
    (pair,) = build(text, [Actor("Kenya")], context=1)
    assert pair.text == text
    assert pair.meta["evidence"] == "Kenya condemned it."


def test_without_targets_the_other_actors_are_targets() -> None:
    text = "Iran accused Qatar of meddling. Qatar denied it."
    pairs = build(text, [Actor("Iran"), Actor("Qatar")], targets=(), context=0)
    assert {(p.actor, p.target) for p in pairs} == {("Iran", "Qatar"), ("Qatar", "Iran")}


# --------------------------------------------------------------------------- coreference

@pytest.mark.parametrize("follow_up", [
    "The ministry said the offensive was unacceptable.",
    "Its spokesman said the offensive was unacceptable.",
    "The group said the offensive was unacceptable.",
    "He said the offensive was unacceptable.",
])
def test_referring_phrase_carries_the_actor_forward(follow_up: str) -> None:
    text = f"Kenya issued a statement on Tuesday. {follow_up}"
    pairs = build(text, [Actor("Kenya")], context=0)
    carried = [p for p in pairs if p.meta["via"] == "coreference"]
    assert len(carried) == 1
    assert carried[0].meta["evidence"] == follow_up
    assert carried[0].text.startswith("Kenya")  # the window reaches back to the antecedent
    assert carried[0].actor_spans


def test_carry_over_stops_after_the_window() -> None:
    text = "Kenya spoke first. Rain fell. Roads closed. Markets shut. The ministry said no."
    assert not [p for p in build(text, [Actor("Kenya")], carry_window=2)
                if p.meta["via"] == "coreference"]
    assert [p for p in build(text, [Actor("Kenya")], carry_window=4)
            if p.meta["via"] == "coreference"]


def test_carry_over_goes_to_the_first_named_actor_of_a_matching_kind() -> None:
    text = ("Brazil and Vale Mining met on Monday. The company said the offensive would hurt "
            "exports.")
    actors = [Actor("Brazil", kind="state"), Actor("Vale Mining", kind="company")]
    carried = [p for p in build(text, actors, context=0) if p.meta["via"] == "coreference"]
    assert [p.actor for p in carried] == ["Vale Mining"]
    untyped = [Actor("Brazil"), Actor("Vale Mining")]
    carried = [p for p in build(text, untyped, context=0) if p.meta["via"] == "coreference"]
    assert [p.actor for p in carried] == ["Brazil"]


def test_no_carry_when_turned_off_or_nothing_refers_back() -> None:
    text = "Kenya spoke first. The offensive continued."
    assert all(p.meta["via"] == "name" for p in build(text, [Actor("Kenya")]))
    text = "Kenya spoke first. The ministry said no."
    assert all(p.meta["via"] == "name" for p in build(text, [Actor("Kenya")], carry_window=0))


def test_anaphor_kinds() -> None:
    assert anaphor_kinds("The court said so.") == [("court",)]
    assert anaphor_kinds("It was raining.") == []
    assert anaphor_kinds("Fighting continued.") == []


# --------------------------------------------------------------------------- token limit

def test_long_windows_are_cut_not_truncated_away() -> None:
    filler = " ".join(f"word{i}" for i in range(400))
    text = f"Intro sentence here. {filler} and then Kenya condemned the offensive {filler}."
    pairs = build(text, [Actor("Kenya")], max_tokens=64, context=1)
    assert pairs, "the actor's mention must survive windowing"
    for p in pairs:
        assert len(p.text.split()) * 1.3 + 1 <= 64
        assert p.actor_spans and p.text[slice(*p.actor_spans[0])] == "Kenya"


def test_context_is_dropped_before_cutting_a_sentence() -> None:
    text = ("One two three four five six seven eight nine ten eleven twelve. "
            "Kenya condemned the offensive.")
    (pair,) = build(text, [Actor("Kenya")], max_tokens=12, context=1)
    assert pair.text == "Kenya condemned the offensive."


# --------------------------------------------------------------------------- inputs

def test_actor_file_yaml_and_json(tmp_path: Path) -> None:
    yml = tmp_path / "actors.yaml"
    yml.write_text("actors:\n  - name: Saudi Arabia\n    aliases: [Riyadh]\n  - Qatar\n"
                   "targets: [the offensive]\n", encoding="utf-8")
    actors, targets = load_actor_file(yml)
    assert actors == (Actor("Saudi Arabia", ("Riyadh",)), Actor("Qatar"))
    assert targets == ("the offensive",)
    js = tmp_path / "actors.json"
    js.write_text(json.dumps({"actors": ["Qatar"]}), encoding="utf-8")
    assert load_actor_file(js) == ((Actor("Qatar"),), ())


@pytest.mark.parametrize("content, message", [
    ("actors: []\n", "field 'actors': expected a non-empty list"),
    ("actors:\n  - name: ''\n", "field 'actors[0].name': expected a non-empty string"),
    ("actors:\n  - name: X\n    aliases: Riyadh\n", "field 'actors[0].aliases'"),
    ("actors:\n  - name: X\n    kind: planet\n", "field 'actors[0].kind': expected one of"),
    ("actors: [X]\nextra: 1\n", "unknown keys ['extra']"),
    ("actors: [X\n", "cannot parse the file"),
    ("- X\n", "expected a mapping with the key 'actors'"),
])
def test_actor_file_errors_name_the_field(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "actors.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message.replace("[", r"\[").replace("]", r"\]")) as info:
        load_actor_file(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("row, field", [
    ({"id": "a"}, "text"),
    ({"id": "a", "text": "  "}, "text"),
    ({"id": ["a"], "text": "x"}, "id"),
    ({"id": "a", "text": "x", "actors": 3}, "actors"),
    ({"id": "a", "text": "x", "actors": [{"aliases": []}]}, "actors[0].name"),
    ({"id": "a", "text": "x", "targets": "t"}, None),  # a CSV-style string is accepted
    ({"id": "a", "text": "x", "targets": [1]}, "targets"),
    ({"id": "a", "text": "x", "date": 2024}, "date"),
])
def test_article_rows_are_validated(row: dict, field: str | None) -> None:
    if field is None:
        assert article_from_dict(row).targets == ("t",)
        return
    with pytest.raises(DataError) as info:
        article_from_dict(row, path="arts.jsonl", line=7)
    assert info.value.field == field and info.value.line == 7


def test_read_articles_duplicates_and_rejects(tmp_path: Path) -> None:
    path = tmp_path / "arts.jsonl"
    rows = [{"id": "a", "text": "Kenya spoke."}, {"id": "a", "text": "Again."}, {"id": "b"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{oops\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"arts.jsonl:2 field 'id': duplicate article id"):
        list(read_articles(path))
    rejects, counts = tmp_path / "rej.jsonl", {}
    kept = list(read_articles(path, rejects_path=rejects, counts=counts))
    assert [a.id for a in kept] == ["a"]
    assert counts == {"read": 4, "rejected": 3}
    reasons = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [r["line"] for r in reasons] == [2, 3, 4]


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


# --------------------------------------------------------------------------- aggregation

def pred(label: str, s: float, n: float, c: float) -> Prediction:
    return Prediction(label=label, probs={"support": s, "neutral": n, "condemn": c})


def test_the_most_opinionated_window_decides() -> None:
    text = "Kenya met Iran. Kenya condemned the offensive. Kenya left."
    pairs = build(text, [Actor("Kenya")], context=0)
    preds = [pred("neutral", .1, .8, .1), pred("condemn", .05, .15, .8), pred("neutral", .2, .7, .1)]
    (row,) = aggregate(pairs, preds)
    assert (row.label, row.n_windows, row.evidence) == ("condemn", 3, "Kenya condemned the offensive.")
    assert row.probs["condemn"] == .8
    assert abs(sum(row.mean_probs.values()) - 1) < 1e-6


def test_all_neutral_windows_stay_neutral() -> None:
    pairs = build("Kenya met Iran. Kenya left.", [Actor("Kenya")], context=0)
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
