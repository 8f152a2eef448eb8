"""Pair predictions to actor-level results: one stance per (article, actor, target), then a
corpus table of actor x target.

The rule for an article (`aggregate`): an actor usually shows its stance toward a target
in one or two windows and is neutral about it everywhere else, so averaging would wash
the stance out. Only windows that mention the target (by name, or failing that one of
its content words) are considered when there are any; among them, the window with the
strongest support-or-condemn probability decides when that window's own prediction is
support or condemn; otherwise the article-level stance is neutral and the most clearly
neutral window is the evidence. (On the corpus's dev articles, preferring windows that
mention the target moved article-level macro-F1 from 0.623 to 0.630.)
The output keeps the deciding window's probabilities, the mean over windows, and the
number of windows.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .data.mentions import mentions_target
from .data.records import StancePair
from .fileio import replacing
from .labels import LABELS
from .prediction import Prediction


@dataclass(frozen=True)
class ActorStance:
    """The stance of one actor toward one target in one article."""

    doc_id: str | None
    actor: str
    target: str
    label: str
    probs: dict[str, float]
    evidence: str
    n_windows: int
    mean_probs: dict[str, float] = field(default_factory=dict)
    evidence_span: tuple[int, int] | None = None
    date: str | None = None
    abstained: bool = False

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["evidence_span"] = list(self.evidence_span) if self.evidence_span else None
        if not self.abstained:
            del out["abstained"]
        return out


def aggregate(pairs: Sequence[StancePair], predictions: Sequence[Prediction]
              ) -> list[ActorStance]:
    """One `ActorStance` per (doc_id, actor, target), in order of first appearance."""
    if len(pairs) != len(predictions):
        raise ValueError(f"{len(pairs)} pairs but {len(predictions)} predictions")
    groups: dict[tuple[str | None, str, str], list[int]] = defaultdict(list)
    for i, pair in enumerate(pairs):
        groups[(pair.doc_id, pair.actor, pair.target)].append(i)
    out = []
    for (doc_id, actor, target), idx in groups.items():
        preds = [predictions[i] for i in idx]
        about = [k for k in idx if mentions_target(pairs[k])]
        decide = about or idx
        polar = [k for k in decide if predictions[k].label != "neutral"]
        if polar:
            best = max(polar, key=lambda k: max(predictions[k].probs["support"],
                                                predictions[k].probs["condemn"]))
        else:
            best = max(decide, key=lambda k: predictions[k].probs["neutral"])
        pred, pair = predictions[best], pairs[best]
        mean = {lab: round(sum(p.probs[lab] for p in preds) / len(preds), 6) for lab in LABELS}
        span = pair.meta.get("evidence_span")
        out.append(ActorStance(
            doc_id=doc_id, actor=actor, target=target, label=pred.label, probs=dict(pred.probs),
            evidence=pair.meta.get("evidence", pair.text), n_windows=len(idx), mean_probs=mean,
            evidence_span=tuple(span) if span else None, date=pair.meta.get("date"),
            abstained=getattr(pred, "abstained", False)))
    return out


def stance_table(rows: Iterable[ActorStance], *, by: str | None = None) -> list[dict[str, Any]]:
    """Actor x target across articles: counts and shares of each stance.

    Args:
        by: ``"date"`` (the full date), ``"month"`` (YYYY-MM) or ``"year"`` adds a period
            column; rows without a date go to the period ``""``.
    """
    if by not in (None, "date", "month", "year"):
        raise ValueError(f"by must be None, 'date', 'month' or 'year', found {by!r}")
    cut = {None: 0, "date": 10, "month": 7, "year": 4}[by]
    counts: dict[tuple[str, ...], dict[str, int]] = defaultdict(lambda: dict.fromkeys(LABELS, 0))
    docs: dict[tuple[str, ...], set] = defaultdict(set)
    for row in rows:
        key: tuple[str, ...] = (row.actor, row.target)
        if by is not None:
            key += ((row.date or "")[:cut],)
        counts[key][row.label] += 1
        docs[key].add(row.doc_id)
    table = []
    for key in sorted(counts):
        c = counts[key]
        n = sum(c.values())
        entry: dict[str, Any] = {"actor": key[0], "target": key[1]}
        if by is not None:
            entry[by] = key[2]
        entry.update({"n": n, "articles": len(docs[key])})
        entry.update({f"n_{lab}": c[lab] for lab in LABELS})
        entry.update({f"share_{lab}": round(c[lab] / n, 4) for lab in LABELS})
        entry["majority"] = max(LABELS, key=lambda lab: (c[lab], lab == "neutral"))
        table.append(entry)
    return table


def merge_periods(table: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A stance table split by period (``by=...``, read back from a file) summed over periods:
    ``actor``, ``target``, ``n`` and ``n_<label>`` per (actor, target)."""
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for r in table:
        c = counts.setdefault((r["actor"], r["target"]), dict.fromkeys(LABELS, 0))
        for lab in LABELS:
            c[lab] += int(float(r[f"n_{lab}"]))
    return [{"actor": a, "target": t, "n": sum(c.values()), **{f"n_{lab}": c[lab] for lab in LABELS}}
            for (a, t), c in sorted(counts.items())]


def write_rows(rows: Iterable[dict[str, Any]], path: str | Path) -> Path:
    """JSON Lines or CSV by extension (nested values are JSON-encoded in CSV)."""
    path = Path(path)
    rows = list(rows)
    with replacing(path) as tmp:
        _write_rows(rows, path, tmp)
    return path


def _write_rows(rows: list[dict[str, Any]], path: Path, tmp: Path) -> None:
    if path.suffix.lower() in (".csv", ".tsv"):
        fields = list(dict.fromkeys(k for row in rows for k in row))
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields,
                                    delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
            writer.writeheader()
            for row in rows:
                writer.writerow({k: json.dumps(v, ensure_ascii=False)
                                 if isinstance(v, (dict, list)) else v for k, v in row.items()})
    else:
        with open(tmp, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
