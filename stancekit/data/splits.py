"""From a `DataConfig` to named splits of pairs: train, dev and the evaluation splits."""

from __future__ import annotations

import logging
import random
from dataclasses import replace

from ..config import DataConfig
from ..errors import ConfigError, DataError
from ..labels import LabelScheme
from .records import StancePair

logger = logging.getLogger(__name__)


def load_splits(cfg: DataConfig, *, with_train: bool = True) -> dict[str, list[StancePair]]:
    """Return ``{"train": [...], "dev": [...], <evaluation splits>...}`` for a data config.

    Without a dev split of its own, ``dev_fraction`` of train is held out, grouped by
    ``doc_id`` and stratified by label, with a fixed seed.
    """
    splits = _load(cfg)
    if "dev" not in splits and "train" in splits and with_train:
        splits["train"], splits["dev"] = carve_dev(splits["train"], cfg.dev_fraction)
    for name, share in cfg.mix.items():
        _mix_in(splits, name, share, cfg.dev_fraction)
    if cfg.hard_negatives and splits.get("train"):
        splits["train"] = splits["train"] + hard_negatives(splits["train"], cfg.hard_negatives)
    if cfg.max_train_examples and len(splits.get("train", ())) > cfg.max_train_examples:
        # a seeded sample, not the head: files are often sorted by label or source
        keep = sorted(random.Random(0).sample(range(len(splits["train"])), cfg.max_train_examples))
        splits["train"] = [splits["train"][i] for i in keep]
    order = ["train", "dev"] + [k for k in splits if k not in ("train", "dev")]
    return {k: splits[k] for k in order if k in splits}


def _load(cfg: DataConfig) -> dict[str, list[StancePair]]:
    if cfg.corpus == "embedded":
        from ..corpus import load_embedded_splits

        return load_embedded_splits(window_negatives=cfg.window_negatives)
    if cfg.corpus == "files":
        if not cfg.train and not cfg.test:
            raise ConfigError("data.corpus is 'files' but neither data.train nor data.test is set")
        from .readers import PairReader

        reader = PairReader(columns=cfg.columns, label_scheme=LabelScheme(cfg.label_scheme),
                            require_label=True, hints="config")
        return {name: reader.read(path) for name, path in
                (("train", cfg.train), ("dev", cfg.dev), ("test", cfg.test)) if path}
    from . import public

    return public.load_public(cfg)


def _mix_in(splits: dict[str, list[StancePair]], name: str, share: float,
            dev_fraction: float) -> None:
    """Add ``share`` of a public corpus's train rows (a seeded sample of whole documents) to
    train, a ``dev_fraction`` of them to dev, and its evaluation splits as ``<name>:<split>``."""
    from .public import mix_splits

    try:
        extra = mix_splits(name)
    except DataError as err:
        logger.warning("data.mix: %s is not available (%s); training without it", name, err)
        return
    docs = sorted({p.doc_id for p in extra["train"]})
    keep = set(random.Random(0).sample(docs, round(share * len(docs))))
    train, dev = carve_dev([p for p in extra["train"] if p.doc_id in keep], dev_fraction)
    logger.info("data.mix: %s adds %d train and %d dev pairs (%.0f%% of its rows)", name,
                len(train), len(dev), 100 * share)
    splits.setdefault("train", []).extend(train)
    splits.setdefault("dev", []).extend(dev)
    for split, pairs in extra.items():
        if split != "train":
            splits[f"{name}:{split}"] = pairs


def hard_negatives(pairs: list[StancePair], share: float, seed: int = 0) -> list[StancePair]:
    """Neutral copies of ``share`` of the support/condemn pairs, each paired with a target of
    another document that its text does not mention by name or content word: the window is
    the same, only the target changed, and the text takes no stance toward that target."""
    from .mentions import content_word_spans, find_spans, surface_forms

    rng = random.Random(seed)
    polar = [p for p in pairs if p.label in ("support", "condemn")]
    targets = sorted({(p.doc_id, p.target) for p in pairs})
    out = []
    for pair in rng.sample(polar, round(share * len(polar))):
        for _ in range(20):
            doc, target = targets[rng.randrange(len(targets))]
            if doc == pair.doc_id or target == pair.actor:
                continue
            if find_spans(pair.text, surface_forms(target)) or \
                    content_word_spans(pair.text, target, taken=pair.actor_spans):
                continue
            out.append(replace(pair, id=f"{pair.id}|negative", target=target, label="neutral",
                               target_spans=(), meta={**pair.meta, "hard_negative": True}))
            break
    logger.info("data.hard_negatives: %d neutral copies of %d support/condemn train pairs",
                len(out), len(polar))
    return out


def carve_dev(pairs: list[StancePair], fraction: float, seed: int = 13
              ) -> tuple[list[StancePair], list[StancePair]]:
    """Hold out about ``fraction`` of ``pairs`` as dev, keeping documents whole."""
    if fraction <= 0 or len(pairs) < 10:
        return pairs, []
    from sklearn.model_selection import StratifiedGroupKFold

    folds = max(2, round(1 / fraction))
    groups = [p.doc_id or p.id for p in pairs]
    labels = [p.label for p in pairs]
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    train_idx, dev_idx = next(splitter.split(pairs, labels, groups))
    return [pairs[i] for i in sorted(train_idx)], [pairs[i] for i in sorted(dev_idx)]
