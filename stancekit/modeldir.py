"""The model directory: the one on-disk contract between training and prediction.

A model directory is self-describing: the transformer's weights (``model.safetensors``) and
``config.json`` (with ``id2label``), its tokenizer, ``stancekit.json`` (the input encoding,
the resolved training config, the data fingerprints, dev metrics, calibration and the
stacker), ``lexical.json`` when a TF-IDF model is stacked, and a model card (``README.md``).
Training writes it with `write`; prediction reads it with `load`; neither imports the other.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .data.records import StancePair
from .errors import ConfigError, DataError, ModelError, quote
from .fileio import load_json
from .labels import LABELS
from .pretrained import quiet_transformers

META_FILE = "stancekit.json"
LEXICAL_FILE = "lexical.json"
CARD_FILE = "README.md"
EVAL_DIR = "eval"
FORMAT_VERSION = 1
REQUIRED_FILES = (META_FILE, "config.json", "model.safetensors")
# save_pretrained writes tokenizer_config.json and one of these; without them transformers
# quietly builds an empty tokenizer and the model predicts from [UNK] alone
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model",
                   "sentencepiece.bpe.model", "tokenizer.model")


# --------------------------------------------------------------------------- reading


def check(path: str | Path) -> Path:
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
    from .pretrained import check_untrusted_dir

    check_untrusted_dir(path)
    return path


def read_meta(path: Path) -> dict[str, Any]:
    """The directory's ``stancekit.json``, checked before anything is built from it; the
    validated encoding config is added as ``meta["encoding_config"]``."""
    from .config import config_from_dict

    file = path / META_FILE
    try:
        meta = load_json(file.read_text(encoding="utf-8"), path=file)
    except DataError as exc:  # a repeated key
        raise ModelError(str(exc)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{file}: not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise ModelError(f"{file}: expected a JSON object, found {type(meta).__name__}")
    if list(meta.get("labels") or []) != list(LABELS):
        raise ModelError(f"{path}: the model predicts {quote(meta.get('labels'))}, stancekit "
                         f"expects {list(LABELS)}; it was trained with another label set")
    if not isinstance(meta.get("encoding"), dict):
        raise ModelError(f"{file}: field 'encoding': expected the encoding the model was trained "
                         f"with (template, markers, max_length), found "
                         f"{quote(meta.get('encoding'))}")
    try:  # the same validation as a config file: a template may use only {actor}, {target}
        meta["encoding_config"] = config_from_dict({"encoding": meta["encoding"]},
                                                   source=f"{file} (encoding)").encoding
    except ConfigError as exc:
        raise ModelError(str(exc)) from None
    check_numbers(meta, file)
    return meta


# A fitted temperature lies in calibration.T_BOUNDS (0.05-20); beyond these, a temperature
# turns every probability into NaN (1e-320) or into a uniform 1/3.
TEMPERATURE_RANGE = (0.01, 100.0)
N_FEATURES_STACKED = 2 * len(LABELS)  # the transformer's and the lexical model's probabilities


def check_numbers(meta: dict[str, Any], file: Path) -> None:
    """Every number of ``stancekit.json`` is finite, and the ones prediction computes with are
    in range: the temperatures, and the stacker's coefficients of the right shape. Raises a
    `ModelError` naming the file and the field."""
    def fail(field: str, expected: str, value: Any) -> ModelError:
        return ModelError(f"{file}: field {field!r}: expected {expected}, found {quote(value)}")

    def walk(value: Any, field: str) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            raise fail(field, "a finite number", value)
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(sub, f"{field}.{key}" if field else str(key))
        elif isinstance(value, list):
            for i, sub in enumerate(value):
                walk(sub, f"{field}[{i}]")

    def number(value: Any, field: str, low: float, high: float) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not low <= value <= high:
            raise fail(field, f"a number in [{low:g}, {high:g}]", value)

    def matrix(value: Any, field: str, shape: tuple[int, ...]) -> None:
        rows = value if len(shape) == 2 else [value]
        if not (isinstance(value, list) and len(rows) == (shape[0] if len(shape) == 2 else 1)
                and all(isinstance(r, list) and len(r) == shape[-1] and all(
                    isinstance(x, (int, float)) and not isinstance(x, bool) for x in r)
                    for r in rows)):
            raise fail(field, f"numbers in the shape {list(shape)}", value)

    walk(meta, "")
    number(meta.get("temperature", 1.0), "temperature", *TEMPERATURE_RANGE)
    stacker = meta.get("stacker")
    if stacker:
        if not isinstance(stacker, dict):
            raise fail("stacker", "an object with coef and intercept", stacker)
        matrix(stacker.get("coef"), "stacker.coef", (len(LABELS), N_FEATURES_STACKED))
        matrix(stacker.get("intercept"), "stacker.intercept", (len(LABELS),))
        number(stacker.get("temperature", 1.0), "stacker.temperature", *TEMPERATURE_RANGE)


def load(path: str | Path) -> tuple[Any, Any, dict[str, Any], Any]:
    """``(model, tokenizer, meta, lexical)`` of a model directory, every file checked first.

    ``model`` is the transformers sequence classifier in eval mode (fp32, CPU); ``lexical`` the
    stacked TF-IDF model or None. Python code shipped in a directory is never run.
    """
    from safetensors import SafetensorError
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    path = check(path)
    meta = read_meta(path)
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
        with quiet_transformers():
            model, info = AutoModelForSequenceClassification.from_pretrained(
                path, config=config, use_safetensors=True, trust_remote_code=False,
                output_loading_info=True)
    except (OSError, ValueError, RuntimeError, SafetensorError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelError(f"{path}: cannot load the model ({reason})") from None
    # transformers would only print these (muted above): a model directory holds every weight
    missing = sorted(info.get("missing_keys") or ()) + sorted(
        str(k[0] if isinstance(k, tuple) else k) for k in info.get("mismatched_keys") or ())
    if missing:
        raise ModelError(f"{path}/model.safetensors: weights missing or of the wrong shape "
                         f"for {missing[:5]}{' ...' if len(missing) > 5 else ''}; the model "
                         "directory is damaged or was written for another architecture")
    model.eval()
    lexical = None
    if meta.get("stacker"):
        from .baselines import TfidfBaseline

        try:
            lexical = TfidfBaseline.load(path / LEXICAL_FILE)
        except (OSError, json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError,
                ValueError) as exc:
            raise ModelError(f"{path / LEXICAL_FILE}: the stacked model's lexical half cannot "
                             f"be loaded ({type(exc).__name__}: {exc})") from None
        _check_lexical(lexical, path / LEXICAL_FILE)
    return model, tokenizer, meta, lexical


def _check_lexical(lexical: Any, file: Path) -> None:
    """The TF-IDF half's numbers are finite (NaN there would make every probability NaN)."""
    import numpy as np

    arrays = {**{f"idf[{i}]": v.idf_ for i, v in enumerate(lexical.vectorizers)},
              "coef": lexical.clf.coef_, "intercept": lexical.clf.intercept_}
    for field, array in arrays.items():
        try:
            ok = bool(np.all(np.isfinite(np.asarray(array, dtype=float))))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ModelError(f"{file}: field {field!r}: expected finite numbers, found "
                             f"{quote(np.asarray(array).tolist())}")


