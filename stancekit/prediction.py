"""`StanceClassifier`: loads a model directory and predicts stances, fast and in input order."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .data.records import StancePair
from .encoding import PairEncoder
from .errors import ConfigError, DataError, ModelError
from .labels import LABELS

logger = logging.getLogger(__name__)

META_FILE = "stancekit.json"
LEXICAL_FILE = "lexical.json"
REQUIRED_FILES = (META_FILE, "config.json", "model.safetensors")
# save_pretrained writes tokenizer_config.json and one of these; without them transformers
# quietly builds an empty tokenizer and the model predicts from [UNK] alone
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model",
                   "sentencepiece.bpe.model", "tokenizer.model")
BACKENDS = ("torch", "torch-int8", "onnx", "onnx-int8")


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


def check_model_dir(path: str | Path) -> Path:
    """Raise a `ModelError` unless ``path`` is a complete stancekit model directory."""
    path = Path(path)
    if not path.is_dir():
        raise ModelError(f"{path}: model directory not found; train one with "
                         "`stancekit train --config configs/default.yaml`")
    missing = [f for f in REQUIRED_FILES if not (path / f).is_file()]
    if missing:
        raise ModelError(f"{path}: not a complete stancekit model directory; missing {missing}")
    if not (path / "tokenizer_config.json").is_file() or \
            not any((path / f).is_file() for f in TOKENIZER_FILES):
        raise ModelError(f"{path}: not a complete stancekit model directory; missing the tokenizer "
                         f"(tokenizer_config.json and one of {list(TOKENIZER_FILES)})")
    from .encoders import check_untrusted_dir

    check_untrusted_dir(path)
    return path


def _read_meta(path: Path) -> dict[str, Any]:
    """The model directory's stancekit.json, checked before anything is built from it."""
    from .config import config_from_dict

    file = path / META_FILE
    try:
        meta = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{file}: not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise ModelError(f"{file}: expected a JSON object, found {type(meta).__name__}")
    if list(meta.get("labels") or []) != list(LABELS):
        raise ModelError(f"{path}: the model predicts {meta.get('labels')}, stancekit expects "
                         f"{list(LABELS)}; it was trained with another label set")
    if not isinstance(meta.get("encoding"), dict):
        raise ModelError(f"{file}: field 'encoding': expected the encoding the model was trained "
                         f"with (template, markers, max_length), found {meta.get('encoding')!r}")
    try:  # the same validation as a config file: a template may use only {actor}, {target}
        meta["encoding_config"] = config_from_dict({"encoding": meta["encoding"]},
                                                   source=f"{file} (encoding)").encoding
    except ConfigError as exc:
        raise ModelError(str(exc)) from None
    temperature = meta.get("temperature", 1.0)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or \
            not 0 < temperature < float("inf"):
        raise ModelError(f"{file}: field 'temperature': expected a positive number, "
                         f"found {temperature!r}")
    return meta



def int8_layers(model: Any) -> dict[str, Any]:
    """The linear layers that ``torch-int8`` quantizes: all but the feed-forward output
    projections (``...output.dense`` after the GELU, whose inputs have outliers that a per-tensor
    int8 scale flattens) and the classification head. Measured on the embedded test split:
    quantizing every linear layer took the default all-mpnet-base-v2 model from 0.884 to 0.490
    macro-F1; sparing these layers gives 0.860 at 1.3x fp32 speed (MiniLM: 0.785 vs 0.768
    fp32, 1.2x; every layer would be 1.5x).
    """
    import torch

    qconfig = torch.ao.quantization.default_dynamic_qconfig
    return {name: qconfig for name, module in model.named_modules()
            if isinstance(module, torch.nn.Linear) and "classifier" not in name
            and not (name.endswith("output.dense") and ".attention." not in name)}

