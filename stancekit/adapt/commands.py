"""The file-level steps behind ``stancekit select``, ``export``, ``import`` and ``audit``: read,
call the library, write atomically. The command line only parses arguments and prints."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..data.readers import PairReader
from ..data.records import StancePair
from ..errors import DataError
from ..fileio import jsonable, replacing
from ..labels import LABELS

logger = logging.getLogger(__name__)


def check_outputs(*paths: str | Path | None, overwrite: bool = False) -> None:
    """Refuse an output that exists (without ``overwrite``) or whose directory does not."""
    for p in paths:
        if p is None:
            continue
        p = Path(p)
        if p.exists() and not overwrite:
            raise DataError("output file exists; pass --overwrite to replace it", path=str(p))
        if not p.parent.is_dir():
            raise DataError("the output directory does not exist", path=str(p.parent))


def write_pairs(pairs: Sequence[StancePair], path: str | Path) -> None:
    with replacing(path) as tmp:
        tmp.write_text("".join(json.dumps(jsonable(p.to_dict()), ensure_ascii=False) + "\n"
                               for p in pairs), encoding="utf-8")


def candidate_pairs(clf: Any, input_path: str | Path, *, actors_path: str | Path | None = None,
                    articles: bool | None = None, rejects: str | Path | None = None
                    ) -> list[StancePair]:
    """The pool to select from: the pairs of a pair file, or the evidence windows `PairBuilder`
    makes of an article file (with ``actors_path``, or when the rows have no ``actor``)."""
    from ..streaming import looks_like_articles

    if articles or actors_path or (articles is None and looks_like_articles(input_path)):
        from ..data.articles import load_actor_file, read_articles
        from ..data.pair_builder import PairBuilder

        actors, targets = load_actor_file(actors_path) if actors_path else ((), ())
        builder = PairBuilder.for_classifier(clf, actors=actors, targets=targets)
        return [p for art in read_articles(input_path, rejects_path=rejects)
                for p in builder.build(art)]
    reader = PairReader(on_error="reject" if rejects else "raise", rejects_path=rejects)
    return reader.read(input_path)


def select_file(clf: Any, input_path: str | Path, output_path: str | Path, n: int, *,
                actors_path: str | Path | None = None, articles: bool | None = None,
                exclude: Sequence[str | Path] = (), rejects: str | Path | None = None,
                overwrite: bool = False, batch_size: int = 64, **options: Any) -> dict[str, Any]:
    """Select ``n`` pairs of ``input_path`` to annotate (`stancekit.adapt.selection.select` with
    ``options``) and write them, with the model's prediction and how each was picked, to
    ``output_path`` (JSON Lines, pairs)."""
    from .selection import check_options, select

    check_options(n, **{k: options.get(k, d) for k, d in (
        ("strategy", "uncertainty"), ("measure", "margin"), ("random_share", 0.0),
        ("spread", 0.5), ("max_per_doc", 2), ("duplicate_threshold", 0.7))})
    check_outputs(output_path, overwrite=overwrite)
    labelled: list[StancePair] = []
    for path in exclude:
        labelled.extend(PairReader().read(path))
    if not labelled and options.get("strategy", "uncertainty") == "uncertainty" and \
            not options.get("random_share"):
        logger.warning("no labelled pairs given (--exclude): on a new corpus the first batch is "
                       "better drawn at random (--strategy random); the model's uncertainty "
                       "before it has seen the corpus chose lopsided batches (docs/adapt.md)")
    done = {p.id for p in labelled}
    pool = [p for p in candidate_pairs(clf, input_path, actors_path=actors_path,
                                       articles=articles, rejects=rejects) if p.id not in done]
    if not pool:
        raise DataError("no pair to select from: the input gives no pairs (articles without a "
                        "listed actor?) or all of them are excluded", path=str(input_path))
    probs = clf.predict_proba(pool, batch_size=batch_size, progress=True)
    picks = select(pool, probs, n, labelled=labelled, **options)
    rows = []
    for pick in picks:
        pair, row = pool[pick.index], probs[pick.index]
        prediction = {"label": LABELS[int(row.argmax())],
                      "probs": {lab: round(float(v), 6) for lab, v in zip(LABELS, row)}}
        selection = {"by": pick.by, "rank": pick.rank, "uncertainty": round(pick.score, 6),
                     "strategy": options.get("strategy", "uncertainty"),
                     "measure": options.get("measure", "margin")}
        data = pair.to_dict()
        data["meta"] = {**pair.meta, "prediction": prediction, "selection": selection}
        rows.append(StancePair.from_dict(data))
    write_pairs(rows, output_path)
    by = {k: sum(p.by == k for p in picks) for k in ("uncertainty", "random")}
    return {"pool": len(pool), "excluded": len(done), "selected": len(picks), **by}


def export_file(input_path: str | Path, output_path: str | Path, *, clf: Any = None,
                label_config: str | Path | None = None, overwrite: bool = False,
                batch_size: int = 64) -> dict[str, Any]:
    """Label Studio tasks for the pairs of ``input_path``, with a pre-annotation from each
    pair's ``meta.prediction`` (written by `select_file`) or, failing that, from ``clf``; and
    the labeling config beside them."""
    from .label_studio_tasks import labeling_config, write_tasks

    label_config = Path(label_config) if label_config else default_label_config(output_path)
    check_outputs(output_path, label_config, overwrite=overwrite)
    pairs = PairReader().read(input_path)
    if not pairs:
        raise DataError("no pairs to export", path=str(input_path))
    predictions: list[dict[str, Any] | None] = [_prediction(p) for p in pairs]
    missing = [i for i, pr in enumerate(predictions) if pr is None]
    version = "stancekit"
    if missing and clf is not None:
        probs = clf.predict_proba([pairs[i] for i in missing], batch_size=batch_size)
        for i, row in zip(missing, probs):
            predictions[i] = {"label": LABELS[int(row.argmax())],
                              "probs": {lab: float(v) for lab, v in zip(LABELS, row)}}
        version = f"stancekit:{Path(str(clf.path)).name}"
    write_tasks(pairs, output_path, predictions=predictions, model_version=version)
    with replacing(label_config) as tmp:
        tmp.write_text(labeling_config(), encoding="utf-8")
    return {"tasks": len(pairs), "pre_annotated": sum(p is not None for p in predictions),
            "label_config": str(label_config)}


def default_label_config(output_path: str | Path) -> Path:
    out = Path(output_path)
    return out.with_name(out.stem + ".label_config.xml")


def default_agreement(output_path: str | Path) -> Path:
    out = Path(output_path)
    return out.with_name(out.stem + ".agreement.json")


def _prediction(pair: StancePair) -> dict[str, Any] | None:
    pred = pair.meta.get("prediction")
    if isinstance(pred, dict) and pred.get("label") in LABELS and \
            isinstance(pred.get("probs"), dict):
        return pred
    return None


def import_file(input_path: str | Path, output_path: str | Path, *,
                agreement_path: str | Path | None = None, rejects: str | Path | None = None,
                overwrite: bool = False) -> dict[str, Any]:
    """Label Studio's JSON export -> labelled pairs (JSON Lines) and an agreement report (JSON:
    counts, Krippendorff's alpha, the conflicts left out)."""
    from .label_studio import agreement, read_export

    agreement_path = Path(agreement_path) if agreement_path else default_agreement(output_path)
    check_outputs(output_path, agreement_path, overwrite=overwrite)
    if rejects is not None and not Path(rejects).parent.is_dir():
        raise DataError("the directory of the rejects file does not exist",
                        path=str(Path(rejects).parent))
    result = read_export(input_path, rejects_path=rejects)
    report = {"input": str(input_path), "counts": result.counts,
              "rule": "one vote per annotator (the later annotation); 'not about this target' = "
                      "neutral; a ground-truth annotation decides; else the most votes; a tie is "
                      "a conflict, left out",
              "agreement": agreement(result.tasks), "conflicts": result.conflicts}
    write_pairs(result.pairs, output_path)
    with replacing(agreement_path) as tmp:
        tmp.write_text(json.dumps(jsonable(report), indent=2, ensure_ascii=False),
                       encoding="utf-8")
    return {**report, "agreement_path": str(agreement_path)}
