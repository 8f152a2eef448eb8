"""Fix the embedded corpus's splits into stancekit/corpus/splits.json (`stancekit.corpus.splitting`).

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
import json
import sys

from stancekit.corpus import SPLIT_NAMES, SPLITS_FILE, iter_articles, split_of_articles
from stancekit.corpus.splitting import extend_splits, make_splits


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
    split = split_of_articles(articles, splits)
    stats: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for art in articles:
        split_name = split[art["id"]]
        stats[split_name]["articles"] += 1
        for ann in art["annotations"]:
            stats[split_name][ann["stance"]] += 1
    for name in SPLIT_NAMES:
        s = stats[name]
        n = s["support"] + s["neutral"] + s["condemn"]
        print(f"{name:12s} articles {s['articles']:4d}  annotations {n:5d}  "
              + "  ".join(f"{lab} {s[lab] / max(n, 1):.0%}" for lab in ("support", "neutral",
                                                                       "condemn")))
    print(f"written {SPLITS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
