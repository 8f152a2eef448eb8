"""Coreference carry-over, a heuristic and not a resolver.

A sentence that refers back ("the ministry", "its spokesman", "the group", "he said", ...) is
attributed to the actor named first in the closest earlier sentence that names one, at most
``carry_window`` sentences back. Where actor kinds are known, a kind-specific phrase ("the
ministry", "the company", "the court", ...) only picks an actor of a matching kind. These are
the rules; `stancekit.data.pair_builder` applies them to an article.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

Span = tuple[int, int]

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


def carry_over(text: str, sentences: Sequence[Span], named: Mapping[int, list[str]],
               kinds: Mapping[str, str | None], *, carry_window: int
               ) -> dict[int, tuple[str, int]]:
    """``{sentence: (actor, antecedent sentence)}`` for the sentences that refer back.

    Args:
        named: The actors named in each sentence, first-named first.
        kinds: Each actor's kind (None: unknown, fits any phrase).
        carry_window: How many sentences back a referring phrase may find its actor.
    """
    carried: dict[int, tuple[str, int]] = {}
    if carry_window == 0:
        return carried
    for j, (s, e) in enumerate(sentences):
        found = anaphor_kinds(text[s:e])
        if not found:
            continue
        for i in range(j - 1, max(-1, j - 1 - carry_window), -1):
            candidates = [n for n in named.get(i, ()) if n not in named.get(j, ())]
            if candidates:
                chosen = pick_antecedent(candidates, found, kinds)
                if chosen is not None:
                    carried[j] = (chosen, i)
                break
    return carried


def pick_antecedent(candidates: Sequence[str], kinds_found: Sequence[tuple[str, ...] | None],
                     actor_kinds: Mapping[str, str | None]) -> str | None:
    """The first-named candidate whose kind fits some referring phrase (unknown kinds fit)."""
    for name in candidates:
        kind = actor_kinds.get(name)
        if kind is None or any(k is None or kind in k for k in kinds_found):
            return name
    return None
