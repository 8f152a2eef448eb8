"""Articles to pairs: `PairBuilder.build(article)` makes one `StancePair` per (actor, target,
evidence window).

1. Sentences come from pysbd, which keeps "U.S.", "Dr." and "Jan. 14" inside a sentence
   (`stancekit.data.sentences`).
2. Actor names and aliases are matched across the whole text case-, quote- and
   whitespace-insensitively, longest first over *all* actors at once, so that
   "Kata'ib Hezbollah" is never also read as "Hezbollah" (`stancekit.data.mentions`).
3. A sentence that refers back ("the ministry", "he said") is attributed to an actor named
   just before it (`stancekit.data.coreference`); the window then runs from the
   antecedent's sentence to the referring sentence.
4. Windows longer than the model's token budget drop their leading context first; a
   single sentence that still does not fit is cut into overlapping word chunks, and the
   chunks that mention the actor are kept: an article is windowed, never truncated away.
5. Without targets, every other actor found in the article is a target (who stands
   where on whom).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, quote
from .articles import Actor, Article
from .coreference import carry_over
from .mentions import actor_mentions, find_spans, surface_forms
from .records import StancePair
from .sentences import approx_tokens, sentence_of, split_sentences

Span = tuple[int, int]


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
                              f"{quote(context)} and {quote(carry_window)}")
        if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
            raise ConfigError(f"max_tokens: expected a positive integer or None, found "
                              f"{quote(max_tokens)}")
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
        budget = max(32, clf.formatter.config.max_length - 40)
        kwargs.setdefault("max_tokens", budget)
        kwargs.setdefault("count_tokens",
                          lambda s: len(tokenizer(s, add_special_tokens=False)["input_ids"]))
        return cls(**kwargs)

    # ------------------------------------------------------------------ mentions

    def actors_for(self, article: Article) -> list[Actor]:
        actors = {a.name.lower(): a for a in self.actors}
        actors.update({a.name.lower(): a for a in article.actors})
        if self.discover:
            from .discovery import discover_actors

            for a in discover_actors(article.text):
                actors.setdefault(a.name.lower(), a)
        return list(actors.values())

    # ------------------------------------------------------------------ windows

    def windows(self, sentences: Sequence[Span], spans: Sequence[Span], actor: Actor,
                carried: Mapping[int, tuple[str, int]]) -> list[_Window]:
        """Evidence windows of one actor: where it is named, and where it is referred back to."""
        named = sorted({sentence_of(sentences, s) for s in spans})
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
        inside = _within(spans, sentence)
        pieces: list[Span] = []
        if inside:
            starts, ends = [w[0] for w in words], [w[1] for w in words]
            for s0, e0 in inside:
                first = bisect_right(ends, s0)  # the first word ending after the mention starts
                last = max(first, bisect_left(starts, e0) - 1)  # the last starting before its end
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
        mentions = actor_mentions(text, actors)
        if not mentions:
            return []
        sentences = split_sentences(text)
        first_at: dict[tuple[int, str], int] = {}  # (sentence, actor) -> its first mention there
        for name, spans in mentions.items():
            for span in spans:
                first_at.setdefault((sentence_of(sentences, span), name), span[0])
        order: dict[int, list[str]] = {}  # the actors of each sentence, first-named first
        for (i, name), _ in sorted(first_at.items(), key=lambda kv: (kv[0][0], kv[1])):
            order.setdefault(i, []).append(name)
        carried_all = carry_over(text, sentences, order, {a.name: a.kind for a in actors},
                                 carry_window=self.carry_window)
        carried: dict[str, dict[int, tuple[str, int]]] = {}
        for j, (name, i) in carried_all.items():
            carried.setdefault(name, {})[j] = (name, i)
        targets = list(article.targets or self.targets)
        by_name = {a.name: a for a in actors}
        pairs: list[StancePair] = []
        for name, spans in mentions.items():
            actor = by_name[name]
            actor_targets = targets or [n for n in mentions if n != name]
            seen_pieces: set[Span] = set()
            for window in self.windows(sentences, spans, actor, carried.get(name, {})):
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


def _within(spans: Sequence[Span], piece: Span) -> list[Span]:
    """The spans inside ``piece``; ``spans`` are in text order, so a binary search finds them
    (an actor named thousands of times in a long article is not scanned once per window)."""
    lo, hi = bisect_left(spans, (piece[0],)), bisect_left(spans, (piece[1],))
    return [(s, e) for s, e in spans[lo:hi] if e <= piece[1]]


def _relative(spans: Sequence[Span], piece: Span) -> tuple[Span, ...]:
    return tuple((s - piece[0], e - piece[0]) for s, e in _within(spans, piece))
