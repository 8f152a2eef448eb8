"""Slices (target, actor, source corpus, text length) and the most telling errors of a split."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..data.records import StancePair
from ..labels import LABELS
from ..metrics import stance_metrics

LENGTH_BUCKETS = ((25, "<25 words"), (50, "25-49 words"), (100, "50-99 words"),
                  (None, "100+ words"))


def length_bucket(text: str) -> str:
    words = len(text.split())
    return next(name for limit, name in LENGTH_BUCKETS if limit is None or words < limit)


def source_corpus(pair: StancePair) -> str | None:
    return pair.meta.get("corpus") or pair.meta.get("domain")


SLICES: dict[str, Callable[[StancePair], str | None]] = {
    "target": lambda p: p.target,
    "actor": lambda p: p.actor,
    "corpus": source_corpus,
    "length": lambda p: length_bucket(p.text),
}


def slice_metrics(pairs: Sequence[StancePair], y_pred: Sequence[str], probs: np.ndarray, *,
                  labels: Sequence[str] = LABELS) -> dict[str, list[dict[str, Any]]]:
    """Per target, actor, source corpus and text-length bucket: the split's metrics, with counts.

    Macro-F1 of a slice averages over the classes present in its gold or predicted labels (a
    slice with no ``neutral`` pair is not scored 0 on ``neutral``); a class F1 is None when
    the class is absent from both. Slices are ordered by size (length buckets by length); a
    kind whose pairs carry no value (no ``corpus``/``domain`` in ``meta``) is left out.
    """
    y_true = [p.label for p in pairs]
    conf = np.asarray(probs).max(axis=1)
    out: dict[str, list[dict[str, Any]]] = {}
    for kind, key in SLICES.items():
        members: dict[str, list[int]] = defaultdict(list)
        for i, pair in enumerate(pairs):
            value = key(pair)
            if value is not None:
                members[str(value)].append(i)
        if not members:
            continue
        rows = []
        for value, idx in members.items():
            gold, pred = [y_true[i] for i in idx], [y_pred[i] for i in idx]
            present = [lab for lab in labels if lab in gold or lab in pred]
            m = stance_metrics(gold, pred, labels=present)
            row: dict[str, Any] = {kind: value, "n": len(idx),
                                   "docs": len({pairs[i].doc_id or pairs[i].id for i in idx})}
            row.update({f"n_{lab}": gold.count(lab) for lab in LABELS})
            row.update({"accuracy": m["accuracy"], "f1_macro": m["f1_macro"],
                        "f_avg": m["f_avg"] if {"support", "condemn"} & set(gold + pred) else None})
            row.update({f"f1_{lab}": m[f"f1_{lab}"] if lab in gold or lab in pred else None
                        for lab in LABELS})
            row["mean_confidence"] = float(conf[idx].mean())
            rows.append(row)
        if kind == "length":
            rank = {name: i for i, (_, name) in enumerate(LENGTH_BUCKETS)}
            rows.sort(key=lambda r: rank[r["length"]])
        else:
            rows.sort(key=lambda r: (-r["n"], r[kind]))
        out[kind] = rows
    return out


ERROR_FIELDS = ("kind", "id", "doc_id", "actor", "target", "gold", "predicted", "confidence",
                *(f"p_{lab}" for lab in LABELS), "text")


def error_examples(pairs: Sequence[StancePair], probs: np.ndarray, *, k: int = 20
                   ) -> dict[str, list[dict[str, Any]]]:
    """The ``k`` most confident mistakes and the ``k`` least confident right answers."""
    probs = np.asarray(probs)
    conf, pred = probs.max(axis=1), probs.argmax(axis=1)

    def row(i: int, kind: str) -> dict[str, Any]:
        p = pairs[i]
        return {"kind": kind, "id": p.id, "doc_id": p.doc_id, "actor": p.actor,
                "target": p.target, "gold": p.label, "predicted": LABELS[pred[i]],
                "confidence": round(float(conf[i]), 4),
                **{f"p_{lab}": round(float(probs[i, j]), 4) for j, lab in enumerate(LABELS)},
                "text": p.text}

    wrong = [i for i in range(len(pairs)) if LABELS[pred[i]] != pairs[i].label]
    right = [i for i in range(len(pairs)) if LABELS[pred[i]] == pairs[i].label]
    return {"confident_mistakes": [row(i, "confident_mistake")
                                   for i in sorted(wrong, key=lambda i: -conf[i])[:k]],
            "unsure_correct": [row(i, "unsure_correct")
                               for i in sorted(right, key=lambda i: conf[i])[:k]]}
