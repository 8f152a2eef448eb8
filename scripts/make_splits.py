"""Fix the embedded corpus's splits into stancekit/corpus/splits.json.

Usage: python scripts/make_splits.py [--seed 2026] [--reshuffle]

Within each domain, events are ordered by a seeded hash and dealt out:
- test_events: about 20 % of the events, every article of them (event-held-out test);
- dev: about 10 % of the events, every article of them (model selection sees only
  events that training never saw, so it rewards generalisation, not memory);
- test: one article from each of the remaining events with 3 or more articles, in hash
  order, until about 12 % of the domain's articles (article-held-out test: a storyline
  that training saw, an article it did not);
- train: the rest.
The file lists article ids for dev and test and event ids for test_events.

After adding articles, rerun the script: by default it keeps every split already in the file,
so held-out articles stay held out and test figures stay comparable. A new article of a dev
event joins dev (a test_events event takes its new articles by itself); articles of new events
go to train. `--reshuffle` deals every event out afresh instead.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stancekit.corpus import SPLITS_FILE, iter_articles  # noqa: E402


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
    return {k: sorted(v) for k, v in out.items()}


def extend_splits(articles: list[dict], splits: dict[str, list[str]]) -> dict[str, list[str]]:
    """Keep `splits`; add new articles of dev events to dev. Everything else new is train."""
    event_of = {a["id"]: a["event"] for a in articles}
    dev_events = {event_of[i] for i in splits["dev"] if i in event_of}
    out = {k: set(v) for k, v in splits.items()}
    out["dev"] |= {a["id"] for a in articles if a["event"] in dev_events}
    return {k: sorted(v) for k, v in out.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reshuffle", action="store_true",
                        help="deal every event out afresh instead of keeping the current splits")
    args = parser.parse_args()
    articles = list(iter_articles())
    if SPLITS_FILE.exists() and not args.reshuffle:
        splits = extend_splits(articles, json.loads(SPLITS_FILE.read_text(encoding="utf-8")))
    else:
        splits = make_splits(articles, args.seed)
    SPLITS_FILE.write_text(json.dumps(splits, indent=1) + "\n", encoding="utf-8")
    held = set(splits["test_events"])
    named = {a: s for s in ("dev", "test") for a in splits[s]}
    stats: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for art in articles:
        split = "test_events" if art["event"] in held else named.get(art["id"], "train")
        stats[split]["articles"] += 1
        for ann in art["annotations"]:
            stats[split][ann["stance"]] += 1
    for split in ("train", "dev", "test", "test_events"):
        s = stats[split]
        n = s["support"] + s["neutral"] + s["condemn"]
        print(f"{split:12s} articles {s['articles']:4d}  annotations {n:5d}  "
              + "  ".join(f"{lab} {s[lab] / max(n, 1):.0%}" for lab in ("support", "neutral",
                                                                       "condemn")))
    print(f"written {SPLITS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
