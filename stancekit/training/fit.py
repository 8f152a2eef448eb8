"""One fine-tuning attempt with `transformers.Trainer`: the encoder with marker tokens,
class-weighted loss, bf16 where the hardware has it, the best dev checkpoint, then the
stacked lexical model and temperature scaling, both fitted on dev."""

from __future__ import annotations

import logging
import math
import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..calibration import softmax
from ..config import Config
from ..data.records import StancePair
from ..encoding import PairFormatter
from ..errors import ModelError
from ..hardware import fast_bf16
from ..labels import ID2LABEL, LABEL2ID, LABELS
from ..metrics import PRIMARY_METRIC, stance_metrics
from ..pretrained import quiet_transformers, resolve_encoder
from ..stacking import fit_stacker
from .checkpoints import last_checkpoint

logger = logging.getLogger(__name__)


def load_for_training(config: Config) -> tuple[Any, Any, PairFormatter]:
    """The tokenizer and classification model of ``config.model``, with the actor/target
    marker tokens added (embeddings resized), and the pair formatter of ``config.encoding``."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    source = resolve_encoder(config.model.name_or_path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False)
        with quiet_transformers():  # its report lists the new head as "missing": by design
            model = AutoModelForSequenceClassification.from_pretrained(
                source, num_labels=len(LABELS), id2label=ID2LABEL, label2id=LABEL2ID,
                ignore_mismatched_sizes=True, use_safetensors=True, trust_remote_code=False)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load the encoder {config.model.name_or_path!r} ({source}): {exc}. "
                         "Use a local directory, an installed packaged encoder "
                         "('packaged:all-MiniLM-L6-v2'), or a hub name with network access") from None
    formatter = PairFormatter(config.encoding)
    if formatter.marker_tokens:
        tokenizer.add_tokens(formatter.marker_tokens, special_tokens=True)
        with quiet_transformers():  # new rows start at the mean embedding: what we want
            model.resize_token_embeddings(len(tokenizer))
    logger.info("encoder %s with a new %d-label head%s", config.model.name_or_path, len(LABELS),
                f" and the marker tokens {formatter.marker_tokens}" if formatter.marker_tokens
                else "")
    return tokenizer, model, formatter


def fit(config: Config, train_pairs: list[StancePair], dev_pairs: list[StancePair], work: Path,
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
    tokenizer, model, formatter = load_for_training(config)
    apply_speedups(model, freeze_layers=tc.freeze_layers, dropout=tc.dropout)
    train_ds = formatter.dataset(tokenizer, train_pairs)
    dev_ds = formatter.dataset(tokenizer, dev_pairs)

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
    resume = last_checkpoint(work) if tc.resume else None
    if resume:
        logger.info("resuming from %s", resume)
    trainer.train(resume_from_checkpoint=resume)
    model = trainer.model.eval()
    dev_logits = formatter.logits(model, tokenizer, dev_pairs, batch_size=tc.eval_batch_size)
    dev_probs = softmax(dev_logits, dtype=None)
    dev_true = [p.label for p in dev_pairs]
    dev_metrics = stance_metrics(dev_true, [LABELS[i] for i in dev_probs.argmax(1)])
    result: dict[str, Any] = {"model": model, "tokenizer": tokenizer, "formatter": formatter,
                              "dev_metrics": dev_metrics, "learning_rate": learning_rate,
                              "seed": seed, "dev_logits": dev_logits, "stacker": None,
                              "lexical": None, "log_history": trainer.state.log_history,
                              "steps": trainer.state.global_step}
    if tc.stack_lexical:
        fit_stacker(result, train_pairs, dev_pairs, dev_probs)
    return result


def calibrate(result: dict[str, Any], dev_pairs: Sequence[StancePair]) -> dict[str, Any]:
    """Temperature scaling of what the model returns, fitted on dev (`stancekit.calibration`).

    Without a stacker the transformer's logits are scaled (``meta["temperature"]``). With one,
    the stacker's output is what predictions return, so the stacker's logits are scaled
    (``meta["stacker"]["temperature"]``), fitted on its out-of-fold dev logits because the
    stacker itself was fitted on dev; the transformer's temperature stays 1, the input the
    stacker was fitted on.
    """
    from ..calibration import TemperatureScaling

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


def apply_speedups(model: Any, *, freeze_layers: int = -1, dropout: float = -1.0) -> Any:
    """Training-speed options (``scripts/benchmark_training.py`` measures them), in place.

    ``freeze_layers >= 0`` freezes the embeddings (the added marker rows keep their
    mean-resized initialisation) and the ``freeze_layers`` lowest encoder layers: no gradients,
    no optimizer state, no backward pass below the lowest trained layer (6 of 12 layers of
    all-mpnet-base-v2: 1.56x in CPU time). ``dropout >= 0`` sets every dropout to that
    probability; 0 skips the slow CPU dropout RNG (1.28x). Both are off by default: one short
    dev check cost 3 points of macro-F1 with both on.
    """
    import torch

    if freeze_layers >= 0:
        base = model.base_model
        layers = base.encoder.layer
        if freeze_layers > len(layers):
            raise ModelError(f"train.freeze_layers={freeze_layers}: the encoder has only "
                             f"{len(layers)} layers")
        for part in (base.embeddings, *layers[:freeze_layers]):
            for p in part.parameters():
                p.requires_grad_(False)
    if dropout >= 0:
        for module in model.modules():
            if isinstance(module, torch.nn.Dropout):
                module.p = dropout
    return model


def use_bf16(precision: str) -> bool:
    """Whether training runs in bf16 mixed precision: ``auto`` picks it where the hardware has
    fast bf16 (`stancekit.hardware.fast_bf16`: a CUDA GPU that supports it, or a CPU with
    AVX512-BF16 or AMX), and fp32 elsewhere."""
    import torch

    if precision != "auto":
        return precision == "bf16"
    return fast_bf16("cuda" if torch.cuda.is_available() else "cpu")


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
