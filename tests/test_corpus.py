"""The embedded corpus: every file passes the checker, the splits hold out what they claim,
and the corpus meets the sizes the issue asks for."""

from __future__ import annotations

import collections
import json

import pytest

from stancekit.corpus import CORPUS_DIR, SPLITS_FILE, iter_articles, load_embedded_splits
from stancekit.corpus.checks import HARD_CASES, check_file
from stancekit.corpus.splitting import extend_splits


@pytest.fixture(scope="module")
def articles() -> list[dict]:
    return list(iter_articles())


@pytest.fixture(scope="module")
def splits() -> dict[str, list[str]]:
    return json.loads(SPLITS_FILE.read_text(encoding="utf-8"))


def test_every_corpus_file_passes_the_checker() -> None:
    seen: set[str] = set()
    for path in sorted((CORPUS_DIR / "data").glob("*.jsonl")):
        problems, _ = check_file(path, seen)
        assert not problems, problems[:5]


def test_the_corpus_meets_the_issue_minimums(articles: list[dict]) -> None:
    anns = [a for art in articles for a in art["annotations"]]
    assert len(articles) >= 400 and len(anns) >= 2500
    labels = collections.Counter(a["stance"] for a in anns)
    assert min(labels.values()) / len(anns) >= 0.25
    assert len({x["name"] for art in articles for x in art["actors"]}) >= 80
    assert len({x["country"] for art in articles for x in art["actors"] if x.get("country")}) >= 40
    assert {art["domain"] for art in articles} == {
        "armed_conflict", "coups", "elections", "trade", "courts", "corporate", "health",
        "climate", "sport", "labour"}
    assert {a.get("hard_case") for a in anns} - {None} == HARD_CASES


def test_held_out_splits_share_no_event_with_training(articles: list[dict],
                                                      splits: dict[str, list[str]]) -> None:
    ids = {art["id"] for art in articles}
    event_of = {art["id"]: art["event"] for art in articles}
    assert set(splits["dev"]) <= ids and set(splits["test"]) <= ids
    assert set(splits["test_events"]) <= set(event_of.values())
    dev_events = {event_of[i] for i in splits["dev"]}
    assert not dev_events & set(splits["test_events"])
    # every article of a dev or test_events event is in that split
    for art in articles:
        if art["event"] in dev_events:
            assert art["id"] in splits["dev"], art["id"]
    pairs = load_embedded_splits()
    train_docs = {p.doc_id for p in pairs["train"]}
    assert not train_docs & set(splits["dev"]) and not train_docs & set(splits["test"])
    assert not {event_of[d] for d in train_docs} & (
        dev_events | set(splits["test_events"]))


def test_extending_the_splits_keeps_held_out_articles_held_out(articles: list[dict],
                                                               splits: dict[str, list[str]]) -> None:
    dev_event = next(a["event"] for a in articles if a["id"] == splits["dev"][0])
    added = [{"id": "new-1", "event": dev_event}, {"id": "new-2", "event": "brand-new-event"}]
    extended = extend_splits(articles + added, splits)
    assert set(splits["test"]) == set(extended["test"])
    assert extended["test_events"] == sorted(splits["test_events"])
    assert set(extended["dev"]) == set(splits["dev"]) | {"new-1"}


def test_realistic_articles_annotate_every_pair_and_hold_out_whole_events(
        articles: list[dict], splits: dict[str, list[str]]) -> None:
    realistic = [a for a in articles if a["id"].startswith("rw")]
    assert len(realistic) >= 48
    for art in realistic:
        targets = {a["target"] for a in art["annotations"]}
        pairs = {(a["actor"], a["target"]) for a in art["annotations"]}
        wanted = {(x["name"], t) for x in art["actors"] for t in targets if x["name"] != t}
        assert pairs == wanted, art["id"]
    anns = [a for art in realistic for a in art["annotations"]]
    assert collections.Counter(a["stance"] for a in anns)["neutral"] / len(anns) > 0.55
    pairs = load_embedded_splits()
    held = set(splits["test_real"]) | set(splits["dev_real"])
    event_of = {art["id"]: art["event"] for art in articles}
    assert not {event_of[p.doc_id] for p in pairs["train"]} & held
    assert {event_of[p.doc_id] for p in pairs["test_real"]} == set(splits["test_real"])
