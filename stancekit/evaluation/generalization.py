"""How a model holds on text it was not trained on: every public corpus found, scored beside
majority and TF-IDF + LR trained in-domain, plus raw articles in -> table out over every
actor x target pair of held-out articles at their natural class balance.

The public corpora are read in place (``../shared/datasets`` or ``$STANCEKIT_DATASETS``) and
skipped with a note when absent. Author-stance corpora (SemEval, P-Stance, GWSD, NewsMTSC)
map the author (or the article) to the actor, as their adapters in `stancekit.data.public`
do; a corpus the model was trained on (``data.mix``) is marked as such.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ..data.public import TWO_WAY, load_public
from ..data.records import StancePair
from ..errors import StanceKitError
from ..labels import CONDEMN, LABELS, SUPPORT
from ..metrics import stance_metrics
from .analysis import MODEL, analyze
from .articles import score_articles

logger = logging.getLogger(__name__)

# corpus -> (evaluation splits, labels macro-F1 averages over, what the actor is)
PUBLIC = {
    "dsa_news": (("valid",), LABELS, "entity p toward entity q in a news sentence"),
    "newsmtsc": (("test_rw", "test_mt"), LABELS, "the article toward a person it mentions"),
    "gwsd": (("test",), LABELS, "the author toward 'global warming is a serious concern'"),
    "semeval": (("test",), LABELS, "the tweet's author toward the target"),
    "pstance": (("test",), TWO_WAY, "the tweet's author toward the politician (favor/against)"),
}


def dsa_five_class(pairs: Sequence[StancePair], labels: Sequence[str]) -> tuple[list[str], list[str]]:
    """The dsa_news paper's 5-class labels from 3-way predictions of both directions
    (``../shared/datasets/dsa_news/SOURCE.md``): 1 if p->q is support, 3 if p->q is condemn,
    else 2/4 if q->p is support/condemn, else 0. ``pairs`` are the ``valid_both`` pairs
    (ids ending in ``:pq`` and ``:qp``), ``labels`` the predictions for them."""
    by_doc: dict[str, dict[str, str]] = {}
    gold: dict[str, str] = {}
    for pair, label in zip(pairs, labels, strict=True):
        direction = pair.id.rsplit(":", 1)[1]
        by_doc.setdefault(pair.doc_id, {})[direction] = label
        gold[pair.doc_id] = pair.meta["raw_label"]
    predicted = []
    for doc in gold:
        pq, qp = by_doc[doc]["pq"], by_doc[doc]["qp"]
        predicted.append("1" if pq == SUPPORT else "3" if pq == CONDEMN else
                         "2" if qp == SUPPORT else "4" if qp == CONDEMN else "0")
    return list(gold.values()), predicted


def five_class_macro_f1(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y_true, y_pred, labels=["0", "1", "2", "3", "4"], average="macro",
                          zero_division=0))


def score_public(clf: Any, *, trained_on: Sequence[str] = (), n_resamples: int = 1000
                 ) -> list[dict[str, Any]]:
    """One row per (corpus, split, system) for every public corpus found."""
    from types import SimpleNamespace

    rows = []
    for corpus, (split_names, labels, actor) in PUBLIC.items():
        cfg = SimpleNamespace(corpus=corpus, path=None, both_directions=False, subset=None)
        try:
            splits = load_public(cfg)
        except StanceKitError as err:
            logger.warning("%s: skipped (%s)", corpus, err)
            rows.append({"corpus": corpus, "skipped": str(err)})
            continue
        wanted = {s: splits[s] for s in split_names if s in splits}
        analyses = analyze(clf, wanted, train_pairs=splits["train"], labels=labels,
                           n_resamples=n_resamples)
        for split, a in analyses.items():
            for system, m in a.metrics.items():
                rows.append({"corpus": corpus, "split": split, "system": system,
                             "n": m[f"{split}_n"], "f1_macro": m[f"{split}_f1_macro"],
                             "ci": m.get(f"{split}_f1_macro_ci"), "actor": actor,
                             "in_training": corpus in trained_on,
                             "neutral_recall": m.get(f"{split}_recall_neutral"),
                             "polar_share": _polar_share(a, system)})
        if corpus == "dsa_news":
            both = splits["valid_both"]
            gold, pred = dsa_five_class(both, [p.label for p in clf.predict(both)])
            rows.append({"corpus": corpus, "split": "valid (5-class, both directions)",
                         "system": MODEL, "n": len(gold), "f1_macro": five_class_macro_f1(gold, pred),
                         "ci": None, "actor": "p and q, both directions, mapped to 0-4",
                         "in_training": corpus in trained_on})
    return rows


def _polar_share(analysis: Any, system: str) -> float | None:
    """The share of gold-neutral pairs the model called support or condemn."""
    if system != MODEL:
        return None
    gold = [p.label for p in analysis.pairs]
    pred = [LABELS[i] for i in analysis.probs.argmax(axis=1)]
    neutral = [p for g, p in zip(gold, pred) if g == "neutral"]
    return sum(p != "neutral" for p in neutral) / len(neutral) if neutral else None


def score_held_out_articles(clf: Any, splits: Sequence[str] = ("test_real", "test", "test_events")
                            ) -> list[dict[str, Any]]:
    """Raw article -> table on held-out articles of the embedded corpus, every gold pair."""
    from ..corpus import iter_articles, split_of_articles

    articles = list(iter_articles())
    split = split_of_articles(articles)
    rows = []
    for name in splits:
        chosen = [a for a in articles if split[a["id"]] == name]
        m = score_articles(clf, chosen)
        gold = [ann["stance"] for a in chosen for ann in a["annotations"]]
        majority = stance_metrics(gold, [max(set(gold), key=gold.count)] * len(gold))
        rows.append({"split": name, "articles": len(chosen), "n": m["n"],
                     "f1_macro": m["f1_macro"], "accuracy": m["accuracy"],
                     "neutral_share": gold.count("neutral") / len(gold),
                     "majority_f1_macro": majority["f1_macro"],
                     "not_found": m["gold_pairs_not_found"]})
    return rows


def generalization_markdown(model: str, meta: dict[str, Any], public: list[dict[str, Any]],
                            articles: list[dict[str, Any]]) -> str:
    sources = ", ".join(f"{k} {v:,}" for k, v in (meta.get("sources") or {}).items()) or "n/a"
    lines = ["# Generalization: real text the model was not trained on", "",
             "Generated by `python scripts/generalization.py` — do not edit by hand. Model: "
             f"`{model}` (encoder `{meta.get('encoder')}`; training pairs by source: {sources}).",
             "", "## Raw articles in, stance table out", "",
             "Every gold (article, actor, target) of held-out articles: the builder gets the raw "
             "text, the actors and the targets, never the evidence. `test_real`: long realistic "
             "articles with every actor x target pair annotated (natural balance, mostly "
             "neutral); `test` / `test_events`: the wire round-ups, annotated pairs only.", "",
             "| split | articles | gold pairs | neutral share | macro-F1 | accuracy | majority |",
             "|---|---|---|---|---|---|---|"]
    for r in articles:
        lines.append(f"| {r['split']} | {r['articles']} | {r['n']} | {r['neutral_share']:.0%} | "
                     f"**{r['f1_macro']:.3f}** | {r['accuracy']:.3f} | "
                     f"{r['majority_f1_macro']:.3f} |")
    lines += ["", "## Public corpora", "",
              "macro-F1 [95 % bootstrap interval]. Majority and TF-IDF + LR are trained on each "
              "corpus's own train split (in-domain); stancekit is not, unless marked *trained "
              "on*. *Polar on neutral*: share of gold-neutral pairs the model called support or "
              "condemn.", "",
              "| corpus | split | actor | majority | TF-IDF + LR (in-domain) | stancekit | "
              "polar on neutral |", "|---|---|---|---|---|---|---|"]
    by_key: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for r in public:
        if "skipped" in r:
            lines.append(f"| {r['corpus']} | — | not found: {r['skipped']} | | | | |")
            continue
        by_key.setdefault((r["corpus"], r["split"]), {})[r["system"]] = r
    for (corpus, split), systems in by_key.items():
        cell = {k: _cell(v) for k, v in systems.items()}
        model_row = systems[MODEL]
        polar = model_row.get("polar_share")
        name = corpus + (" (*trained on*)" if model_row["in_training"] else "")
        lines.append(f"| {name} | {split} | {model_row['actor']} | {cell.get('majority', '')} | "
                     f"{cell.get('tfidf_lr', '')} | **{cell[MODEL]}** | "
                     f"{'' if polar is None else f'{polar:.0%}'} |")
    return "\n".join(lines) + "\n"


def _cell(row: dict[str, Any]) -> str:
    ci = row.get("ci")
    return f"{row['f1_macro']:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")
