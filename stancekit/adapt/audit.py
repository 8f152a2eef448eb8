"""Label audit: which of the user's labels are likely wrong, ranked, with the evidence.

Each labelled pair gets **out-of-fold** probabilities (k-fold cross-validation, documents kept
whole, labels stratified): a model that never saw the pair's label judges it. Two ways to get
them (``mode``):

- ``features`` (default): the audited model's frozen features (`stancekit.adapt.features`:
  its encoder's first-token vector and its logits) computed once, and a logistic regression
  fitted per fold — seconds after one forward pass.
- ``finetune``: the transformer fine-tuned per fold from the encoder the audited model was
  itself trained from (its config's ``model.name_or_path``), with the model's own training
  config — k full trainings; for GPUs.

The ranking is cleanlab's `find_label_issues` (confident learning; the ``audit`` extra) when
cleanlab is installed, else the same rule written here: per-label thresholds are the mean
out-of-fold probability of each label among the pairs given it; a pair is flagged when the
label it clears with the highest probability is not its given one. Flagged pairs come first,
each group ordered by the out-of-fold probability of the given label (lowest first).

One caveat the output states: frozen features of a model fine-tuned on these very labels
carry them (the encoder fitted them), which hides errors; audit with the model you adapted
from (``models/default``) or use ``finetune``. `audit` warns when the model's recorded train
data is this file.
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data.mentions import pair_mentions
from ..data.records import StancePair
from ..errors import DataError, UsageError
from ..labels import LABELS

logger = logging.getLogger(__name__)

MODES = ("features", "finetune")
MIN_PAIRS = 10


@dataclass
class AuditResult:
    """``rows``: one dict per pair, ranked (most likely wrong first); ``summary``: how it was
    computed and what it found."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


def check_pairs(pairs: Sequence[StancePair], folds: int) -> None:
    unlabelled = [p.id for p in pairs if p.label is None]
    if unlabelled:
        raise DataError(f"{len(unlabelled)} pairs have no label (e.g. id {unlabelled[0]!r}); an "
                        "audit checks labels", field="label")
    if len(pairs) < max(MIN_PAIRS, folds):
        raise DataError(f"an audit needs at least {max(MIN_PAIRS, folds)} labelled pairs, found "
                        f"{len(pairs)}")
    if len({p.label for p in pairs}) < 2:
        raise DataError(f"every pair has the label {pairs[0].label!r}; an audit needs two or more")


