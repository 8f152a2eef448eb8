"""Articles and actors: the records, and reading them from files (JSONL, CSV, Parquet) and
actor files (YAML, JSON), with every bad row named by file, line and field."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataError, quote
from .mentions import surface_forms

MAX_ARTICLE_CHARS = 2_000_000
ACTOR_KINDS = ("state", "ministry", "party", "armed_group", "company", "person", "union", "court",
               "ngo", "international_org", "league", "club", "other")


@dataclass(frozen=True)
class Actor:
    """Someone who can take a stance: a name, the other names the text uses, a kind."""

    name: str
    aliases: tuple[str, ...] = ()
    kind: str | None = None

    @property
    def forms(self) -> list[str]:
        return surface_forms(self.name, self.aliases)


@dataclass(frozen=True)
class Article:
    """A news article with the actors and targets to look for (both optional)."""

    id: str
    text: str
    title: str | None = None
    date: str | None = None
    source: str | None = None
    actors: tuple[Actor, ...] = ()
    targets: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)


def parse_actor(value: Any, where: str) -> Actor:
    """An actor from a name or a ``{name, aliases, kind}`` mapping; ``where`` names the field."""
    if isinstance(value, str):
        if not value.strip():
            raise DataError("expected an actor name, found an empty string", field=where)
        return Actor(" ".join(value.split()))
    if not isinstance(value, Mapping):
        raise DataError(f"expected a name or a mapping with 'name' and 'aliases', found "
                        f"{type(value).__name__}", field=where)
    unknown = sorted(set(value) - {"name", "aliases", "kind", "country"})
    if unknown:
        raise DataError(f"unknown keys {quote(unknown)}; an actor has name, aliases, kind, country",
                        field=where)
    name = value.get("name")
    if not isinstance(name, str) or not name.strip():
        raise DataError(f"expected a non-empty string, found {quote(name)}", field=f"{where}.name")
    aliases = value.get("aliases") or []
    if isinstance(aliases, str) or not isinstance(aliases, list) or \
            not all(isinstance(a, str) and a.strip() for a in aliases):
        raise DataError(f"expected a list of non-empty strings, found {quote(aliases)}",
                        field=f"{where}.aliases")
    kind = value.get("kind")
    if kind is not None and kind not in ACTOR_KINDS:
        raise DataError(f"expected one of {list(ACTOR_KINDS)}, found {quote(kind)}",
                        field=f"{where}.kind")
    return Actor(" ".join(name.split()), tuple(" ".join(a.split()) for a in aliases), kind)


def parse_targets(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, list) or \
            not all(isinstance(t, str) and t.strip() for t in value):
        raise DataError(f"expected a list of non-empty strings, found {quote(value)}", field=where)
    return tuple(" ".join(t.split()) for t in value)


def article_from_dict(row: Mapping[str, Any], *, path: str | None = None,
                      line: int | None = None) -> Article:
    """Validate one article row (``id``, ``text``, optional ``title``, ``date``, ``source``,
    ``actors``, ``targets``); errors name the file, line and field."""
    if not isinstance(row, Mapping):
        raise DataError(f"expected an article object, found {type(row).__name__}", path=path,
                        line=line)
    try:
        text = row.get("text")
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"expected the article text as a non-empty string, found "
                            f"{_describe(text)}", field="text")
        if len(text) > MAX_ARTICLE_CHARS:
            raise DataError(f"text has {len(text):,} characters, more than the "
                            f"{MAX_ARTICLE_CHARS:,} allowed for one article", field="text")
        raw_id = row.get("id")
        if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
            doc_id = f"{Path(path).name if path else 'article'}:{line}"
        elif isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool):
            doc_id = str(raw_id)
        else:
            found = "NaN" if raw_id != raw_id else type(raw_id).__name__  # NaN != NaN
            raise DataError(f"expected a string or integer id, found {found}",
                            field="id")
        actors = row.get("actors")
        if isinstance(actors, str):  # CSV cells: "Iran; Saudi Arabia"
            actors = [a for a in actors.split(";") if a.strip()]
        if actors is not None and not isinstance(actors, list):
            raise DataError(f"expected a list of actors, found {type(actors).__name__}",
                            field="actors")
        targets = row.get("targets")
        if isinstance(targets, str):
            targets = [t for t in targets.split(";") if t.strip()]
        optional = {}
        for key in ("title", "date", "source"):
            value = row.get(key)
            if value is not None and not isinstance(value, str):
                raise DataError(f"expected a string, found {type(value).__name__}", field=key)
            optional[key] = value or None
        known = {"id", "text", "actors", "targets", "title", "date", "source"}
        return Article(
            id=doc_id, text=text,
            actors=tuple(parse_actor(a, f"actors[{i}]") for i, a in enumerate(actors or [])),
            targets=parse_targets(targets, "targets"),
            meta={k: v for k, v in row.items() if k not in known}, **optional)
    except DataError as err:
        raise DataError(err.reason, path=path, line=line, field=err.field) from None


def read_articles(path: str | Path, *, rejects_path: str | Path | None = None,
                  counts: dict[str, int] | None = None) -> Iterator[Article]:
    """Articles from JSONL, CSV or Parquet.

    A bad row raises a `DataError` naming file, line and field — or, with
    ``rejects_path``, is written there with the reason (JSON Lines) and skipped.
    ``counts`` (optional) is updated with ``read`` and ``rejected``.
    """
    from .readers import read_valid

    if rejects_path is not None and not Path(rejects_path).parent.is_dir():
        raise DataError("the directory of the rejects file does not exist",
                        path=str(Path(rejects_path).parent))
    yield from read_valid(path, article_from_dict, counts=counts if counts is not None else {},
                          rejects_path=rejects_path,
                          duplicate=lambda i: f"duplicate article id {quote(i)}")


def load_actor_file(path: str | Path) -> tuple[tuple[Actor, ...], tuple[str, ...]]:
    """Actors and targets for a whole corpus from YAML or JSON::

        actors:
          - name: Saudi Arabia
            aliases: [Riyadh, Saudi foreign ministry]
          - Kata'ib Hezbollah
        targets: [the cross-border offensive]
    """
    import json

    import yaml

    from ..fileio import load_json, load_yaml

    path = Path(path)
    if not path.is_file():
        raise DataError("actor file not found", path=str(path))
    try:
        raw = path.read_text(encoding="utf-8-sig")
        data = load_json(raw, path=path) if path.suffix.lower() == ".json" else \
            load_yaml(raw, path=path)
    except DataError:  # a repeated key, too many nodes, an alias bomb: named already
        raise
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text (byte {exc.start})", path=str(path)) from None
    except OSError as exc:
        raise DataError(f"cannot read the file ({exc.strerror or exc})", path=str(path)) from None
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        line = getattr(exc, "lineno", None) or getattr(getattr(exc, "problem_mark", None),
                                                        "line", -1) + 1 or None
        raise DataError(f"cannot parse the file ({str(exc).splitlines()[0]})", path=str(path),
                        line=line) from None
    except (ValueError, RecursionError) as exc:  # YAML's own value errors, deep nesting
        raise DataError(f"cannot parse the file ({type(exc).__name__}: {exc})",
                        path=str(path)) from None
    if not isinstance(data, Mapping) or "actors" not in data:
        raise DataError("expected a mapping with the key 'actors' (and optionally 'targets')",
                        path=str(path))
    unknown = sorted(set(data) - {"actors", "targets"})
    if unknown:
        raise DataError(f"unknown keys {quote(unknown)}; expected 'actors' and 'targets'",
                        path=str(path))
    if not isinstance(data["actors"], list) or not data["actors"]:
        raise DataError("expected a non-empty list of actors", path=str(path), field="actors")
    try:
        actors = tuple(parse_actor(a, f"actors[{i}]") for i, a in enumerate(data["actors"]))
        targets = parse_targets(data.get("targets"), "targets")
    except DataError as err:
        raise DataError(err.reason, path=str(path), field=err.field) from None
    return actors, targets


def _describe(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, str):
        return "an empty string"
    return type(value).__name__
