"""Articles and actor files: reading, validation, rejects.

The catalogue of bad article rows and actor files is checked twice: through the loaders, where
the error must name the file, line and field and say what was expected; and through
`stancekit predict`, which must exit 2 with one ``error:`` line (the ``cli_error`` fixture).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stancekit.data.articles import Actor, article_from_dict, load_actor_file, read_articles
from stancekit.errors import DataError

ARTICLE = {"id": "a", "text": "Iran backed the deal. Egypt rejected it.",
           "actors": ["Iran", "Egypt"], "targets": ["the deal"]}


def jsonl(*rows: dict | str) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows).encode()


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


# --------------------------------------------------------------------------- article files


ARTICLE_ROWS = [
    pytest.param({"id": "b", "text": "x" * 2_000_001}, "text",
                 "text has 2,000,001 characters, more than the 2,000,000 allowed for one article",
                 id="article-text-over-2M-chars"),
    pytest.param({**ARTICLE, "id": "b", "actors": [5]}, "actors[0]",
                 "expected a name or a mapping with 'name' and 'aliases', found int",
                 id="actor-not-a-name"),
    pytest.param({**ARTICLE, "id": "b", "actors": [{"name": "Iran", "alias": ["Tehran"]}]},
                 "actors[0]", "unknown keys ['alias']; an actor has name, aliases, kind, country",
                 id="actor-unknown-key"),
    pytest.param({**ARTICLE, "id": False}, "id", "expected a string or integer id, found bool",
                 id="article-boolean-id"),
    pytest.param('{"id": NaN, "text": "Iran spoke."}', "id",
                 "expected a string or integer id, found NaN", id="article-NaN-id"),
    pytest.param('{"id": "b", "text": "Iran spoke.", "targets": ["a"], "text": "Egypt spoke."}',
                 "text", "the key 'text' appears twice in one object; a JSON reader would keep "
                 "only the last value", id="article-repeated-key"),
]


@pytest.mark.parametrize("row, field, reason", ARTICLE_ROWS)
def test_bad_article_row(tmp_path: Path, cli_error, random_model: Path, row: dict, field: str,
                         reason: str) -> None:
    path = tmp_path / "articles.jsonl"
    path.write_bytes(jsonl(ARTICLE, row))
    with pytest.raises(DataError) as info:
        list(read_articles(path))
    assert (info.value.path, info.value.line, info.value.field) == (str(path), 2, field)
    assert info.value.reason == reason
    out = cli_error(["predict", "--model", str(random_model), "--input", str(path), "--output",
                     str(tmp_path / "out.jsonl"), "--articles"])
    assert out == f"error: {path}:2 field {field!r}: {reason}"


# --------------------------------------------------------------------------- actor files


ACTOR_FILES = [
    pytest.param("missing.yaml", None, None, None, "actor file not found", id="actor-file-missing"),
    pytest.param("latin.yaml", b"actors: [caf\xe9]\n", None, None, "not UTF-8 text (byte 12)",
                 id="actor-file-not-utf8"),
    pytest.param("bad.json", b'{"actors": [', 1, None,
                 "cannot parse the file (Expecting value: line 1 column 13 (char 12))",
                 id="actor-file-invalid-json"),
    pytest.param("empty.yaml", b"", None, None,
                 "expected a mapping with the key 'actors' (and optionally 'targets')",
                 id="actor-file-empty"),
    pytest.param("str.yaml", b"actors: Iran\n", None, "actors",
                 "expected a non-empty list of actors", id="actors-not-a-list"),
    pytest.param("t.yaml", b"actors: [Iran]\ntargets: 5\n", None, "targets",
                 "expected a list of non-empty strings, found 5", id="targets-not-a-list"),
    pytest.param("evil.yaml", b"!!python/object/apply:os.system ['touch PWNED']\n", 1, None,
                 "cannot parse the file (could not determine a constructor for the tag "
                 "'tag:yaml.org,2002:python/object/apply:os.system')", id="actor-file-python-tag"),
    pytest.param("k.yaml", b"actors: [Iran]\ntargets: [the deal]\nactors: [Egypt]\n", 3,
                 "actors", "the key 'actors' appears twice in one mapping; a YAML reader would "
                 "keep only the last value", id="actor-file-repeated-key"),
    pytest.param("k.yaml", b"actors:\n  - name: Iran\n    aliases: [Tehran]\n    name: Egypt\n",
                 4, "name", "the key 'name' appears twice in one mapping; a YAML reader would "
                 "keep only the last value", id="actor-file-repeated-nested-key"),
    pytest.param("k.json", b'{"actors": ["Iran"],\n "targets": ["the deal"],\n "actors": []}', 3,
                 "actors", "the key 'actors' appears twice in one object; a JSON reader would "
                 "keep only the last value", id="actor-file-json-repeated-key"),
    pytest.param("bomb.yaml", ("actors:\n" + "".join(
        f"  - &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}" if i else "lol"] * 9) + "]\n"
        for i in range(9))).encode(), 9, None, "aliases expand to more than 10,000 nodes (the "
        "node anchored on this line is one of them); write the values out instead",
        id="actor-file-alias-bomb"),
]


@pytest.mark.parametrize("name, content, line, field, reason", ACTOR_FILES)
def test_bad_actor_file(tmp_path: Path, cli_error, monkeypatch, random_model: Path, name: str,
                        content: bytes | None, line: int | None, field: str | None,
                        reason: str) -> None:
    monkeypatch.chdir(tmp_path)  # where a YAML tag that ran code would leave its PWNED
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError) as info:
        load_actor_file(path)
    assert (info.value.path, info.value.line, info.value.field) == (str(path), line, field)
    assert info.value.reason == reason
    articles = tmp_path / "articles.jsonl"
    articles.write_bytes(jsonl(ARTICLE))
    out = cli_error(["predict", "--model", str(random_model), "--input", str(articles), "--actors",
                     str(path), "--output", str(tmp_path / "out.jsonl")])
    where = f"{path}:{line}" if line else str(path)
    where += f" field {field!r}" if field else ""
    assert out == f"error: {where}: {reason}"
    assert not (tmp_path / "PWNED").exists()


def test_unreadable_actor_file(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "actors.yaml"
    path.write_text("actors: [Iran]\n")
    real_read = Path.read_text

    def refuse(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", refuse)
    with pytest.raises(DataError, match=r"cannot read the file \(Permission denied\)"):
        load_actor_file(path)


def test_article_rejects_file_in_a_missing_directory(random_model: Path, tmp_path: Path,
                                                     cli_error) -> None:
    src = tmp_path / "articles.jsonl"
    src.write_bytes(jsonl(ARTICLE, {"id": "b", "text": ""}))
    rejects = tmp_path / "no" / "rejects.jsonl"
    assert cli_error(["predict", "--model", str(random_model), "--input", str(src), "--output",
                      str(tmp_path / "o.jsonl"), "--rejects", str(rejects)]) == \
        f"error: {rejects.parent}: the directory of the rejects file does not exist"
