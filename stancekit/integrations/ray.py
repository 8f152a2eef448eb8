"""Ray Data: predict a corpus that outgrows one machine on a Ray cluster.

Each worker loads the model once (a callable class) and predicts whole batches; the
results equal single-process `StanceClassifier.predict` (same batching rules, same model
directory). Install with ``pip install 'stancekit[ray]'``.

Example:
    >>> import ray
    >>> from stancekit.integrations.ray import predict_pairs
    >>> ds = ray.data.read_json("s3://bucket/pairs/")                 # doctest: +SKIP
    >>> out = predict_pairs(ds, "models/default", concurrency=8)       # doctest: +SKIP
    >>> out.write_json("s3://bucket/predictions/")                    # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..fileio import jsonable
from ..labels import LABELS

PAIR_FIELDS = ("id", "actor", "target", "text", "doc_id", "actor_spans", "target_spans", "meta")


def _rows(batch: Mapping[str, Any]) -> list[dict[str, Any]]:
    keys = list(batch)
    n = len(batch[keys[0]]) if keys else 0
    return [{k: jsonable(batch[k][i]) for k in keys} for i in range(n)]


class PairPredictor:
    """Callable class for ``Dataset.map_batches``: pairs in, ``id``, ``label`` and one
    ``prob_<label>`` column per label out."""

    def __init__(self, model_dir: str, *, backend: str = "auto", batch_size: int = 64,
                 abstain_below: float | None = None) -> None:
        from ..prediction import StanceClassifier

        self.clf = StanceClassifier.from_pretrained(model_dir, backend=backend)
        self.batch_size = batch_size
        self.abstain_below = abstain_below

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, np.ndarray]:
        rows = [{k: v for k, v in row.items() if k in PAIR_FIELDS and v is not None}
                for row in _rows(batch)]
        preds = self.clf.predict(rows, batch_size=self.batch_size,
                                 abstain_below=self.abstain_below)
        out = {"id": np.array([p.id for p in preds], dtype=object),
               "label": np.array([p.label for p in preds], dtype=object)}
        for lab in LABELS:
            out[f"prob_{lab}"] = np.array([p.probs[lab] for p in preds], dtype=np.float64)
        if self.abstain_below is not None:
            out["abstained"] = np.array([p.abstained for p in preds], dtype=bool)
        return out


class ArticlePredictor:
    """Callable class for ``Dataset.map_batches``: articles in (``id``, ``text``, optional
    ``actors``, ``targets``, ``date``), one row per (article, actor, target) out."""

    def __init__(self, model_dir: str, *, actors_path: str | None = None, backend: str = "auto",
                 batch_size: int = 64) -> None:
        from ..data.articles import load_actor_file
        from ..data.pair_builder import PairBuilder
        from ..prediction import StanceClassifier

        self.clf = StanceClassifier.from_pretrained(model_dir, backend=backend)
        actors, targets = load_actor_file(actors_path) if actors_path else ((), ())
        self.builder = PairBuilder.for_classifier(self.clf, actors=actors, targets=targets)
        self.batch_size = batch_size

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, np.ndarray]:
        from ..aggregation import aggregate
        from ..data.articles import article_from_dict

        pairs = []
        for row in _rows(batch):
            pairs += self.builder.build(article_from_dict(row))
        preds = self.clf.predict(pairs, batch_size=self.batch_size) if pairs else []
        rows = aggregate(pairs, preds)
        out: dict[str, np.ndarray] = {
            key: np.array([getattr(r, key) for r in rows], dtype=object)
            for key in ("doc_id", "actor", "target", "label", "evidence", "date")}
        out["n_windows"] = np.array([r.n_windows for r in rows], dtype=np.int64)
        for lab in LABELS:
            out[f"prob_{lab}"] = np.array([r.probs[lab] for r in rows], dtype=np.float64)
        return out


def predict_pairs(ds: Any, model_dir: str, *, concurrency: int = 1, batch_size: int = 256,
                  backend: str = "auto", abstain_below: float | None = None,
                  num_cpus: float | None = None) -> Any:
    """Map a Ray Dataset of pairs through the model: one model load per worker."""
    return ds.map_batches(PairPredictor, fn_constructor_args=(model_dir,),
                          fn_constructor_kwargs={"backend": backend,
                                                 "abstain_below": abstain_below},
                          batch_size=batch_size, batch_format="numpy", concurrency=concurrency,
                          **({"num_cpus": num_cpus} if num_cpus else {}))


def predict_articles(ds: Any, model_dir: str, *, actors_path: str | None = None,
                     concurrency: int = 1, batch_size: int = 16, backend: str = "auto",
                     num_cpus: float | None = None) -> Any:
    """Map a Ray Dataset of articles to actor-level stances (one row per article, actor, target)."""
    return ds.map_batches(ArticlePredictor, fn_constructor_args=(model_dir,),
                          fn_constructor_kwargs={"actors_path": actors_path, "backend": backend},
                          batch_size=batch_size, batch_format="numpy", concurrency=concurrency,
                          **({"num_cpus": num_cpus} if num_cpus else {}))
