"""`StanceClassifier`: loads a model directory and predicts stances, fast and in input order.

The predictor has the shape of a transformers pipeline, each step replaceable alone:
`preprocess` (pairs -> tokenized features and length-sorted batches) -> `_forward` (the
backend's logits) -> `postprocess` (temperature, the stacked lexical model, probabilities).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import modeldir
from .calibration import softmax
from .data.frames import table_kind, to_pairs
from .data.records import StancePair
from .encoding import PairFormatter
from .errors import ConfigError, quote
from .labels import LABELS, LabelScheme
from .stacking import lexical_texts, stack

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prediction:
    """A predicted stance with the probability of each label.

    ``abstained`` is True when the top probability fell below the caller's ``abstain_below``:
    the label is still the model's best guess, flagged as too unsure to rely on.
    """

    label: str
    probs: dict[str, float]
    id: str | None = None
    abstained: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "label": self.label, "probs": self.probs}
        if self.abstained:
            out["abstained"] = True
        return out


def check_abstain_below(value: float | None, *, name: str = "abstain_below") -> None:
    """The one check of an abstention threshold (library argument and CLI flag alike)."""
    if value is not None and not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name}: expected a probability in [0, 1], found {quote(value)}")


class StanceClassifier:
    """A fine-tuned stance model, loaded only from its self-describing directory.

    Example:
        >>> clf = StanceClassifier.from_pretrained("models/default")  # doctest: +SKIP
        >>> clf.predict([StancePair(id="1", actor="Saudi Arabia", target="the offensive",
        ...     text="Riyadh urged both sides to exercise maximum restraint.")])  # doctest: +SKIP
        [Prediction(label='neutral', probs={...}, id='1')]
    """

    def __init__(self, model: Any, tokenizer: Any, formatter: PairFormatter, meta: dict[str, Any],
                 *, lexical: Any = None, path: Path | None = None, device: Any = "cpu",
                 backend: str = "torch") -> None:
        import torch

        self.model, self.tokenizer, self.formatter, self.meta = model, tokenizer, formatter, meta
        self.lexical, self.path = lexical, path
        self.device, self.backend = torch.device(device), backend
        self.temperature = float(meta.get("temperature", 1.0))
        self.stacker = meta.get("stacker")

    @classmethod
    def from_pretrained(cls, path: str | Path, *, backend: str = "auto",
                        device: Any = None) -> StanceClassifier:
        """Load a model directory written by `stancekit.training.train` or `save_pretrained`
        (`stancekit.modeldir`), or a Hugging Face hub id of one (downloaded once, then loaded
        as a directory).

        Args:
            path: The model directory, or a hub id such as ``"owner/stance-model"``.
            backend: ``auto`` (default: ``torch-bf16`` where the device runs bf16 fast, else
                ``torch``), ``torch`` (fp32), ``torch-bf16``, ``torch-int8`` (CPU: dynamic int8
                quantisation of Linear layers), ``onnx`` or ``onnx-int8`` (ONNX Runtime; the
                exported graph is cached in the model directory, see `stancekit.backends`).
            device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``; default: the best available.
        """
        from .backends import load_backend, resolve_backend
        from .hardware import resolve_device
        from .hub import locate

        dev = resolve_device(device)
        concrete = resolve_backend(backend, dev)
        path = locate(path)
        model, tokenizer, meta, lexical = modeldir.load(path)
        formatter = PairFormatter(meta.pop("encoding_config"))
        model = load_backend(concrete, path, model, tokenizer, dev)
        return cls(model, tokenizer, formatter, meta, lexical=lexical, path=path,
                   device="cpu" if concrete.startswith("onnx") else dev, backend=concrete)

    def save_pretrained(self, path: str | Path, *, name: str | None = None,
                        license: str | None = None) -> Path:
        """Write this model as a complete model directory (weights, tokenizer,
        ``stancekit.json``, and a model card with the hub's metadata header) that
        `from_pretrained` loads. An existing model directory there is replaced; any other
        non-empty path is refused.

        Args:
            name: The model's name in the card (e.g. the hub id it will have).
            license: The card's licence (default: ``apache-2.0``, or ``other`` when the model
                learnt from a corpus whose licence restricts use).
        """
        return modeldir.save(path, model=self.model if self.backend == "torch" else None,
                             tokenizer=self.tokenizer, meta=self.meta, lexical=self.lexical,
                             source=self.path, name=name, license=license)

    def push_to_hub(self, repo_id: str, *, private: bool = False, token: str | None = None,
                    license: str | None = None,
                    commit_message: str = "Upload stancekit model") -> Any:
        """Save the model (`save_pretrained`) and upload it to the Hugging Face hub as
        ``repo_id``; anyone can then load it with ``StanceClassifier.from_pretrained(repo_id)``.
        Needs ``huggingface_hub`` and a token (``token=`` or ``huggingface-cli login``)."""
        import tempfile

        from .hub import push

        with tempfile.TemporaryDirectory(prefix="stancekit-push-") as tmp:
            folder = self.save_pretrained(Path(tmp) / "model", name=repo_id, license=license)
            return push(folder, repo_id, private=private, token=token,
                        commit_message=commit_message)

    # -- prediction ---------------------------------------------------------------------------
    def predict(self, inputs: Any, *, batch_size: int = 64, max_tokens: int = 8192,
                progress: bool = False, abstain_below: float | None = None,
                columns: Mapping[str, str] | None = None,
                label_scheme: str | Mapping[str, str] | LabelScheme = "stancekit") -> Any:
        """Predict the stance of each pair, in input order.

        Args:
            inputs: `StancePair` objects or dicts with ``actor``, ``target``, ``text`` (a list
                of `Prediction` comes back), or a pandas ``DataFrame`` or ``datasets.Dataset``
                with those columns (the same type comes back, its columns kept, with
                ``pred_label``, ``prob_support``, ``prob_neutral``, ``prob_condemn`` added, and
                ``abstained`` with ``abstain_below``; a ``label`` column, the gold label of
                evaluation data, is left alone).
            abstain_below: Flag a prediction ``abstained`` when its top probability is below
                this; the label is kept (never turned into ``neutral``). `stancekit evaluate`
                reports the threshold that reaches a chosen precision on dev.
            columns: Maps fields to other column names, e.g. ``{"text": "sentence"}``.
            label_scheme: How labels in the input are read (they are checked, not used).

        Example:
            >>> df = pd.read_csv("pairs.csv")  # doctest: +SKIP
            >>> clf.predict(df)[["actor", "target", "pred_label", "prob_condemn"]]  # doctest: +SKIP
        """
        check_abstain_below(abstain_below)
        pairs = to_pairs(inputs, columns=columns, label_scheme=label_scheme)
        probs = self.predict_proba(pairs, batch_size=batch_size, max_tokens=max_tokens,
                                   progress=progress)
        preds = [Prediction(label=LABELS[int(row.argmax())],
                            probs={lab: round(float(p), 6) for lab, p in zip(LABELS, row)},
                            id=pair.id,
                            abstained=abstain_below is not None
                            and float(row.max()) < abstain_below)
                 for pair, row in zip(pairs, probs)]
        if table_kind(inputs):
            return with_predictions(inputs, preds, abstain=abstain_below is not None)
        return preds

    def predict_proba(self, inputs: Any, *, batch_size: int = 64, max_tokens: int = 8192,
                      progress: bool = False, columns: Mapping[str, str] | None = None,
                      label_scheme: str | Mapping[str, str] | LabelScheme = "stancekit"
                      ) -> np.ndarray:
        """Probabilities in the order of ``LABELS``, one row per pair, in input order. Takes
        what `predict` takes (pairs, dicts, a ``DataFrame``, a ``Dataset``)."""
        pairs = to_pairs(inputs, columns=columns, label_scheme=label_scheme)
        logits = self.logits(pairs, batch_size=batch_size, max_tokens=max_tokens, progress=progress)
        return self.postprocess(logits, pairs)

    def logits(self, pairs: Sequence[StancePair], *, batch_size: int = 64, max_tokens: int = 8192,
               progress: bool = False) -> np.ndarray:
        """Raw model logits, batched by length under a token budget, in input order."""
        if not pairs:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        features, batches = self.preprocess(pairs, batch_size=batch_size, max_tokens=max_tokens)
        out = np.zeros((len(pairs), len(LABELS)), dtype=np.float32)
        bar = _progress(len(pairs), progress)
        for idx in batches:
            out[idx] = self._forward([features[i] for i in idx])
            bar.update(len(idx))
        bar.close()
        return out

    # -- the three steps ------------------------------------------------------------------------
    def preprocess(self, pairs: Sequence[StancePair], *, batch_size: int = 64,
                   max_tokens: int = 8192) -> tuple[list[dict[str, Any]], list[list[int]]]:
        """Tokenized features of each pair, and the indices of each length-sorted batch."""
        return self.formatter.batches(self.tokenizer, pairs, batch_size=batch_size,
                                      max_tokens=max_tokens)

    def _forward(self, features: Sequence[dict[str, Any]]) -> np.ndarray:
        """The backend's logits of one batch of features."""
        import torch

        batch = self.tokenizer.pad(list(features), return_tensors="pt").to(self.device)
        with torch.inference_mode():
            return self.model(**batch).logits.float().cpu().numpy()

    def postprocess(self, logits: np.ndarray, pairs: Sequence[StancePair], *,
                    calibrated: bool = True) -> np.ndarray:
        """What the model returns for these logits; ``calibrated=False`` skips the fitted
        temperatures (the evaluator's "before calibration")."""
        probs = softmax(logits, self.temperature if calibrated else 1.0, dtype=None)
        if self.stacker and self.lexical is not None and len(pairs):
            lex = self.lexical.predict_proba(lexical_texts(self.formatter, pairs))
            probs = stack(probs, lex, self.stacker, calibrated=calibrated)
        return probs


def with_predictions(table: Any, preds: Sequence[Prediction], *, abstain: bool) -> Any:
    """A copy of a ``DataFrame`` or ``Dataset`` with the prediction columns added (replaced
    when they are there already, as when a table is predicted twice)."""
    new: dict[str, list[Any]] = {"pred_label": [p.label for p in preds]}
    new.update({f"prob_{lab}": [p.probs[lab] for p in preds] for lab in LABELS})
    if abstain:
        new["abstained"] = [p.abstained for p in preds]
    if table_kind(table) == "DataFrame":
        return table.assign(**new)
    stale = [c for c in new if c in table.column_names]
    table = table.remove_columns(stale) if stale else table
    for name, values in new.items():
        table = table.add_column(name, values)
    return table


class _NoBar:
    def update(self, n: int) -> None: ...
    def close(self) -> None: ...


def _progress(total: int, enabled: bool) -> Any:
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="pair", desc="predicting")
