"""Training: `train(config) -> model directory` (`stancekit.training.loop`), one fine-tuning
attempt (`stancekit.training.fit`), checkpoints and the run lock
(`stancekit.training.checkpoints`)."""

from __future__ import annotations

from .fit import load_for_training, use_bf16
from .loop import train

__all__ = ["load_for_training", "train", "use_bf16"]