def folds_for(pairs: Sequence[StancePair], folds: int, seed: int) -> list[np.ndarray]:
    """Held-out indices of each fold: stratified by label, documents kept whole when the pairs
    have doc ids; a label with fewer pairs than folds lowers the number of folds (at least 2)."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    y = np.array([LABELS.index(p.label) for p in pairs])
    smallest = min(Counter(y.tolist()).values())
    k = max(2, min(folds, smallest)) if smallest >= 2 else 2
    if k < folds:
        logger.warning("the rarest label has %d pairs: %d folds instead of %d", smallest, k, folds)
    x = np.zeros(len(y))
    if any(p.doc_id for p in pairs):
        groups = [p.doc_id or f"\x00{i}" for i, p in enumerate(pairs)]
        split = StratifiedGroupKFold(n_splits=k, shuffle=True,
                                     random_state=seed).split(x, y, groups)
    else:
        split = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(x, y)
    return [test for _, test in split]


C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)


def linear_head(c: float | None = 1.0, seed: int = 0) -> Any:
    """The classifier fitted on frozen features: standardised inputs, multinomial logistic
    regression, balanced class weights (a handful of labels per class must still count).
    ``c=None`` chooses C from `C_GRID` by 3-fold cross-validated log-loss on the data it is
    fitted on: confident learning needs probabilities, and an under-regularised head on a few
    hundred 771-dimensional rows is sure of everything."""
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if c is None:
        lr = LogisticRegressionCV(Cs=list(C_GRID), cv=3, scoring="neg_log_loss", max_iter=2000,
                                  class_weight="balanced", random_state=seed)
    else:
        lr = LogisticRegression(C=c, max_iter=2000, class_weight="balanced", random_state=seed)
    return make_pipeline(StandardScaler(), lr)


def full_probs(head: Any, x: np.ndarray) -> np.ndarray:
    """``head.predict_proba`` in the order of ``LABELS``; a label absent from the head's
    training data gets probability 0."""
    part = head.predict_proba(x)
    out = np.zeros((len(x), len(LABELS)))
    out[:, list(head.classes_)] = part
    return out


def out_of_fold_features(x: np.ndarray, y: np.ndarray, folds: Sequence[np.ndarray], *,
                         c: float | None = None, seed: int = 0) -> np.ndarray:
    """Out-of-fold probabilities of a `linear_head` on feature matrix ``x`` (C chosen inside
    each fold's training part when ``c`` is None and every label has 3 or more pairs there)."""
    probs = np.zeros((len(y), len(LABELS)))
    for test in folds:
        train = np.setdiff1d(np.arange(len(y)), test)
        if c is None:  # too few pairs of a label to cross-validate C: the simulation's 0.01
            enough = np.bincount(y[train])[np.unique(y[train])].min() >= 3
            head = linear_head(None if enough else 0.01, seed)
        else:
            head = linear_head(c, seed)
        with warnings.catch_warnings():  # scikit-learn's notices of coming API changes
            warnings.simplefilter("ignore", FutureWarning)
            head.fit(x[train], y[train])
        probs[test] = full_probs(head, x[test])
    return probs


def out_of_fold_finetune(model: str | Path, pairs: Sequence[StancePair],
                         folds: Sequence[np.ndarray], work: str | Path, *,
                         base: str | None = None, train_options: dict[str, Any] | None = None
                         ) -> np.ndarray:
    """Out-of-fold probabilities from fine-tuning per fold (`train`), starting from ``base``
    (default: the encoder the model at ``model`` was trained from), with its training config
    (``train_options`` replace some of its ``train`` keys, e.g. ``{"epochs": 2}``)."""
    import dataclasses

    from ..config import config_from_dict
    from ..data.splits import carve_dev
    from ..modeldir import read_meta
    from ..prediction import StanceClassifier
    from ..training import train

    meta = read_meta(Path(model))
    config = config_from_dict(meta.get("config") or {}, source=f"{model}/stancekit.json")
    base = base or config.model.name_or_path
    probs = np.zeros((len(pairs), len(LABELS)))
    for k, test in enumerate(folds):
        out = Path(work) / f"fold-{k}"
        fold_config = config.replace(
            model=dataclasses.replace(config.model, name_or_path=base),
            train=dataclasses.replace(config.train, output_dir=str(out), resume=False,
                                      **(train_options or {})))
        held = set(test.tolist())
        rest = [p for i, p in enumerate(pairs) if i not in held]
        # dev for early stopping and the temperature: a tenth, fewer folds for rare labels
        smallest = min(Counter(p.label for p in rest).values())
        rest, dev = carve_dev(rest, 1 / min(10, smallest)) if smallest >= 2 else (rest, rest)
        train(fold_config, {"train": rest, "dev": dev})
        clf = StanceClassifier.from_pretrained(out)
        probs[test] = clf.predict_proba([pairs[i] for i in test])
    return probs


def rank_issues(y: np.ndarray, probs: np.ndarray, *, method: str = "auto"
                ) -> tuple[np.ndarray, np.ndarray, str]:
    """The ranking of pairs (most likely mislabelled first), the flag of each pair, and the
    method used: ``cleanlab`` or ``confident-learning`` (this module's own rule)."""
    flagged: np.ndarray
    used = method
    if method in ("auto", "cleanlab"):
        try:
            from cleanlab.filter import find_label_issues
        except ImportError:
            if method == "cleanlab":
                raise UsageError("cleanlab is not installed; pip install 'stancekit[audit]' or "
                                 "use the built-in ranking") from None
            used = "confident-learning"
        else:
            present = sorted(set(y.tolist()))
            # cleanlab wants labels 0..K-1 all present: compact away labels nobody was given
            remap = {old: new for new, old in enumerate(present)}
            yc = np.array([remap[v] for v in y])
            pc = probs[:, present]
            pc = pc / np.clip(pc.sum(axis=1, keepdims=True), 1e-12, None)
            flagged = find_label_issues(yc, pc, filter_by="prune_by_noise_rate")
            used = "cleanlab"
    if used == "confident-learning":
        flagged = confident_learning_flags(y, probs)
    self_conf = probs[np.arange(len(y)), y]
    order = np.lexsort((self_conf, ~flagged))
    return order, flagged, used


def confident_learning_flags(y: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Confident learning's confident-joint rule: threshold t_j = mean p_j over pairs given j;
    a pair goes to the label k it clears (p_k >= t_k) with the highest p_k; flagged when that
    k is not its given label. Pairs that clear no threshold are not flagged."""
    k = probs.shape[1]
    thresholds = np.array([probs[y == j, j].mean() if np.any(y == j) else np.inf
                           for j in range(k)])
    clears = probs >= thresholds
    masked = np.where(clears, probs, -1.0)
    best = masked.argmax(axis=1)
    return clears.any(axis=1) & (best != y)


def audit(pairs: Sequence[StancePair], probs: np.ndarray, *, method: str = "auto",
          info: dict[str, Any] | None = None) -> AuditResult:
    """Rank ``pairs`` by how likely their labels are wrong, given out-of-fold ``probs``."""
    from ..metrics import stance_metrics

    y = np.array([LABELS.index(p.label) for p in pairs])
    order, flagged, used = rank_issues(y, probs, method=method)
    predicted = probs.argmax(axis=1)
    rows = []
    for rank, i in enumerate(order, start=1):
        p = pairs[i]
        actor_spans, target_spans = pair_mentions(p)
        rows.append({
            "rank": rank, "id": p.id, "flagged": bool(flagged[i]), "given": p.label,
            "suggested": LABELS[int(predicted[i])], "p_given": round(float(probs[i, y[i]]), 4),
            "probs": {lab: round(float(v), 4) for lab, v in zip(LABELS, probs[i])},
            "actor": p.actor, "target": p.target, "text": p.text, "doc_id": p.doc_id,
            "actor_spans": [list(s) for s in actor_spans],
            "target_spans": [list(s) for s in target_spans],
            "annotators": p.meta.get("annotators"), "resolution": p.meta.get("resolution")})
    cv = stance_metrics([LABELS[v] for v in y], [LABELS[v] for v in predicted])
    summary = {**(info or {}), "method": used, "n": len(pairs), "flagged": int(flagged.sum()),
               "flagged_by_given_label": {lab: int(flagged[y == j].sum())
                                          for j, lab in enumerate(LABELS)},
               "cv_f1_macro": round(float(cv["f1_macro"]), 4),
               "cv_accuracy": round(float(cv["accuracy"]), 4)}
    return AuditResult(rows, summary)


def run_audit(model: str | Path, pairs: Sequence[StancePair], *, mode: str = "features",
              folds: int = 5, seed: int = 0, method: str = "auto", backend: str = "auto",
              device: Any = None, work: str | Path | None = None, base: str | None = None,
              batch_size: int = 32, data_path: str | Path | None = None,
              train_options: dict[str, Any] | None = None) -> AuditResult:
    """Out-of-fold probabilities for ``pairs`` by ``mode``, then `audit`. ``data_path``, the
    file the pairs came from, lets the audit tell whether the model was trained on it."""
    if mode not in MODES:
        raise UsageError(f"mode: expected one of {list(MODES)}, found {mode!r}")
    if folds < 2:
        raise UsageError(f"folds: expected 2 or more, found {folds}")
    check_pairs(pairs, folds)
    split = folds_for(pairs, folds, seed)
    info: dict[str, Any] = {"model": str(model), "mode": mode, "folds": len(split), "seed": seed}
    if mode == "features":
        from ..modeldir import read_meta
        from ..prediction import StanceClassifier
        from .features import encode_features

        if trained_on(read_meta(Path(model)), pairs, data_path):
            info["warning"] = ("the model was trained on these very pairs: its features carry "
                               "their labels and hide errors; audit with the model it was "
                               "adapted from, or --mode finetune")
            logger.warning(info["warning"])
        clf = StanceClassifier.from_pretrained(model, backend=backend, device=device)
        if clf.backend not in ("torch", "torch-bf16"):
            clf = StanceClassifier.from_pretrained(model, backend="torch", device=device)
        feats = encode_features(clf, pairs, batch_size=batch_size, progress=True)
        y = np.array([LABELS.index(p.label) for p in pairs])
        probs = out_of_fold_features(feats.matrix(), y, split, seed=seed)
        info["head"] = "logistic regression, C chosen per fold by cross-validated log-loss"
    else:
        import tempfile

        with tempfile.TemporaryDirectory(dir=work) as tmp:
            probs = out_of_fold_finetune(model, pairs, split, tmp, base=base,
                                         train_options=train_options)
        info["base"] = base or "the model's own encoder"
    return audit(pairs, probs, method=method, info=info)


def trained_on(meta: dict[str, Any], pairs: Sequence[StancePair],
               data_path: str | Path | None) -> bool:
    """Whether a model's ``stancekit.json`` says it was trained on these pairs: its train file
    is ``data_path``, or its train split's fingerprint is theirs."""
    from ..modeldir import fingerprint

    recorded = ((meta.get("data") or {}).get("train") or {}).get("fingerprint")
    train_file = ((meta.get("config") or {}).get("data") or {}).get("train")
    same_file = bool(data_path and train_file) and \
        Path(str(train_file)).resolve() == Path(data_path).resolve()
    return same_file or recorded == fingerprint(pairs)


def write_audit(result: AuditResult, out_dir: str | Path) -> list[Path]:
    """``label_issues.jsonl`` (every pair, ranked) and ``audit.json`` (the summary); returns the
    paths. The HTML report is `stancekit.report.label_audit.write_audit_report`."""
    import json

    from ..fileio import jsonable, replacing

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    with replacing(out / "label_issues.jsonl") as tmp:
        tmp.write_text("".join(json.dumps(jsonable(r), ensure_ascii=False) + "\n"
                               for r in result.rows), encoding="utf-8")
    paths.append(out / "label_issues.jsonl")
    with replacing(out / "audit.json") as tmp:
        tmp.write_text(json.dumps(jsonable(result.summary), indent=2), encoding="utf-8")
    paths.append(out / "audit.json")
    return paths
