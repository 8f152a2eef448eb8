"""`train(config) -> model directory`: fine-tune an encoder on stance pairs with `transformers.Trainer`.

What it guards against:
- collapse: fine-tuning small encoders sometimes ends at one-class predictions with no
  error. The best dev checkpoint (macro-F1) is kept, and a run whose best checkpoint
  is no better than the majority class is restarted at half the learning rate.
- lost work: checkpoints go to ``<output_dir>.work/`` and a rerun resumes from them.
- half-written output: the model directory is written to a temporary directory and
  renamed into place, so it is either complete or absent.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .config import Config
from .data.records import StancePair
from .data.sources import load_splits
from .encoders import resolve_encoder
from .encoding import PairEncoder
from .errors import DataError, ModelError, StanceKitError
from .labels import ID2LABEL, LABEL2ID, LABELS
from .metrics import PRIMARY_METRIC, stance_metrics
from .prediction import LEXICAL_FILE, META_FILE, StanceClassifier, lexical_texts

logger = logging.getLogger(__name__)

COLLAPSE_MARGIN = 0.05  # dev macro-F1 must beat the majority class by this much


class TrainingCollapsed(StanceKitError):
    """Every attempt ended no better than predicting the majority class."""


def train(config: Config, splits: dict[str, list[StancePair]] | None = None) -> Path:
    """Fine-tune ``config.model.name_or_path`` and write a self-describing model directory.

    Args:
        config: The resolved configuration.
        splits: Pairs by split name; loaded from ``config.data`` when not given. Needs
            ``train`` and ``dev`` (dev is carved from train when the data has none).

    Returns:
        The model directory, ``config.train.output_dir``.
    """
    tc = config.train
    splits = splits if splits is not None else load_splits(config.data)
    train_pairs, dev_pairs = splits.get("train", []), splits.get("dev", [])
    _check_splits(train_pairs, dev_pairs)
    out = Path(tc.output_dir)
    if out.exists() and not (out / META_FILE).is_file() and \
            (not out.is_dir() or any(out.iterdir())):
        raise StanceKitError(f"{out}: exists and is not a stancekit model directory; refusing to "
                             "replace it (choose another train.output_dir)")
    work = out.with_name(out.name + ".work")
    # Under torchrun/accelerate every process trains; only rank 0 locks and writes.
    main_process = int(os.environ.get("RANK", "0")) == 0
    work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    with _exclusive(work / ".lock") if main_process else contextlib.nullcontext():
        _check_resumable(work, config, splits) if main_process else None
        majority = Counter(p.label for p in train_pairs).most_common(1)[0][0]
        floor = stance_metrics([p.label for p in dev_pairs], [majority] * len(dev_pairs))[PRIMARY_METRIC]
        result = None
        for attempt in range(tc.collapse_retries + 1):
            lr = tc.learning_rate / (2**attempt)
            result = _fit(config, train_pairs, dev_pairs, work / f"attempt-{attempt}", lr,
                          tc.seed + attempt)
            score = result["dev_metrics"][PRIMARY_METRIC]
            if score > floor + COLLAPSE_MARGIN:
                break
            logger.warning("attempt %d collapsed: dev macro-F1 %.3f vs majority %.3f (lr %.2g)",
                           attempt, score, floor, lr)
        else:
            raise TrainingCollapsed(
                f"training collapsed: best dev macro-F1 {score:.3f} is no better than the majority "
                f"class ({floor:.3f}) after {tc.collapse_retries + 1} attempt(s); lower "
                "train.learning_rate, add epochs, or check the labels")
        result["calibration"] = _calibrate(result, dev_pairs)
        meta = _describe(config, result, splits, floor, time.time() - started)
        if not main_process:
            return out
        _write_atomically(out, result, meta)
    shutil.rmtree(work, ignore_errors=True)
    logger.info("model written to %s (dev macro-F1 %.3f)", out,
                meta["dev_metrics"]["dev_" + PRIMARY_METRIC])
    return out


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


def load_for_training(config: Config) -> tuple[Any, Any, PairEncoder]:
    """The tokenizer and classification model of ``config.model``, with the actor/target
    marker tokens added (embeddings resized), and the pair encoder of ``config.encoding``."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    source = resolve_encoder(config.model.name_or_path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False)
        model = AutoModelForSequenceClassification.from_pretrained(
            source, num_labels=len(LABELS), id2label=ID2LABEL, label2id=LABEL2ID,
            ignore_mismatched_sizes=True, use_safetensors=True, trust_remote_code=False)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load the encoder {config.model.name_or_path!r} ({source}): {exc}. "
                         "Use a local directory, an installed packaged encoder "
                         "('packaged:all-MiniLM-L6-v2'), or a hub name with network access") from None
    encoder = PairEncoder(config.encoding)
    if encoder.marker_tokens:
        tokenizer.add_tokens(encoder.marker_tokens, special_tokens=True)
        model.resize_token_embeddings(len(tokenizer))
    return tokenizer, model, encoder


