"""Baselines trained on the same train split as the model: majority class and TF-IDF + LR.

The TF-IDF model is also the lexical half of the optional stacked model, so it is
stored as plain JSON (vocabulary, idf, coefficients) — never pickled.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .fileio import load_json
from .labels import LABEL2ID, LABELS


class MajorityBaseline:
    """Always predicts the most frequent train label."""

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> MajorityBaseline:
        self.label = Counter(labels).most_common(1)[0][0]
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        probs = np.zeros((len(texts), len(LABELS)))
        probs[:, LABEL2ID[self.label]] = 1.0
        return probs


class TfidfBaseline:
    """Word (1-2) and character (2-5, within word bounds) TF-IDF n-grams into a logistic regression.

    Args:
        C: Inverse regularisation strength of the logistic regression.
        class_weight: ``"balanced"`` or ``None``.
    """

    def __init__(self, *, C: float = 4.0, class_weight: str | None = "balanced",
                 min_df: int = 2) -> None:
        self.C, self.class_weight, self.min_df = C, class_weight, min_df

    def _vectorizers(self, vocabularies: Sequence[dict] | None = None) -> list[Any]:
        from sklearn.feature_extraction.text import TfidfVectorizer

        params = [dict(analyzer="word", ngram_range=(1, 2), lowercase=True),
                  dict(analyzer="char_wb", ngram_range=(2, 5), lowercase=True)]
        vocabularies = vocabularies or [None, None]
        return [TfidfVectorizer(sublinear_tf=True, min_df=self.min_df, vocabulary=v, **p)
                for p, v in zip(params, vocabularies)]

    def _features(self, texts: Sequence[str]) -> Any:
        from scipy.sparse import hstack

        return hstack([v.transform(texts) for v in self.vectorizers]).tocsr()

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> TfidfBaseline:
        from scipy.sparse import hstack
        from sklearn.linear_model import LogisticRegression

        self.vectorizers = self._vectorizers()
        x = hstack([v.fit_transform(texts) for v in self.vectorizers]).tocsr()
        y = np.array([LABEL2ID[label] for label in labels])
        self.clf = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=3000)
        self.clf.fit(x, y)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        raw = self.clf.predict_proba(self._features(texts))
        probs = np.zeros((len(texts), len(LABELS)))
        probs[:, self.clf.classes_] = raw  # a class absent from train keeps probability 0
        return probs

    def save(self, path: str | Path) -> None:
        state = {
            "C": self.C, "class_weight": self.class_weight, "min_df": self.min_df,
            "vocabularies": [{k: int(i) for k, i in v.vocabulary_.items()} for v in self.vectorizers],
            "idf": [v.idf_.tolist() for v in self.vectorizers],
            "classes": self.clf.classes_.tolist(), "coef": self.clf.coef_.tolist(),
            "intercept": self.clf.intercept_.tolist(),
        }
        Path(path).write_text(json.dumps(state), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> TfidfBaseline:
        from sklearn.linear_model import LogisticRegression

        state = load_json(Path(path).read_text(encoding="utf-8"), path=path)
        self = cls(C=state["C"], class_weight=state["class_weight"], min_df=state["min_df"])
        self.vectorizers = self._vectorizers(state["vocabularies"])
        for vec, idf in zip(self.vectorizers, state["idf"]):
            vec.idf_ = np.asarray(idf)
        self.clf = LogisticRegression()
        self.clf.classes_ = np.asarray(state["classes"])
        self.clf.coef_ = np.asarray(state["coef"])
        self.clf.intercept_ = np.asarray(state["intercept"])
        return self