class StanceClassifier:
    """A fine-tuned stance model, loaded only from its self-describing directory.

    Example:
        >>> clf = StanceClassifier.from_pretrained("models/default")  # doctest: +SKIP
        >>> clf.predict([StancePair(id="1", actor="Saudi Arabia", target="the offensive",
        ...     text="Riyadh urged both sides to exercise maximum restraint.")])  # doctest: +SKIP
        [Prediction(label='neutral', probs={...}, id='1')]
    """

    def __init__(self, model: Any, tokenizer: Any, encoder: PairEncoder, meta: dict[str, Any],
                 *, lexical: Any = None, path: Path | None = None) -> None:
        self.model, self.tokenizer, self.encoder, self.meta = model, tokenizer, encoder, meta
        self.lexical, self.path = lexical, path
        self.temperature = float(meta.get("temperature", 1.0))
        self.stacker = meta.get("stacker")

    @classmethod
    def from_pretrained(cls, path: str | Path, *, backend: str = "torch") -> StanceClassifier:
        """Load a model directory written by `stancekit.training.train`.

        Args:
            path: The model directory.
            backend: ``torch`` (fp32), ``torch-int8`` (dynamic int8 quantisation of Linear
                layers), ``onnx`` or ``onnx-int8`` (ONNX Runtime; the exported graph is cached
                in the model directory, see `stancekit.backends`).
        """
        import torch
        from safetensors import SafetensorError
        from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

        if backend not in BACKENDS:
            raise ModelError(f"unknown backend {backend!r}; expected one of {list(BACKENDS)}")
        path = check_model_dir(path)
        meta = _read_meta(path)
        encoder = PairEncoder(meta.pop("encoding_config"))
        # trust_remote_code=False: never run Python code that ships with a model directory
        try:
            config = AutoConfig.from_pretrained(path, trust_remote_code=False)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"{path}/config.json: cannot load the model config ({exc})") from None
        id2label = {int(k): v for k, v in config.id2label.items()}
        if [id2label.get(i) for i in range(max(len(LABELS), len(id2label)))] != list(LABELS):
            raise ModelError(f"{path}/config.json: id2label is {id2label}, expected "
                             f"{dict(enumerate(LABELS))}")
        try:
            tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=False)
            model = AutoModelForSequenceClassification.from_pretrained(
                path, config=config, use_safetensors=True, trust_remote_code=False)
        except (OSError, ValueError, RuntimeError, SafetensorError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ModelError(f"{path}: cannot load the model ({reason})") from None
        model.eval()
        if backend == "torch-int8":
            model = torch.ao.quantization.quantize_dynamic(model, int8_layers(model),
                                                           dtype=torch.qint8)
        elif backend.startswith("onnx"):
            from .backends import onnx_model

            model = onnx_model(path, model, tokenizer, quantize=backend == "onnx-int8")
        lexical = None
        if meta.get("stacker"):
            from .baselines import TfidfBaseline

            try:
                lexical = TfidfBaseline.load(path / LEXICAL_FILE)
            except (OSError, json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError,
                    ValueError) as exc:
                raise ModelError(f"{path / LEXICAL_FILE}: the stacked model's lexical half cannot "
                                 f"be loaded ({type(exc).__name__}: {exc})") from None
        return cls(model, tokenizer, encoder, meta, lexical=lexical, path=path)

    # -- prediction ---------------------------------------------------------------------------
    def predict(self, inputs: Iterable[StancePair | Mapping[str, Any]], *, batch_size: int = 64,
                max_tokens: int = 8192, progress: bool = False,
                abstain_below: float | None = None) -> list[Prediction]:
        """Predict the stance of each pair (a `StancePair` or a dict with its fields).

        Args:
            abstain_below: Flag a prediction ``abstained`` when its top probability is below
                this; the label is kept (never turned into ``neutral``). `stancekit evaluate`
                reports the threshold that reaches a chosen precision on dev.
        """
        if abstain_below is not None and not 0.0 <= abstain_below <= 1.0:
            raise ConfigError(f"abstain_below: expected a probability in [0, 1], "
                              f"found {abstain_below!r}")
        pairs = as_pairs(inputs)
        probs = self.predict_proba(pairs, batch_size=batch_size, max_tokens=max_tokens,
                                   progress=progress)
        return [Prediction(label=LABELS[int(row.argmax())],
                           probs={lab: round(float(p), 6) for lab, p in zip(LABELS, row)},
                           id=pair.id,
                           abstained=abstain_below is not None and float(row.max()) < abstain_below)
                for pair, row in zip(pairs, probs)]

    def predict_proba(self, pairs: Sequence[StancePair], *, batch_size: int = 64,
                      max_tokens: int = 8192, progress: bool = False) -> np.ndarray:
        """Probabilities in the order of ``LABELS``, one row per pair, in input order."""
        logits = self.logits(pairs, batch_size=batch_size, max_tokens=max_tokens, progress=progress)
        return self.probs_from_logits(logits, pairs)

    def probs_from_logits(self, logits: np.ndarray, pairs: Sequence[StancePair], *,
                          calibrated: bool = True) -> np.ndarray:
        """What the model returns for these logits; ``calibrated=False`` skips the fitted
        temperature (the evaluator's "before calibration")."""
        probs = softmax(logits / (self.temperature if calibrated else 1.0))
        if self.stacker and self.lexical is not None and len(pairs):
            lex = self.lexical.predict_proba(lexical_texts(self.encoder, pairs))
            probs = stack(probs, lex, self.stacker, calibrated=calibrated)
        return probs

    def logits(self, pairs: Sequence[StancePair], *, batch_size: int = 64, max_tokens: int = 8192,
               progress: bool = False) -> np.ndarray:
        """Raw model logits, batched by length under a token budget, in input order."""
        import torch

        if not pairs:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        enc = self.encoder.tokenize(self.tokenizer, pairs)
        features = [{k: enc[k][i] for k in enc} for i in range(len(pairs))]
        out = np.zeros((len(pairs), len(LABELS)), dtype=np.float32)
        batches = list(token_batches([len(f["input_ids"]) for f in features], batch_size, max_tokens))
        bar = _progress(len(pairs), progress)
        with torch.inference_mode():
            for idx in batches:
                batch = self.tokenizer.pad([features[i] for i in idx], return_tensors="pt")
                out[idx] = self.model(**batch).logits.float().numpy()
                bar.update(len(idx))
        bar.close()
        return out


def token_batches(lengths: Sequence[int], batch_size: int, max_tokens: int) -> Iterator[list[int]]:
    """Indices grouped into batches of similar length: at most ``batch_size`` rows and
    ``max_tokens`` padded tokens each (a single longer row still gets its own batch)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batch: list[int] = []
    for i in order:
        # sorted ascending, so lengths[i] is the padded width if i joins the batch
        if batch and (len(batch) >= batch_size or (len(batch) + 1) * lengths[i] > max_tokens):
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch


def as_pairs(inputs: Iterable[StancePair | Mapping[str, Any]]) -> list[StancePair]:
    if isinstance(inputs, (str, bytes, StancePair, Mapping)) or not isinstance(inputs, Iterable):
        raise DataError(f"expected a list of StancePair or dicts, found {type(inputs).__name__}")
    pairs = []
    for i, item in enumerate(inputs):
        if isinstance(item, StancePair):
            pairs.append(item)
        elif isinstance(item, Mapping):
            try:
                pairs.append(StancePair.from_dict({"id": str(i), **item}))
            except DataError as err:
                raise DataError(f"input {i}: {err.reason}", field=err.field) from None
        else:
            raise DataError(f"input {i}: expected a StancePair or a dict, found {type(item).__name__}")
    return pairs


def lexical_texts(encoder: PairEncoder, pairs: Sequence[StancePair]) -> list[str]:
    """What the lexical model reads: the first segment and the marked text."""
    first, second = encoder.texts(pairs)
    return [f"{a} || {b}" for a, b in zip(first, second)]


def softmax(x: np.ndarray) -> np.ndarray:
    z = x - x.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def stack(transformer: np.ndarray, lexical: np.ndarray, stacker: Mapping[str, Any], *,
          calibrated: bool = True) -> np.ndarray:
    """The stacked model: a logistic regression over both models' log-probabilities, its
    logits divided by the stacker's own fitted temperature (calibration of what is returned)."""
    x = np.log(np.clip(np.hstack([transformer, lexical]), 1e-6, 1.0))
    logits = x @ np.asarray(stacker["coef"]).T + np.asarray(stacker["intercept"])
    return softmax(logits / (float(stacker.get("temperature", 1.0)) if calibrated else 1.0))


class _NoBar:
    def update(self, n: int) -> None: ...
    def close(self) -> None: ...


def _progress(total: int, enabled: bool) -> Any:
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="pair", desc="predicting")