def _fit(config: Config, train_pairs: list[StancePair], dev_pairs: list[StancePair], work: Path,
         learning_rate: float, seed: int) -> dict[str, Any]:
    import torch
    from transformers import (
        DataCollatorWithPadding,
        EarlyStoppingCallback,
        TrainingArguments,
        set_seed,
    )

    tc = config.train
    set_seed(seed)
    tokenizer, model, encoder = load_for_training(config)
    train_ds = encoder.dataset(tokenizer, train_pairs)
    dev_ds = encoder.dataset(tokenizer, dev_pairs)

    bf16 = use_bf16(tc.precision)
    if bf16:
        logger.info("training in bf16 mixed precision (train.precision=%s)", tc.precision)
    steps_per_epoch = math.ceil(len(train_ds) / tc.batch_size)
    eval_steps = max(1, steps_per_epoch // tc.evals_per_epoch)
    args = TrainingArguments(
        output_dir=str(work), num_train_epochs=tc.epochs, max_steps=tc.max_steps,
        learning_rate=learning_rate, per_device_train_batch_size=tc.batch_size,
        per_device_eval_batch_size=tc.eval_batch_size, warmup_steps=tc.warmup,
        weight_decay=tc.weight_decay, lr_scheduler_type="linear",
        eval_strategy="steps", eval_steps=eval_steps, save_strategy="steps", save_steps=eval_steps,
        save_total_limit=2, load_best_model_at_end=True, metric_for_best_model=PRIMARY_METRIC,
        greater_is_better=True, logging_steps=max(1, eval_steps // 4), report_to="none",
        seed=seed, data_seed=seed, use_cpu=not torch.cuda.is_available(),
        train_sampling_strategy="group_by_length" if tc.group_by_length else "random",
        disable_tqdm=not sys.stderr.isatty() and os.environ.get("STANCEKIT_PROGRESS") != "1",
        dataloader_num_workers=0, bf16=bf16,
    )
    weights = None
    if tc.class_weights == "balanced":
        counts = Counter(p.label for p in train_pairs)
        weights = torch.tensor([len(train_pairs) / (len(counts) * counts[lab]) if counts[lab] else 1.0
                                for lab in LABELS], dtype=torch.float32)
    trainer = _make_weighted_trainer()(
        class_weights=weights, model=model, args=args, train_dataset=train_ds,
        eval_dataset=dev_ds, processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer), compute_metrics=_trainer_metrics,
        callbacks=[EarlyStoppingCallback(early_stopping_patience=tc.early_stopping_patience)]
        if tc.early_stopping_patience else [],
    )
    resume = _last_checkpoint(work) if tc.resume else None
    if resume:
        logger.info("resuming from %s", resume)
    trainer.train(resume_from_checkpoint=resume)
    model = trainer.model.eval()
    clf = StanceClassifier(model, tokenizer, encoder, {"encoding": encoder.to_dict()})
    dev_logits = clf.logits(dev_pairs, batch_size=tc.eval_batch_size)
    dev_probs = clf.probs_from_logits(dev_logits, dev_pairs)
    dev_true = [p.label for p in dev_pairs]
    dev_metrics = stance_metrics(dev_true, [LABELS[i] for i in dev_probs.argmax(1)])
    result: dict[str, Any] = {"model": model, "tokenizer": tokenizer, "encoder": encoder,
                              "dev_metrics": dev_metrics, "learning_rate": learning_rate,
                              "seed": seed, "dev_logits": dev_logits, "stacker": None,
                              "lexical": None, "log_history": trainer.state.log_history,
                              "steps": trainer.state.global_step}
    if tc.stack_lexical:
        _fit_stacker(result, train_pairs, dev_pairs, dev_probs)
    return result


def _fit_stacker(result: dict[str, Any], train_pairs: list[StancePair], dev_pairs: list[StancePair],
                 dev_probs: np.ndarray) -> None:
    """Stack the transformer with a TF-IDF model, fitted on dev (never on an evaluation split).

    The stacked model's dev score comes from 5-fold cross-validation on dev, and it is
    kept only when that beats the transformer alone.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    from .baselines import TfidfBaseline

    encoder = result["encoder"]
    lexical = TfidfBaseline().fit(lexical_texts(encoder, train_pairs), [p.label for p in train_pairs])
    lex_dev = lexical.predict_proba(lexical_texts(encoder, dev_pairs))
    x = np.log(np.clip(np.hstack([dev_probs, lex_dev]), 1e-6, 1.0))
    y = np.array([LABEL2ID[p.label] for p in dev_pairs])
    if len(set(y)) < len(LABELS):
        logger.warning("dev lacks a label; not stacking")
        return
    stacker = LogisticRegression(C=1.0, max_iter=1000)
    cv_logits = cross_val_predict(stacker, x, y, cv=5, method="decision_function")
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


def _calibrate(result: dict[str, Any], dev_pairs: Sequence[StancePair]) -> dict[str, Any]:
    """Temperature scaling of what the model returns, fitted on dev (`stancekit.calibration`).

    Without a stacker the transformer's logits are scaled (``meta["temperature"]``). With one,
    the stacker's output is what predictions return, so the stacker's logits are scaled
    (``meta["stacker"]["temperature"]``), fitted on its out-of-fold dev logits because the
    stacker itself was fitted on dev; the transformer's temperature stays 1, the input the
    stacker was fitted on.
    """
    from .calibration import TemperatureScaling

    y = [p.label for p in dev_pairs]
    if result["stacker"] is not None:
        fit = TemperatureScaling.fit(result["stack_dev_logits"], y)
        result["stacker"]["temperature"] = fit.temperature
        applies_to = "stacker"
    else:
        fit = TemperatureScaling.fit(result["dev_logits"], y)
        result["temperature"] = fit.temperature
        applies_to = "transformer"
    logger.info("temperature scaling of the %s on dev: T=%.3f, ECE %.4f -> %.4f, NLL %.4f -> %.4f",
                applies_to, fit.temperature, fit.ece_before, fit.ece_after, fit.nll_before,
                fit.nll_after)
    return {"applies_to": applies_to, "split": "dev", **fit.to_dict()}


def use_bf16(precision: str) -> bool:
    """Whether training runs in bf16 mixed precision: ``auto`` picks it where the hardware has
    fast bf16 (a CUDA GPU that supports it, or a CPU with AVX512-BF16 or AMX; about 2x faster
    training of all-mpnet-base-v2 on an AVX512-BF16 CPU), and fp32 elsewhere."""
    import torch

    if precision != "auto":
        return precision == "bf16"
    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


def _make_weighted_trainer() -> type:
    import torch
    from transformers import Trainer

    class WeightedTrainer(Trainer):
        """`Trainer` with optional class-weighted cross-entropy."""

        def __init__(self, *args: Any, class_weights: torch.Tensor | None = None, **kw: Any):
            super().__init__(*args, **kw)
            self.class_weights = class_weights

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            if self.class_weights is None:
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            labels = inputs.pop("labels")
            outputs = model(**inputs)
            loss = torch.nn.functional.cross_entropy(
                outputs.logits, labels, weight=self.class_weights.to(outputs.logits.device))
            return (loss, outputs) if return_outputs else loss

    return WeightedTrainer


def _trainer_metrics(eval_pred: Any) -> dict[str, float]:
    logits, label_ids = eval_pred
    y_pred = [LABELS[i] for i in np.asarray(logits).argmax(axis=1)]
    y_true = [LABELS[i] for i in np.asarray(label_ids)]
    m = stance_metrics(y_true, y_pred)
    return {k: v for k, v in m.items() if isinstance(v, float)}


def _last_checkpoint(work: Path) -> str | None:
    """The newest complete checkpoint: one a kill cut half-written has no trainer_state.json,
    which the Trainer writes last."""
    if not work.is_dir():
        return None
    done = [p for p in work.glob("checkpoint-*")
            if p.name.split("-")[-1].isdigit() and (p / "trainer_state.json").is_file()]
    return str(max(done, key=lambda p: int(p.name.split("-")[-1]))) if done else None


def _check_resumable(work: Path, config: Config, splits: dict[str, list[StancePair]]) -> None:
    """Checkpoints are resumed only by the run that wrote them: same config, same data.
    Anything else in the work directory is cleared (with a warning) before training."""
    job = {"config": config.to_dict(), "data": {k: fingerprint(v) for k, v in splits.items()
                                                if k in ("train", "dev")}}
    record = work / "job.json"
    if record.is_file():
        try:
            same = json.loads(record.read_text(encoding="utf-8")) == json.loads(json.dumps(job))
        except (OSError, ValueError):
            same = False
        if same:
            return
    stale = [p for p in work.iterdir() if p.name not in (".lock", "job.json")]
    if stale:
        logger.warning("%s holds checkpoints of another config or data; starting afresh", work)
        for p in stale:
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    record.write_text(json.dumps(job), encoding="utf-8")


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Refuse a second run writing to the same output directory at the same time."""
    import fcntl

    fh = open(lock_path, "w")  # noqa: SIM115
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise StanceKitError(f"{lock_path.parent}: another training run is writing this output "
                             "directory; wait for it or choose another train.output_dir") from None
    try:
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def fingerprint(pairs: Sequence[StancePair]) -> str:
    h = hashlib.sha256()
    for p in pairs:
        h.update("\x1f".join([p.id, p.actor, p.target, p.text, p.label or ""]).encode("utf-8"))
        h.update(b"\x1e")
    return h.hexdigest()[:16]


def _describe(config: Config, result: dict[str, Any], splits: dict[str, list[StancePair]],
              floor: float, seconds: float) -> dict[str, Any]:
    import datasets
    import sklearn
    import torch
    import transformers

    from . import __version__

    return {
        "format_version": 1,
        "stancekit_version": __version__,
        "labels": list(LABELS),
        "encoding": result["encoder"].to_dict(),
        "config": config.to_dict(),
        "label_scheme": config.data.label_scheme,
        "encoder": config.model.name_or_path,
        "data": {name: {"n": len(pairs), "fingerprint": fingerprint(pairs),
                        "labels": dict(Counter(p.label for p in pairs))}
                 for name, pairs in splits.items()},
        "dev_metrics": {f"dev_{k}": v for k, v in result["dev_metrics"].items()},
        "dev_majority_f1_macro": floor,
        "learning_rate": result["learning_rate"],
        "seed": result["seed"],
        "steps": result["steps"],
        "train_seconds": round(seconds, 1),
        "temperature": result.get("temperature", 1.0),
        "calibration": result.get("calibration"),
        "stacker": result["stacker"],
        "stack_report": result.get("stack_report"),
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                     "transformers": transformers.__version__, "datasets": datasets.__version__,
                     "scikit-learn": sklearn.__version__},
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def write_model_card(path: Path, meta: dict[str, Any]) -> None:
    m = meta["dev_metrics"]
    lines = [
        "# stancekit model", "",
        f"Fine-tuned from `{meta['encoder']}` to classify an actor's stance toward a target as "
        f"{', '.join(f'`{x}`' for x in meta['labels'])}.", "",
        "## Data", "", "| split | pairs | fingerprint | labels |", "|---|---|---|---|",
        *[f"| {k} | {v['n']} | `{v['fingerprint']}` | {v['labels']} |" for k, v in meta["data"].items()],
        "", "## Dev metrics (model selection)", "",
        f"- macro-F1: {m['dev_f1_macro']:.4f} (majority class: {meta['dev_majority_f1_macro']:.4f})",
        f"- F_avg (support, condemn): {m['dev_f_avg']:.4f}",
        f"- accuracy: {m['dev_accuracy']:.4f}",
        *[f"- F1 {lab}: {m[f'dev_f1_{lab}']:.4f}" for lab in meta["labels"]],
        "", "## Training", "",
        f"- learning rate {meta['learning_rate']:g}, seed {meta['seed']}, {meta['steps']} steps, "
        f"{meta['train_seconds']:.0f} s",
        f"- stacked with TF-IDF + LR: {'yes' if meta['stacker'] else 'no'}",
        *_calibration_lines(meta.get("calibration")),
        f"- versions: {meta['versions']}", "",
        "Load it with `stancekit.StanceClassifier.from_pretrained(<this directory>)`.", "",
    ]
    (path / "README.md").write_text("\n".join(lines), encoding="utf-8")


def _calibration_lines(cal: dict[str, Any] | None) -> list[str]:
    if not cal:
        return []
    return [f"- temperature scaling of the {cal['applies_to']}, fitted on dev: "
            f"T = {cal['temperature']:.3f}; ECE (15 bins) {cal['ece_before']:.4f} -> "
            f"{cal['ece_after']:.4f}, NLL {cal['nll_before']:.4f} -> {cal['nll_after']:.4f}"]


def _write_atomically(out: Path, result: dict[str, Any], meta: dict[str, Any]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        result["model"].save_pretrained(tmp, safe_serialization=True)
        result["tokenizer"].save_pretrained(tmp)
        if result["lexical"] is not None:
            result["lexical"].save(tmp / LEXICAL_FILE)
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        write_model_card(tmp, meta)
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        if out.exists():
            os.rename(out, old)
        os.rename(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
