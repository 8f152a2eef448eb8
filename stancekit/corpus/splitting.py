"""Fixing the embedded corpus's splits (``splits.json``).

Within each domain, events are ordered by a seeded hash and dealt out:
- test_events: about 20 % of the events, every article of them (event-held-out test);
- dev: about 10 % of the events, every article of them (model selection sees only
  events that training never saw, so it rewards generalisation, not memory);
- test: one article from each of the remaining events with 3 or more articles, in hash
  order, until about 12 % of the domain's articles (article-held-out test);
- train: the rest.

The realistic long-form articles (ids ``rw?-NNN``, every actor x target pair annotated) have
splits of their own, by event: ``test_real`` (events 2 and 5 of each writer's six) and
``dev_real`` (event 4); the rest is train. They never enter dev, test or test_events, so
those figures keep their meaning.

After adding articles, `extend_splits` keeps every split already in the file, so held-out
articles stay held out. A new article of a dev event joins dev; articles of new events go to
train. `make_splits` deals every event out afresh.
"""

from __future__ import annotations

import collections
import hashlib
import re

REALISTIC = re.compile(r"^rw[a-z]-ev(\d+)$")
REALISTIC_SPLITS = {"test_real": (2, 5), "dev_real": (4,)}


def rank(key: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def make_splits(articles: list[dict], seed: int, test_events: float = 0.2, dev_events: float = 0.1,
                test_articles: float = 0.12) -> dict[str, list[str]]:
    events: dict[str, list[dict]] = collections.defaultdict(list)
    for art in articles:
        events[art["event"]].append(art)
    by_domain: dict[str, list[str]] = collections.defaultdict(list)
    for event, arts in events.items():
        domain = collections.Counter(a["domain"] for a in arts).most_common(1)[0][0]
        by_domain[domain].append(event)
    out: dict[str, list[str]] = {"dev": [], "test": [], "test_events": []}
    realistic = [a for a in articles if REALISTIC.match(a["event"])]
    articles = [a for a in articles if not REALISTIC.match(a["event"])]
    events = {e: arts for e, arts in events.items() if not REALISTIC.match(e)}
    by_domain = {d: [e for e in evs if e in events] for d, evs in by_domain.items()}
    for domain in sorted(by_domain):
        ordered = sorted(by_domain[domain], key=lambda e: rank(e, seed))
        n_test = max(1, round(test_events * len(ordered)))
        n_dev = max(1, round(dev_events * len(ordered)))
        out["test_events"] += ordered[:n_test]
        out["dev"] += [a["id"] for e in ordered[n_test:n_test + n_dev] for a in events[e]]
        budget = round(test_articles * sum(len(events[e]) for e in ordered))
        for event in ordered[n_test + n_dev:]:
            arts = events[event]
            if len(arts) >= 3 and budget > 0:
                out["test"].append(min(arts, key=lambda a: rank(a["id"], seed))["id"])
                budget -= 1
    return {**{k: sorted(v) for k, v in out.items()}, **realistic_splits(realistic)}


def extend_splits(articles: list[dict], splits: dict[str, list[str]]) -> dict[str, list[str]]:
    """Keep `splits`; add new articles of dev events to dev. Everything else new is train."""
    event_of = {a["id"]: a["event"] for a in articles}
    dev_events = {event_of[i] for i in splits["dev"] if i in event_of}
    out = {k: set(v) for k, v in splits.items()}
    out["dev"] |= {a["id"] for a in articles if a["event"] in dev_events}
    for name, events in realistic_splits(articles).items():
        out[name] = out.get(name, set()) | set(events)
    return {k: sorted(v) for k, v in out.items()}


def realistic_splits(articles: list[dict]) -> dict[str, list[str]]:
    """Held-out events of the realistic articles: ``{"dev_real": [...], "test_real": [...]}``."""
    out: dict[str, set[str]] = {name: set() for name in REALISTIC_SPLITS}
    for art in articles:
        m = REALISTIC.match(art["event"])
        for name, numbers in REALISTIC_SPLITS.items():
            if m and int(m.group(1)) in numbers:
                out[name].add(art["event"])
    return {k: sorted(v) for k, v in out.items()}
