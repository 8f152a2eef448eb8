"""Frozen features of a model: the encoder's first-token vector and the logits, one forward pass.

The label audit's default cross-validation and the active-learning simulation train a logistic
regression on these instead of fine-tuning the transformer once per fold or round: one pass
over the pairs, then seconds per fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..data.records import StancePair
from ..errors import ModelError


@dataclass(frozen=True)
class Features:
    """``embeddings``: the last layer's first-token vector (what the classification head
    reads), float32, one row per pair; ``logits``: the model's raw logits for the same pairs."""

    embeddings: np.ndarray
    logits: np.ndarray

    def matrix(self, *, with_logits: bool = True) -> np.ndarray:
        """The feature matrix a linear head is fitted on: the embeddings, and the logits."""
        return np.hstack([self.embeddings, self.logits]) if with_logits else self.embeddings


def encode_features(clf, pairs: Sequence[StancePair], *, batch_size: int = 64,
                    max_tokens: int = 8192, progress: bool = False) -> Features:
    """The frozen features of ``pairs`` under a `StanceClassifier` on a torch backend (fp32 or
    bf16), in input order."""
    import torch

    if not clf.backend.startswith("torch") or clf.backend == "torch-int8":
        raise ModelError(f"features need the torch or torch-bf16 backend, not {clf.backend!r}")
    n = len(pairs)
    if not n:
        return Features(np.zeros((0, 0), dtype=np.float32), np.zeros((0, 3), dtype=np.float32))
    features, batches = clf.preprocess(pairs, batch_size=batch_size, max_tokens=max_tokens)
    emb: np.ndarray | None = None
    logits = np.zeros((n, 3), dtype=np.float32)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, unit="pair", desc="features")
    with torch.inference_mode():
        for idx in batches:
            batch = clf.tokenizer.pad([features[i] for i in idx], return_tensors="pt")
            batch = batch.to(clf.device)
            out = clf.model(**batch, output_hidden_states=True)
            first = out.hidden_states[-1][:, 0].float().cpu().numpy()
            if emb is None:
                emb = np.zeros((n, first.shape[1]), dtype=np.float32)
            emb[idx] = first
            logits[idx] = out.logits.float().cpu().numpy()
            if bar is not None:
                bar.update(len(idx))
    if bar is not None:
        bar.close()
    return Features(emb, logits)
