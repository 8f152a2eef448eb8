"""Property tests: random and mutated rows and files may only raise stancekit's own errors.

Whatever reaches the readers, the article and actor-file loaders and the pair builder —
random values of every JSON type, valid rows with one field swapped for junk, files cut
short, bytes flipped or inserted — the only exception allowed out is a `StanceKitError`
(a `DataError` naming where and what). Valid articles always build valid pairs.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from stancekit.data.articles import (
    Actor,
    Article,
    article_from_dict,
    load_actor_file,
    read_articles,
)
from stancekit.data.pair_builder import PairBuilder
from stancekit.data.readers import PairReader
from stancekit.data.records import StancePair
from stancekit.errors import StanceKitError

SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

# --------------------------------------------------------------------------- strategies

WORDS = ["Iran", "Egypt", "Saudi Arabia", "Riyadh", "the deal", "the ministry", "said", "backed",
         "rejected", "He", "It", "U.S.", "Dr.", "Kata'ib Hezbollah", "Hezbollah", "(a)", "*",
         "\\", "[A]", "\u2019", "\u00a0", "\n", ".", "?", "!", ",", '"', "\u0301", "\x00", "é"]

text = st.text(max_size=40)
junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12)
prose = st.lists(st.sampled_from(WORDS) | st.text(max_size=8), max_size=30).map(" ".join)
spans = st.lists(st.lists(st.integers(-3, 60), min_size=0, max_size=3), max_size=3)
labels = st.sampled_from(["support", "neutral", "condemn", "FAVOR", " Support ", "", "nan"])

# A row: each field is usually plausible, sometimes junk, sometimes absent.
PAIR_FIELDS = {"id": st.text(max_size=6) | st.integers(), "actor": st.sampled_from(WORDS),
               "target": st.sampled_from(WORDS), "text": prose, "label": labels,
               "doc_id": st.text(max_size=6), "actor_spans": spans, "target_spans": spans,
               "meta": st.dictionaries(text, junk, max_size=2)}


@st.composite
def rows(draw, fields: dict) -> dict:
    row = {}
    for name, plausible in fields.items():
        choice = draw(st.sampled_from(["plausible", "plausible", "junk", "absent"]))
        if choice != "absent":
            row[name] = draw(plausible if choice == "plausible" else junk)
    row.update(draw(st.dictionaries(text, junk, max_size=2)))
    return row


ACTOR = st.sampled_from(WORDS) | st.fixed_dictionaries(
    {"name": st.sampled_from(WORDS) | junk},
    optional={"aliases": st.lists(st.sampled_from(WORDS), max_size=3) | junk,
              "kind": st.sampled_from(["state", "company", "person", "planet"]) | junk})
ARTICLE_FIELDS = {"id": st.text(max_size=6) | st.integers(), "text": prose,
                  "actors": st.lists(ACTOR, max_size=4) | st.text(max_size=20),
                  "targets": st.lists(st.sampled_from(WORDS), max_size=3) | text,
                  "title": text, "date": text, "source": text}


def mutate(data: bytes, draw) -> bytes:
    """Cut the file short, flip a byte, or splice in random bytes."""
    how = draw(st.sampled_from(["truncate", "flip", "insert", "none"]))
    if not data or how == "none":
        return data
    at = draw(st.integers(0, len(data) - 1))
    if how == "truncate":
        return data[:at]
    if how == "flip":
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
    return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]


def only_stancekit_errors(fn, *args, **kwargs):
    """Call ``fn``; a `StanceKitError` is a fine answer, anything else fails the property."""
    try:
        return fn(*args, **kwargs)
    except StanceKitError:
        return None


def _jsonl(items: list) -> bytes:
    return "".join(json.dumps(r, allow_nan=True) + "\n" for r in items).encode()


def _csv(items: list[dict], delimiter: str = ",") -> bytes:
    header = list(dict.fromkeys(k for r in items for k in r))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, delimiter=delimiter)
    writer.writeheader()
    for r in items:
        writer.writerow({k: v if isinstance(v, str) else json.dumps(v) for k, v in r.items()})
    return buf.getvalue().encode()


# --------------------------------------------------------------------------- pairs


@SETTINGS
@given(row=rows(PAIR_FIELDS), require_label=st.booleans())
def test_pair_rows_raise_only_data_errors(row: dict, require_label: bool) -> None:
    pair = only_stancekit_errors(PairReader(require_label=require_label).convert, row,
                                 path="f.jsonl", line=1)
    if pair is not None:
        assert isinstance(pair, StancePair)
        assert pair.text.strip() and pair.actor.strip() and pair.target.strip()
        assert all(0 <= s < e <= len(pair.text) for s, e in pair.actor_spans + pair.target_spans)
    only_stancekit_errors(StancePair.from_dict, row)


@SETTINGS
@given(data=st.data(), items=st.lists(rows(PAIR_FIELDS) | junk, max_size=6),
       fmt=st.sampled_from(["jsonl", "csv", "tsv"]), on_error=st.sampled_from(["raise", "reject"]))
def test_mutated_pair_files_raise_only_data_errors(tmp_path_factory, data, items: list, fmt: str,
                                                   on_error: str) -> None:
    folder = tmp_path_factory.mktemp("pairs")
    path = folder / f"f.{fmt}"
    if fmt == "jsonl":
        raw = _jsonl(items)
    else:
        raw = _csv([r for r in items if isinstance(r, dict)], "," if fmt == "csv" else "\t")
    path.write_bytes(mutate(raw, data.draw))
    reader = PairReader(on_error=on_error, rejects_path=folder / "rejects.jsonl")
    pairs = only_stancekit_errors(reader.read, path)
    if on_error == "reject" and pairs is not None:
        # nothing dropped silently: every row read is a pair or a rejects line
        rejects = folder / "rejects.jsonl"
        rejected = rejects.read_text(encoding="utf-8").count("\n") if rejects.exists() else 0
        assert reader.counts["read"] == len(pairs) + rejected


@SETTINGS
@given(data=st.data(), n=st.integers(0, 4), spoil=st.sampled_from(["none", "type", "null"]))
def test_mutated_parquet_files_raise_only_data_errors(tmp_path_factory, data, n: int,
                                                      spoil: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {"id": [str(i) for i in range(n)], "actor": ["Iran"] * n,
               "target": ["the deal"] * n, "text": ["Iran backed the deal."] * n,
               "label": ["support"] * n}
    if spoil == "type":
        columns["text"] = list(range(n))
    elif spoil == "null":
        columns["label"] = [None] * n
    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf)
    path = tmp_path_factory.mktemp("pq") / "f.parquet"
    path.write_bytes(mutate(buf.getvalue(), data.draw))
    only_stancekit_errors(PairReader(require_label=True).read, path)


# --------------------------------------------------------------------------- articles


@SETTINGS
@given(row=rows(ARTICLE_FIELDS))
def test_article_rows_raise_only_data_errors(row: dict) -> None:
    article = only_stancekit_errors(article_from_dict, row, path="a.jsonl", line=3)
    if article is not None:
        assert isinstance(article, Article) and article.text.strip()


@SETTINGS
@given(data=st.data(), items=st.lists(rows(ARTICLE_FIELDS) | junk, max_size=5),
       fmt=st.sampled_from(["jsonl", "csv"]), reject=st.booleans())
def test_mutated_article_files_raise_only_data_errors(tmp_path_factory, data, items: list,
                                                      fmt: str, reject: bool) -> None:
    folder = tmp_path_factory.mktemp("articles")
    path = folder / f"a.{fmt}"
    raw = _jsonl(items) if fmt == "jsonl" else _csv([r for r in items if isinstance(r, dict)])
    path.write_bytes(mutate(raw, data.draw))
    only_stancekit_errors(lambda: list(read_articles(
        path, rejects_path=folder / "rejects.jsonl" if reject else None)))


ACTOR_DOCS = st.fixed_dictionaries({"actors": st.lists(ACTOR, max_size=4) | junk},
                                   optional={"targets": st.lists(text, max_size=3) | junk}) | junk


@SETTINGS
@given(data=st.data(), doc=ACTOR_DOCS, fmt=st.sampled_from(["yaml", "json"]))
def test_mutated_actor_files_raise_only_data_errors(tmp_path_factory, data, doc,
                                                    fmt: str) -> None:
    path = tmp_path_factory.mktemp("actors") / f"actors.{fmt}"
    raw = (json.dumps(doc) if fmt == "json" else yaml.safe_dump(doc, allow_unicode=True)).encode()
    path.write_bytes(mutate(raw, data.draw))
    try:
        result = only_stancekit_errors(load_actor_file, path)
    except ValueError as exc:
        # the known gap of test_actor_file_yaml_errors_that_are_not_yamlerror (a rare mutation of
        # a "\U..." escape); drop this once load_actor_file catches it
        assert "chr() arg not in range" in str(exc)
        return
    if result is not None:
        actors, targets = result
        assert actors and all(isinstance(a, Actor) and a.name.strip() for a in actors)


@pytest.mark.parametrize("content", [b'actors: ["\\U0011ffff"]\n', b"actors: " + b"[" * 1000],
                         ids=["escape-beyond-unicode", "nested-too-deeply"])
def test_actor_file_yaml_errors_that_are_not_yamlerror(tmp_path, content: bytes) -> None:
    path = tmp_path / "actors.yaml"
    path.write_bytes(content)
    only_stancekit_errors(load_actor_file, path)


@SETTINGS
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_random_bytes_as_actor_file(tmp_path_factory, raw: bytes) -> None:
    path = tmp_path_factory.mktemp("actors") / "actors.yaml"
    path.write_bytes(raw)
    only_stancekit_errors(load_actor_file, path)


# --------------------------------------------------------------------------- the pair builder


ARTICLES = st.builds(
    dict,
    id=st.text(min_size=1, max_size=6),
    text=prose,
    actors=st.lists(st.sampled_from(WORDS) | st.fixed_dictionaries(
        {"name": st.sampled_from(WORDS), "aliases": st.lists(st.sampled_from(WORDS), max_size=2),
         "kind": st.sampled_from(["state", "company", "person", "ministry"])}), max_size=4),
    targets=st.lists(st.sampled_from(WORDS), max_size=2))


@SETTINGS
@given(row=ARTICLES, context=st.integers(0, 2), carry=st.integers(0, 3),
       max_tokens=st.none() | st.integers(12, 64))
def test_pair_builder_builds_valid_pairs_or_refuses_the_row(row: dict, context: int, carry: int,
                                                            max_tokens: int | None) -> None:
    article = only_stancekit_errors(article_from_dict, row)
    assume(article is not None)
    builder = PairBuilder(context=context, carry_window=carry, max_tokens=max_tokens)
    pairs = builder.build(article)  # a valid article never raises
    for pair in pairs:
        start, end = pair.meta["window"]
        assert article.text[start:end] == pair.text
        assert pair.doc_id == article.id and pair.actor != pair.target
        if pair.meta["via"] == "name":  # a coreference window may lose its antecedent to
            assert pair.actor_spans     # the budget (context goes first, by design)


@pytest.mark.parametrize("text, budget", [("Iran Egypt", 1),
                                          ("Iran Iran Iran the deal and Egypt", 8)],
                         ids=["budget-1", "budget-8"])
def test_token_budget_keeps_the_actor_in_every_piece(text: str, budget: int) -> None:
    """Found by the property below (hypothesis' shrunk cases); the property keeps to budgets of
    12 tokens or more, where the default token count never has to shorten a chunk."""
    article = article_from_dict({"id": "0", "text": text, "actors": ["Egypt"],
                                 "targets": ["Iran"]})
    pairs = PairBuilder(context=0, carry_window=0, max_tokens=budget).build(article)
    assert pairs and all(p.actor_spans for p in pairs)


def test_pair_ids_are_unique_within_an_article() -> None:
    """Found by the property above (hypothesis shrank it to '. Iran' with the alias '.')."""
    article = article_from_dict({"id": "a", "text": "Iran backed the deal. Iran said more.",
                                 "actors": ["Iran"], "targets": ["the deal"]})
    pairs = PairBuilder().build(article)
    assert len(pairs) == 2 and len({p.id for p in pairs}) == 2


def test_settings_keep_the_suite_fast() -> None:
    assert SETTINGS.max_examples <= 100 and SETTINGS.deadline is None
