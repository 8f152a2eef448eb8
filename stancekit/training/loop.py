"""`train(config) -> model directory`: fine-tune an encoder on stance pairs.

What it guards against:
- collapse: fine-tuning small encoders sometimes ends at one-class predictions with no
  error. The best dev checkpoint (macro-F1) is kept, and a run whose best checkpoint
  is no better than the majority class is restarted at half the learning rate.
- lost work: checkpoints go to ``<output_dir>.work/`` and a rerun resumes from them
  (`stancekit.training.checkpoints`).
- half-written output: the model directory is written to a temporary directory and
  renamed into place, so it is either complete or absent (`stancekit.modeldir`).

One attempt (`stancekit.training.fit`) fine-tunes with `transformers.Trainer`, stacks a
TF-IDF model when it helps on dev (`stancekit.stacking`) and fits a temperature on dev.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import modeldir
from ..config import Config
from ..data.frames import to_pairs
from ..data.records import StancePair
from ..data.splits import load_splits
from ..errors import ConfigError, DataError, TrainingCollapsed
from ..fileio import check_outputs, exclusive
from ..metrics import PRIMARY_METRIC, stance_metrics
from ..stacking import why_not_stack
from .checkpoints import check_resumable
from .fit import calibrate, fit

logger = logging.getLogger(__name__)

COLLAPSE_MARGIN = 0.05  # dev macro-F1 must beat the majority class by this much


def train(config: Config, splits: Mapping[str, Any] | None = None, *,
          overwrite: bool = False) -> Path:
    """Fine-tune ``config.model.name_or_path`` and write a self-describing model directory.

    Args:
        config: The resolved configuration.
        splits: Pairs by split name — lists of `StancePair` or dicts, pandas DataFrames or
            ``datasets.Dataset`` objects (columns mapped by ``data.columns``, labels read with
            ``data.label_scheme``); loaded from ``config.data`` when not given. Needs ``train``
            and ``dev`` (dev is carved from train when the data has none).
        overwrite: Replace a model directory already at ``train.output_dir``; without it such
            a directory is refused before anything is trained.

    Returns:
        The model directory, ``config.train.output_dir``.

    Example:
        >>> train(load_config(None, ["train.output_dir=models/mine"]),  # doctest: +SKIP
        ...       {"train": train_df, "dev": dev_df})
    """
    config = with_absolute_paths(config)
    tc = config.train
    out = Path(tc.output_dir)
    if splits is None:
        splits = load_splits(config.data)
    else:
        splits = {name: to_pairs(rows, columns=config.data.columns,
                                 label_scheme=config.data.label_scheme, require_label=True,
                                 hints="config", name=f"split {name!r}")
                  for name, rows in splits.items()}
    train_pairs, dev_pairs = splits.get("train", []), splits.get("dev", [])
    _check_splits(train_pairs, dev_pairs)  # bad data is reported first, then the output
    work = out.with_name(out.name + ".work")
    _check_outputs(config, out, work)
    check_output_dir(out, overwrite=overwrite)  # before any training
    no_stack = why_not_stack(dev_pairs) if tc.stack_lexical else None
    if no_stack:
        logger.warning("%s; training goes on without it", no_stack)
    # Under torchrun/accelerate every process trains; only rank 0 locks and writes.
    main_process = int(os.environ.get("RANK", "0")) == 0
    work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    busy = (f"{work}: another training run is writing this output directory; wait for it or "
            "choose another train.output_dir")
    with exclusive(work / ".lock", busy) if main_process else contextlib.nullcontext():
        check_resumable(work, config, splits) if main_process else None
        majority = Counter(p.label for p in train_pairs).most_common(1)[0][0]
        floor = stance_metrics([p.label for p in dev_pairs],
                               [majority] * len(dev_pairs))[PRIMARY_METRIC]
        smoke = tc.max_steps > 0
        if smoke:
            logger.warning("train.max_steps=%d: a smoke run; the model is written even if it is no "
                           "better than the majority class", tc.max_steps)
        result = None
        for attempt in range(tc.collapse_retries + 1):
            lr = tc.learning_rate / (2**attempt)
            result = fit(config, train_pairs, dev_pairs, work / f"attempt-{attempt}", lr,
                          tc.seed + attempt)
            score = result["dev_metrics"][PRIMARY_METRIC]
            if score > floor + COLLAPSE_MARGIN or smoke:
                break
            logger.warning("attempt %d collapsed: dev macro-F1 %.3f vs majority %.3f (lr %.2g)",
                           attempt, score, floor, lr)
        else:
            raise TrainingCollapsed(
                f"training collapsed: best dev macro-F1 {score:.3f} is no better than the majority "
                f"class ({floor:.3f}) after {tc.collapse_retries + 1} attempt(s); lower "
                "train.learning_rate, add epochs, or check the labels")
        result["calibration"] = calibrate(result, dev_pairs)
        meta = modeldir.describe(config, result, splits, floor, time.time() - started)
        if not main_process:
            return out
        modeldir.write(out, result, meta)
    shutil.rmtree(work, ignore_errors=True)
    logger.info("model written to %s (dev macro-F1 %.3f)", out,
                meta["dev_metrics"]["dev_" + PRIMARY_METRIC])
    return out


def _check_outputs(config: Config, out: Path, work: Path) -> None:
    """Nothing training reads may lie in the directories it writes or replaces: its data files,
    a public corpus folder, a local encoder (a model directory trained further elsewhere)."""
    data = config.data
    encoder = config.model.name_or_path
    reads = [("data.train", data.train), ("data.dev", data.dev), ("data.test", data.test),
             ("data.path", data.path),
             ("model.name_or_path", encoder if Path(encoder).exists() else None)]
    check_outputs((), reads, trees=[("train.output_dir", out),
                                    ("the checkpoints of train.output_dir", work)])


def check_output_dir(out: Path, *, overwrite: bool) -> None:
    """Refuse, before any training, an output that is not a model directory, or one that is
    without ``overwrite``."""
    if modeldir.is_model_dir(out):
        if not overwrite:
            raise ConfigError(f"{out}: a model directory is already there; pass --overwrite "
                              "(Python: train(..., overwrite=True)) to replace it, or choose "
                              "another train.output_dir")
    elif out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"{out}: exists and is not a stancekit model directory; refusing to "
                          "replace it (choose another train.output_dir)")


def with_absolute_paths(config: Config) -> Config:
    """``config`` with its data files (and a local encoder directory) as absolute paths, so that
    the copy kept in ``stancekit.json`` finds them from any working directory."""
    def absolute(value: str | None) -> str | None:
        return str(Path(value).expanduser().resolve()) if value else value

    data = dataclasses.replace(config.data, **{k: absolute(getattr(config.data, k))
                                               for k in ("path", "train", "dev", "test")})
    model = config.model
    if Path(model.name_or_path).expanduser().is_dir():
        model = dataclasses.replace(model, name_or_path=absolute(model.name_or_path))
    return config.replace(data=data, model=model)


def _check_splits(train_pairs: Sequence[StancePair], dev_pairs: Sequence[StancePair]) -> None:
    if not train_pairs:
        raise DataError("the train split is empty; nothing to train on")
    if not dev_pairs:
        raise DataError("the dev split is empty; give data.dev or a data.dev_fraction > 0")
    for name, pairs in (("train", train_pairs), ("dev", dev_pairs)):
        unlabeled = [p.id for p in pairs if p.label is None]
        if unlabeled:
            raise DataError(f"{len(unlabeled)} {name} pairs have no label, e.g. id "
                            f"{unlabeled[0]!r}", field="label")
    if len({p.label for p in train_pairs}) < 2:
        raise DataError(f"the train split has only the label {train_pairs[0].label!r}; "
                        "a classifier needs at least two")
