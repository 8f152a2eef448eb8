"""Checks of the embedded corpus: schema, exact evidence spans, every actor named in its
article, lengths, one annotation per (actor, target), label balance and hard-case counts.

`python scripts/check_corpus.py [FILE.jsonl ...]` runs `report`.
"""

from __future__ import annotations

import collections
import json
import re
from pathlib import Path

from . import CORPUS_DIR

MIN_WORDS, MAX_WORDS = 120, 1500  # wire round-ups (120-400) and long realistic pieces

LABELS = ("support", "neutral", "condemn")
HARD_CASES = {
    "restraint", "taking_note", "implicit", "negation", "hedge", "metonymy",
    "opposite_targets", "mentioned_only", "coreference",
}
ARTICLE_KEYS = {"id", "event", "domain", "date", "title", "text", "actors", "annotations"}
ACTOR_KEYS = {"name", "aliases", "kind", "country"}
ANNOTATION_KEYS = {"actor", "target", "stance", "evidence", "hard_case"}


def check_file(path: Path, seen_ids: set[str]) -> tuple[list[str], list[dict]]:
    problems: list[str] = []
    articles: list[dict] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        where = f"{path.name}:{lineno}"
        if not line.strip():
            problems.append(f"{where}: empty line")
            continue
        try:
            art = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: invalid JSON ({exc})")
            continue
        missing = ARTICLE_KEYS - art.keys()
        extra = art.keys() - ARTICLE_KEYS
        if missing or extra:
            problems.append(f"{where}: keys missing {sorted(missing)} extra {sorted(extra)}")
            continue
        if art["id"] in seen_ids:
            problems.append(f"{where}: duplicate article id {art['id']!r}")
        seen_ids.add(art["id"])
        words = len(art["text"].split())
        if not MIN_WORDS <= words <= MAX_WORDS:
            problems.append(f"{where}: text has {words} words (need {MIN_WORDS}-{MAX_WORDS})")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", art["date"]):
            problems.append(f"{where}: date {art['date']!r} is not YYYY-MM-DD")
        names = {}
        for actor in art["actors"]:
            if set(actor) - ACTOR_KEYS or "name" not in actor:
                problems.append(f"{where}: actor {actor!r} must have name (+ aliases, kind, country)")
                continue
            names[actor["name"]] = actor
            surface = [actor["name"], *actor.get("aliases", [])]
            if not any(s.lower() in art["text"].lower() for s in surface):
                problems.append(f"{where}: actor {actor['name']!r}: neither name nor alias occurs in text")
        if not art["annotations"]:
            problems.append(f"{where}: no annotations")
        seen_pairs = set()
        for i, ann in enumerate(art["annotations"]):
            at = f"{where}: annotation {i}"
            if set(ann) - ANNOTATION_KEYS or not {"actor", "target", "stance", "evidence"} <= set(ann):
                problems.append(f"{at}: keys must be {sorted(ANNOTATION_KEYS)}, got {sorted(ann)}")
                continue
            if ann["actor"] not in names:
                problems.append(f"{at}: actor {ann['actor']!r} is not in the article's actors list")
            if ann["stance"] not in LABELS:
                problems.append(f"{at}: stance {ann['stance']!r} not in {LABELS}")
            if ann["evidence"] not in art["text"]:
                problems.append(f"{at}: evidence is not an exact substring of text: {ann['evidence'][:60]!r}")
            if ann["actor"] == ann["target"]:
                problems.append(f"{at}: actor and target are the same")
            key = (ann["actor"], ann["target"])
            if key in seen_pairs:
                problems.append(f"{at}: (actor, target) {key} annotated twice")
            seen_pairs.add(key)
            hc = ann.get("hard_case")
            if hc is not None and hc not in HARD_CASES:
                problems.append(f"{at}: hard_case {hc!r} not in {sorted(HARD_CASES)}")
        articles.append(art)
    return problems, articles


def report(files: list[Path]) -> int:
    """Check ``files`` (default: every file of the corpus), print statistics and problems;
    1 when a file breaks a rule."""
    files = files or sorted((CORPUS_DIR / "data").glob("*.jsonl"))
    problems: list[str] = []
    articles: list[dict] = []
    seen: set[str] = set()
    for f in files:
        p, a = check_file(f, seen)
        problems += p
        articles += a
    anns = [x for a in articles for x in a["annotations"]]
    labels = collections.Counter(x["stance"] for x in anns)
    hard = collections.Counter(x.get("hard_case") for x in anns if x.get("hard_case"))
    actors = {x["name"] for a in articles for x in a["actors"]}
    countries = {x.get("country") for a in articles for x in a["actors"] if x.get("country")}
    events = {a["event"] for a in articles}
    domains = collections.Counter(a["domain"] for a in articles)
    words = [len(a["text"].split()) for a in articles]
    print(f"articles {len(articles)}  events {len(events)}  annotations {len(anns)}")
    if anns:
        print("labels " + "  ".join(f"{k} {labels[k]} ({labels[k] / len(anns):.1%})" for k in LABELS))
    print(f"distinct actors {len(actors)}  countries {len(countries)}")
    if words:
        print(f"words per article: min {min(words)} mean {sum(words) / len(words):.0f} max {max(words)}")
    print("domains " + ", ".join(f"{k} {v}" for k, v in sorted(domains.items())))
    print("hard cases " + ", ".join(f"{k} {v}" for k, v in sorted(hard.items())))
    for p in problems:
        print("PROBLEM", p)
    return 1 if problems else 0