def is_model_dir(path: Path) -> bool:
    return (path / META_FILE).is_file()


def files(path: str | Path) -> list[Path]:
    """The files a model directory holds (what loading it may read); none when it is not a
    directory."""
    path = Path(path)
    return sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else []


def dir_fingerprint(path: str | Path) -> str:
    """A short hash that changes when the model in ``path`` changes: ``stancekit.json`` (which
    training rewrites, with its time, every time), ``config.json``, ``lexical.json``, and the
    size and modification time of the weights (hashing them would read hundreds of MB)."""
    path = Path(path)
    h = hashlib.sha256()
    for name in (META_FILE, "config.json", LEXICAL_FILE):
        file = path / name
        content = file.read_bytes() if file.is_file() else b"-"
        h.update(name.encode() + b"\x1f" + content + b"\x1e")
    weights = path / "model.safetensors"
    if weights.is_file():
        st = weights.stat()
        h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------- writing


def fingerprint(pairs: Sequence[StancePair]) -> str:
    """A short hash of the pairs' ids, fields and labels: which data a model was trained on."""
    h = hashlib.sha256()
    for p in pairs:
        h.update("\x1f".join([p.id, p.actor, p.target, p.text, p.label or ""]).encode("utf-8"))
        h.update(b"\x1e")
    return h.hexdigest()[:16]


