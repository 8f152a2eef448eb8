"""Stacking the transformer with a TF-IDF model: what the lexical model reads, how the stack
is fitted on dev (training) and how it combines the two models' probabilities (prediction)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .calibration import softmax
from .data.records import StancePair
from .encoding import PairFormatter
from .labels import LABEL2ID, LABELS
from .metrics import PRIMARY_METRIC, stance_metrics

logger = logging.getLogger(__name__)


def lexical_texts(formatter: PairFormatter, pairs: Sequence[StancePair]) -> list[str]:
    """What the lexical model reads: the first segment and the marked text."""
    first, second = formatter.texts(pairs)
    return [f"{a} || {b}" for a, b in zip(first, second)]


def stack(transformer: np.ndarray, lexical: np.ndarray, stacker: Mapping[str, Any], *,
          calibrated: bool = True) -> np.ndarray:
    """The stacked model: a logistic regression over both models' log-probabilities, its
    logits divided by the stacker's own fitted temperature (calibration of what is returned)."""
    x = np.log(np.clip(np.hstack([transformer, lexical]), 1e-6, 1.0))
    logits = x @ np.asarray(stacker["coef"]).T + np.asarray(stacker["intercept"])
    temperature = float(stacker.get("temperature", 1.0)) if calibrated else 1.0
    return softmax(logits, temperature, dtype=None)


CV_FOLDS = 5


def why_not_stack(dev_pairs: Sequence[StancePair]) -> str | None:
    """Why the stacker cannot be fitted on this dev split (None: it can): its 5-fold
    cross-validation needs every label at least 5 times."""
    counts = {lab: sum(p.label == lab for p in dev_pairs) for lab in LABELS}
    short = {lab: n for lab, n in counts.items() if n < CV_FOLDS}
    if short:
        return (f"not stacking the TF-IDF model: dev has too few pairs of {short} "
                f"({CV_FOLDS}-fold cross-validation needs {CV_FOLDS} of each label)")
    return None


def fit_stacker(result: dict[str, Any], train_pairs: list[StancePair], dev_pairs: list[StancePair],
                dev_probs: np.ndarray) -> None:
    """Stack the transformer with a TF-IDF model, fitted on dev (never on an evaluation split).

    The stacked model's dev score comes from 5-fold cross-validation on dev, and it is
    kept only when that beats the transformer alone. Updates ``result`` in place
    (``stacker``, ``lexical``, ``dev_metrics``, ``stack_report``, ``stack_dev_logits``).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    from .baselines import TfidfBaseline

    reason = why_not_stack(dev_pairs)
    if reason:
        logger.info(reason)
        return
    formatter = result["formatter"]
    lexical = TfidfBaseline().fit(lexical_texts(formatter, train_pairs),
                                  [p.label for p in train_pairs])
    lex_dev = lexical.predict_proba(lexical_texts(formatter, dev_pairs))
    x = np.log(np.clip(np.hstack([dev_probs, lex_dev]), 1e-6, 1.0))
    y = np.array([LABEL2ID[p.label] for p in dev_pairs])
    stacker = LogisticRegression(C=1.0, max_iter=1000)
    cv_logits = cross_val_predict(stacker, x, y, cv=CV_FOLDS, method="decision_function")
    cv_pred = cv_logits.argmax(axis=1)
    cv_metrics = stance_metrics([LABELS[i] for i in y], [LABELS[i] for i in cv_pred])
    lexical_metrics = stance_metrics([LABELS[i] for i in y], [LABELS[i] for i in lex_dev.argmax(1)])
    logger.info("dev macro-F1: transformer %.4f, tf-idf %.4f, stacked (5-fold CV on dev) %.4f",
                result["dev_metrics"][PRIMARY_METRIC], lexical_metrics[PRIMARY_METRIC],
                cv_metrics[PRIMARY_METRIC])
    result["stack_report"] = {"transformer": result["dev_metrics"][PRIMARY_METRIC],
                              "lexical": lexical_metrics[PRIMARY_METRIC],
                              "stacked_cv": cv_metrics[PRIMARY_METRIC]}
    if cv_metrics[PRIMARY_METRIC] <= result["dev_metrics"][PRIMARY_METRIC]:
        logger.info("stacking does not help on dev; keeping the transformer alone")
        return
    stacker.fit(x, y)
    result["stacker"] = {"coef": stacker.coef_.tolist(), "intercept": stacker.intercept_.tolist()}
    result["lexical"] = lexical
    result["dev_metrics"] = cv_metrics
    result["stack_dev_logits"] = cv_logits  # out-of-fold: what calibration is fitted on
