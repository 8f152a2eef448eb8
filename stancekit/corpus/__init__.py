"""The embedded news corpus: articles written for stancekit, with gold (actor, target, stance).

Files: ``data/*.jsonl`` (one article per line, see ``docs/annotation.md``) and
``splits.json``, the fixed splits:

- ``test_events``: every article of a set of held-out events — no article of those
  events is in any other split (event-held-out generalisation);
- ``test`` and ``dev``: held-out articles of the remaining events (article-level split);
- ``dev_real`` and ``test_real``: held-out events of the realistic long-form articles
  (every actor x target pair annotated, mostly neutral; `stancekit.corpus.splitting`);
- ``train``: everything else.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..data.records import StancePair
from ..errors import DataError

CORPUS_DIR = Path(__file__).resolve().parent
SPLITS_FILE = CORPUS_DIR / "splits.json"
SPLIT_NAMES = ("train", "dev", "test", "test_events", "dev_real", "test_real")


def iter_articles(folder: Path | None = None) -> Iterator[dict[str, Any]]:
    """Every article of the corpus, file by file."""
    folder = folder or CORPUS_DIR / "data"
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        raise DataError("the embedded corpus has no data files", path=str(folder))
    for path in files:
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise DataError(f"invalid JSON ({exc.msg})", path=str(path),
                                        line=lineno) from None


def article_pairs(article: dict[str, Any]) -> list[StancePair]:
    """One pair per gold annotation: the evidence sentence(s) with the sentence before them.

    The window is the same shape that `stancekit.data.articles` builds at prediction time, so
    the model is trained on the inputs it will see.
    """
    from ..data.sentences import evidence_window

    aliases = {a["name"]: a.get("aliases", []) for a in article["actors"]}
    pairs = []
    for i, ann in enumerate(article["annotations"]):
        text = evidence_window(article["text"], ann["evidence"])
        pairs.append(StancePair(
            id=f"{article['id']}:{i}", actor=ann["actor"], target=ann["target"], text=text,
            label=ann["stance"], doc_id=article["id"],
            meta={"actor_aliases": aliases.get(ann["actor"], []), "event": article["event"],
                  "domain": article["domain"], "hard_case": ann.get("hard_case"),
                  "date": article["date"]}))
    return pairs


@lru_cache(maxsize=1)
def load_splits_file() -> dict[str, list[str]]:
    if not SPLITS_FILE.is_file():
        raise DataError("the embedded corpus has no splits file; run scripts/make_splits.py",
                        path=str(SPLITS_FILE))
    return json.loads(SPLITS_FILE.read_text(encoding="utf-8"))


def split_of_articles(articles: list[dict[str, Any]],
                      spec: dict[str, list[str]] | None = None) -> dict[str, str]:
    """``{article id: split}`` from ``splits.json`` (held-out events, held-out articles)."""
    spec = spec or load_splits_file()
    by_event = {e: s for s in ("test_events", "dev_real", "test_real") for e in spec.get(s, ())}
    by_article = {a: s for s in ("dev", "test") for a in spec[s]}
    return {art["id"]: by_event.get(art["event"]) or by_article.get(art["id"], "train")
            for art in articles}


def load_embedded_splits(*, window_negatives: bool = False) -> dict[str, list[StancePair]]:
    """Pairs of the embedded corpus by split: train, dev, test, test_events, dev_real, test_real.

    Args:
        window_negatives: Add `window_negatives_of` every exhaustively annotated train
            article to train.
    """
    articles = list(iter_articles())
    split = split_of_articles(articles)
    out: dict[str, list[StancePair]] = {name: [] for name in SPLIT_NAMES}
    for art in articles:
        out[split[art["id"]]].extend(article_pairs(art))
        if window_negatives and split[art["id"]] == "train":
            out["train"].extend(window_negatives_of(art))
    return out


def is_exhaustive(article: dict[str, Any]) -> bool:
    """Whether every actor x target pair of the article is annotated (the realistic articles)."""
    targets = {a["target"] for a in article["annotations"]}
    done = {(a["actor"], a["target"]) for a in article["annotations"]}
    return all((actor["name"], t) in done for actor in article["actors"] for t in targets
               if t != actor["name"])


def window_negatives_of(article: dict[str, Any]) -> list[StancePair]:
    """Every window the pair builder makes, as `stancekit predict --actors` would, for the
    pairs annotated neutral in an exhaustively annotated article, labelled neutral.

    An actor with no stance toward a target takes none in any window of the article, so
    these labels are exact: the windows a model meets in real reporting, where an actor is
    named beside other actors' reactions and takes no stance itself. Empty for an article
    that is not annotated exhaustively (an unannotated pair's stance is unknown).
    """
    if not is_exhaustive(article):
        return []
    from ..data.pair_builder import PairBuilder
    from ..evaluation.articles import gold_article

    neutral = {(a["actor"], a["target"]) for a in article["annotations"]
               if a["stance"] == "neutral"}
    builder = PairBuilder(max_tokens=216)  # the default model's budget: max_length 256 less 40
    return [replace(p, id=f"{p.id}|window", label="neutral",
                    meta={**p.meta, "window_negative": True})
            for p in builder.build(gold_article(article)) if (p.actor, p.target) in neutral]