def describe(config: Any, result: dict[str, Any], splits: dict[str, list[StancePair]],
             floor: float, seconds: float) -> dict[str, Any]:
    """The ``stancekit.json`` of a training result."""
    import datasets
    import sklearn
    import torch
    import transformers

    from . import __version__

    return {
        "format_version": FORMAT_VERSION,
        "stancekit_version": __version__,
        "labels": list(LABELS),
        "encoding": result["formatter"].to_dict(),
        "config": config.to_dict(),
        "label_scheme": config.data.label_scheme,
        "encoder": config.model.name_or_path,
        "data": {name: {"n": len(pairs), "fingerprint": fingerprint(pairs),
                        "labels": dict(Counter(p.label for p in pairs))}
                 for name, pairs in splits.items()},
        "sources": dict(Counter(p.meta.get("corpus") or config.data.corpus
                                for p in splits.get("train", ()))),
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


def write(out: Path, result: dict[str, Any], meta: dict[str, Any]) -> None:
    """Write the model directory of a training result into a temporary sibling and rename it
    into place, so that ``out`` is always either complete or absent."""
    from .model_card import write_model_card

    def fill(tmp: Path) -> None:
        with quiet_transformers():
            result["model"].save_pretrained(tmp, safe_serialization=True)
        result["tokenizer"].save_pretrained(tmp)
        if result["lexical"] is not None:
            result["lexical"].save(tmp / LEXICAL_FILE)
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        write_model_card(tmp / CARD_FILE, meta)

    _replace_dir(out, fill)


def save(out: str | Path, *, model: Any, tokenizer: Any, meta: dict[str, Any], lexical: Any,
         source: Path | None = None, name: str | None = None, license: str | None = None) -> Path:
    """Write a loaded model back out as a complete model directory (what
    `StanceClassifier.save_pretrained` does): the fp32 torch ``model`` from memory, or — when
    ``model`` is None (a bf16, int8 or ONNX backend holds other weights) — the weights file of
    the ``source`` directory it was loaded from. ``eval/`` comes along from ``source``."""
    from .model_card import write_model_card

    out = Path(out)
    if out.exists() and not is_model_dir(out) and (not out.is_dir() or any(out.iterdir())):
        raise ModelError(f"{out}: exists and is not a stancekit model directory; refusing to "
                         "replace it (save to a new or empty directory)")
    if model is None and source is None:
        raise ModelError("this classifier holds converted weights (bf16, int8 or ONNX) and no "
                         "directory to copy the fp32 ones from; load it with backend='torch' "
                         "to save it")
    evaluation = read_evaluation(source) if source is not None else None

    def fill(tmp: Path) -> None:
        if model is not None:
            with quiet_transformers():
                model.save_pretrained(tmp, safe_serialization=True)
        else:
            for file in ("config.json", "model.safetensors"):
                shutil.copy2(source / file, tmp / file)
        tokenizer.save_pretrained(tmp)
        if lexical is not None:
            lexical.save(tmp / LEXICAL_FILE)
        plain = {k: v for k, v in meta.items() if k != "encoding_config"}
        (tmp / META_FILE).write_text(json.dumps(plain, indent=2), encoding="utf-8")
        if source is not None and (source / EVAL_DIR).is_dir():
            shutil.copytree(source / EVAL_DIR, tmp / EVAL_DIR)
        write_model_card(tmp / CARD_FILE, plain, evaluation=evaluation, name=name,
                         license=license)

    _replace_dir(out, fill)
    return out


def read_evaluation(path: Path) -> dict[str, Any] | None:
    """``eval/metrics.json`` of a model directory, or None when it has none (or a bad one)."""
    try:
        data = json.loads((path / EVAL_DIR / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def refresh_card(path: str | Path, *, name: str | None = None,
                 license: str | None = None) -> None:
    """Rewrite the model card of a directory from its ``stancekit.json`` and
    ``eval/metrics.json`` (after ``stancekit train`` has evaluated the held-out splits)."""
    from .fileio import replacing
    from .model_card import write_model_card

    path = Path(path)
    meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
    with replacing(path / CARD_FILE) as tmp:
        write_model_card(tmp, meta, evaluation=read_evaluation(path), name=name, license=license)


def _replace_dir(out: Path, fill: Any) -> None:
    """Fill a temporary sibling of ``out`` (``fill(tmp)``) and rename it into place; on any
    error the temporary directory goes and ``out`` stays as it was."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        fill(tmp)
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        if out.exists():
            os.rename(out, old)
        os.rename(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
