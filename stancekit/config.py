"""Configuration: YAML files map 1:1 onto frozen dataclasses.

Loading rejects unknown keys, checks types and ranges, and reports every problem at
once in a single `ConfigError`. ``key=value`` overrides (dotted for nested keys) are
applied on top of the file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError, DataError, quote
from .fileio import jsonable, load_yaml

# the fields a pair file's columns map onto (``data.columns``, `stancekit.data.readers`)
FIELDS = ("id", "actor", "target", "text", "label", "doc_id")
# public corpora whose train split ``data.mix`` can add to training: news text with a named actor
# and target (author-stance corpora are another task: their "actor" is the author)
MIXABLE = ("dsa_news",)

DEFAULT_ENCODER = "packaged:all-MiniLM-L6-v2"


def _opt(default: Any, *, help: str, choices: Iterable[Any] | None = None, min: float | None = None,
         max: float | None = None, factory: Any = None) -> Any:
    meta = {"help": help, "choices": tuple(choices) if choices else None, "min": min, "max": max}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class DataConfig:
    corpus: str = _opt("embedded", help="embedded, dsa_news, semeval, pstance, newsmtsc, gwsd or"
                       " files", choices=("embedded", "dsa_news", "semeval", "pstance",
                                            "newsmtsc", "gwsd", "files"))
    path: str | None = _opt(None, help="directory of a public corpus (default ../shared/datasets/NAME)")
    train: str | None = _opt(None, help="train file (corpus: files)")
    dev: str | None = _opt(None, help="dev file; without one, dev_fraction of train is held out")
    test: str | None = _opt(None, help="test file, evaluated once after training")
    columns: dict[str, str] = _opt(None, factory=dict, help="stancekit field -> file column")
    label_scheme: str | dict[str, str] = _opt("stancekit", help="named scheme or {raw: label}")
    dev_fraction: float = _opt(0.1, help="share of train held out as dev when no dev split exists",
                               min=0.0, max=0.5)
    both_directions: bool = _opt(False, help="dsa_news: also train on q->p pairs")
    subset: str | None = _opt(None, help="corpus-specific subset (semeval target, newsmtsc test set)")
    max_train_examples: int | None = _opt(None, help="cap the train split (quick runs)", min=1)
    window_negatives: bool = _opt(False, help="embedded corpus: also train on every window the "
                                  "pair builder makes for the pairs annotated neutral in the "
                                  "exhaustively annotated articles (labelled neutral)")
    hard_negatives: float = _opt(0.0, help="share of support/condemn train pairs also given, "
                                 "labelled neutral, with another document's target their text "
                                 "never mentions", min=0.0, max=1.0)
    mix: dict[str, float] = _opt(None, factory=dict, help="public corpora mixed into training, "
                                 "{name: share of its train rows}, e.g. {dsa_news: 0.5}; read from "
                                 "../shared/datasets or $STANCEKIT_DATASETS, skipped with one log "
                                 "line when absent")


@dataclass(frozen=True)
class ModelConfig:
    name_or_path: str = _opt(DEFAULT_ENCODER, help="hub name, local directory (a stancekit model "
                               "directory too: intermediate training), or packaged:NAME "
                               "(all-MiniLM-L6-v2, all-mpnet-base-v2)")


@dataclass(frozen=True)
class EncodingConfig:
    template: str = _opt("{actor} on {target}", help="first segment; fields {actor} and {target}")
    mark_mentions: bool = _opt(True, help="wrap actor/target mentions in the text in marker tokens")
    actor_markers: tuple[str, str] = _opt(("[A]", "[/A]"), help="tokens around actor mentions")
    target_markers: tuple[str, str] = _opt(("[T]", "[/T]"), help="tokens around target mentions")
    max_length: int = _opt(256, help="token limit of one encoded pair", min=16, max=4096)
    target_match: str = _opt("exact", help="target mentions: exact names, or also the target's "
                             "content words (\"the shelling of Arpatak\" marks \"shelling\")",
                             choices=("exact", "words"))


@dataclass(frozen=True)
class TrainConfig:
    output_dir: str = _opt("models/default", help="where the model directory is written")
    epochs: float = _opt(4.0, help="maximum number of epochs", min=0.01)
    learning_rate: float = _opt(5e-5, help="peak learning rate (linear schedule)", min=0.0, max=1.0)
    batch_size: int = _opt(16, help="train batch size", min=1)
    eval_batch_size: int = _opt(64, help="evaluation batch size", min=1)
    warmup: float = _opt(0.1, help="warm-up as a share of training steps", min=0.0, max=1.0)
    weight_decay: float = _opt(0.01, help="AdamW weight decay", min=0.0)
    class_weights: str = _opt("none", help="cross-entropy class weights", choices=("none", "balanced"))
    early_stopping_patience: int = _opt(2, help="evaluations without dev macro-F1 gain", min=0)
    evals_per_epoch: int = _opt(1, help="dev evaluations (and checkpoints) per epoch", min=1)
    group_by_length: bool = _opt(True, help="length-grouped sampling (faster on CPU)")
    precision: str = _opt("fp32", help="training arithmetic: fp32, bf16 (mixed precision), or auto"
                          " (bf16 where the hardware runs it fast)",
                          choices=("fp32", "bf16", "auto"))
    seed: int = _opt(42, help="seed of everything random", min=0, max=2**32 - 1)
    stack_lexical: bool = _opt(False, help="stack a TF-IDF model's probabilities with the "
                               "transformer's, fitted on dev")
    collapse_retries: int = _opt(1, help="restarts at half the learning rate when training "
                                 "collapses to one class", min=0)
    resume: bool = _opt(True, help="resume from the last checkpoint in output_dir")
    max_steps: int = _opt(-1, help="stop after this many steps (-1: use epochs)", min=-1)
    freeze_layers: int = _opt(-1, help="freeze the embeddings and this many lowest encoder "
                              "layers (-1: train everything; 0: freeze the embeddings only)",
                              min=-1)
    dropout: float = _opt(-1.0, help="set every dropout probability of the model to this "
                          "(-1: keep the encoder's; 0 skips dropout's slow CPU RNG)",
                          min=-1.0, max=0.9)


@dataclass(frozen=True)
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    encoding: EncodingConfig = field(default_factory=EncodingConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return jsonable(dataclasses.asdict(self))

    def replace(self, **sections: Any) -> Config:
        return dataclasses.replace(self, **sections)


SECTIONS = {f.name: f.type for f in dataclasses.fields(Config)}
_SECTION_TYPES = {"data": DataConfig, "model": ModelConfig, "encoding": EncodingConfig,
                  "train": TrainConfig}


def load_config(path: str | Path | None = None, overrides: Iterable[str] = ()) -> Config:
    """Load a YAML config, apply ``key=value`` overrides, validate everything.

    Args:
        path: A YAML file; ``None`` starts from the defaults.
        overrides: Strings like ``train.epochs=2`` or ``model.name_or_path=bert-base-uncased``;
            values are parsed as YAML scalars.

    Raises:
        ConfigError: Listing every problem found (unknown keys, wrong types, out of range).
    """
    if isinstance(overrides, str):
        raise ConfigError(f"overrides: expected a list of 'section.key=value' strings, found the "
                          f"string {quote(overrides)}; pass [{quote(overrides)}]")
    raw: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        source = str(path)
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"{path}: config file not found")
        try:
            loaded = load_yaml(p.read_text(encoding="utf-8"), path=path)
        except DataError as exc:  # a repeated key, too many nodes, an alias bomb
            raise ConfigError(str(exc)) from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the config file ({exc.strerror or exc})") \
                from None
        except (yaml.YAMLError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            # PyYAML raises ValueError for an escape such as "\U0011ffff" (beyond Unicode)
            # and RecursionError for nesting deeper than the interpreter's stack
            reason = "nested too deeply" if isinstance(exc, RecursionError) else exc
            raise ConfigError(f"{path}: not valid YAML ({reason})") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of sections {sorted(SECTIONS)}, "
                              f"found {type(loaded).__name__}")
        raw = loaded
    problems: list[str] = []
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or "." not in key:
            problems.append(f"override {quote(item)}: expected section.key=value, e.g. "
                            "train.epochs=2")
            continue
        section, _, name = key.strip().partition(".")
        try:
            parsed = load_yaml(value, path=f"override {quote(item)}") if value.strip() else None
        except DataError as exc:
            problems.append(str(exc))
            continue
        except (yaml.YAMLError, ValueError, RecursionError):
            parsed = value
        raw.setdefault(section, {})
        if not isinstance(raw[section], dict):
            problems.append(f"override {quote(item)}: section {quote(section)} is not a mapping")
            continue
        raw[section][name] = parsed
    return config_from_dict(raw, source=source, problems=problems)


def config_from_dict(raw: Mapping[str, Any], *, source: str = "config",
                     problems: list[str] | None = None) -> Config:
    problems = list(problems or [])
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: expected a mapping of sections {sorted(_SECTION_TYPES)}, "
                          f"found {type(raw).__name__}")
    sections: dict[str, Any] = {}
    for name in raw:
        if name not in _SECTION_TYPES:
            problems.append(f"unknown section {quote(name)}; expected one of "
                            f"{sorted(_SECTION_TYPES)}")
    for name, cls in _SECTION_TYPES.items():
        values = raw.get(name) or {}
        if not isinstance(values, dict):
            problems.append(f"{name}: expected a mapping, found {type(values).__name__}")
            continue
        known = {f.name: f for f in dataclasses.fields(cls)}
        kwargs = {}
        for key, value in values.items():
            if key not in known:
                shown = key if isinstance(key, str) and len(key) <= 80 else quote(key)
                problems.append(f"{name}.{shown}: unknown config key; known keys are "
                                f"{sorted(known)}")
                continue
            if "float" in known[key].type and isinstance(value, str):
                # YAML 1.1 reads 3e-5 (no dot) as a string; take it as the number meant
                with contextlib.suppress(ValueError):
                    value = float(value)
            error = _check(known[key], value) or _check_value(name, key, value)
            if error:
                problems.append(f"{name}.{key}: {error}")
                continue
            if known[key].type.startswith("tuple") and isinstance(value, list):
                value = tuple(value)
            if known[key].type.startswith("float") and isinstance(value, int):
                value = float(value)
            kwargs[key] = value
        if not problems:
            sections[name] = cls(**kwargs)
    if problems:
        raise ConfigError(f"{source}: {len(problems)} problem(s) in the configuration:\n  - "
                          + "\n  - ".join(problems))
    return Config(**sections)


_TYPES = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,), "None": (type(None),),
          "dict[str, str]": (dict,), "dict[str, float]": (dict,), "tuple[str, str]": (list, tuple)}


def _check(f: dataclasses.Field, value: Any) -> str | None:
    accepted: tuple[type, ...] = ()
    for part in f.type.split(" | "):
        accepted += _TYPES[part.strip()]
    if isinstance(value, bool) and bool not in accepted:
        return f"expected {f.type}, found a boolean {quote(value)}"
    if not isinstance(value, accepted):
        found = "no value" if value is None else f"{type(value).__name__} {quote(value)}"
        return f"expected {f.type}, found {found}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"expected a finite number, found {quote(value)}"
    meta = f.metadata
    if meta.get("choices") and value not in meta["choices"]:
        return f"expected one of {list(meta['choices'])}, found {quote(value)}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if meta.get("min") is not None and value < meta["min"]:
            return f"expected a value >= {meta['min']}, found {quote(value)}"
        if meta.get("max") is not None and value > meta["max"]:
            return f"expected a value <= {meta['max']}, found {quote(value)}"
    if f.type.startswith("tuple") and (len(value) != 2 or not all(
            isinstance(v, str) and v.strip() == v and v for v in value)):
        return f"expected two non-empty strings without spaces around them, found {quote(value)}"
    if isinstance(value, dict) and not all(isinstance(k, str) for k in value):
        return f"expected string keys, found {quote(value)}"
    return None


def _check_value(section: str, key: str, value: Any) -> str | None:
    """Checks beyond type and range, for the keys whose values have a grammar of their own."""
    if (section, key) == ("encoding", "template"):
        return check_template(value)
    if (section, key) == ("data", "label_scheme"):
        from .labels import LabelScheme

        try:
            LabelScheme(value)
        except ConfigError as exc:
            return str(exc)
    if (section, key) == ("data", "mix"):
        unknown = sorted(set(value) - set(MIXABLE))
        if unknown:
            return (f"unknown corpora {quote(unknown)}; corpora that can be mixed in: "
                    f"{list(MIXABLE)}")
        bad = {k: v for k, v in value.items() if isinstance(v, bool)
               or not isinstance(v, (int, float)) or not 0 < v <= 1}
        if bad:
            return f"expected shares in (0, 1], found {quote(bad)}"
    if (section, key) == ("data", "columns"):
        unknown = sorted(set(value) - set(FIELDS))
        if unknown:
            return (f"unknown fields {quote(unknown)}; the fields that can be mapped are "
                    f"{list(FIELDS)}")
        if not all(isinstance(v, str) and v.strip() for v in value.values()):
            return f"expected column names as non-empty strings, found {quote(value)}"
    if (section, key) == ("train", "output_dir") and Path(value).name in ("", ".", ".."):
        return (f"expected a path that ends in the model directory's own name, found "
                f"{quote(value)} "
                "(it would replace its parent), e.g. models/my-model")
    return None


MAX_TEMPLATE_CHARS = 200


def check_template(template: str) -> str | None:
    """What is wrong with an input template, or None. The one check of a template, for config
    files, overrides and model directories alike: it may hold only the bare fields
    ``{actor}`` and ``{target}`` — no attribute or index access, and no format spec or
    conversion (``{actor:>20000000}`` pads every input to 20 million characters)."""
    if len(template) > MAX_TEMPLATE_CHARS:
        return (f"a template of {len(template):,} characters; at most {MAX_TEMPLATE_CHARS} are "
                "allowed (it is the first segment of every input)")
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        return f"not a valid template ({exc}); write fields as {{actor}} and {{target}}"
    fields = [(name, spec, conv) for _, name, spec, conv in parsed if name is not None]
    unknown = [name for name, _, _ in fields if name not in ("actor", "target")]
    if unknown:
        return (f"unknown template fields {quote(['{' + f + '}' for f in unknown])}; a template "
                "may use only {actor} and {target}")
    # rebuilt from its parts, a template of bare fields is itself: "{actor:}" or "{actor!s}"
    # are not (parse() reports an empty spec or conversion like none)
    rebuilt = "".join(text.replace("{", "{{").replace("}", "}}")
                      + ("{" + name + "}" if name else "") for text, name, _, _ in parsed)
    if rebuilt != template:
        dressed = ["{" + name + ("!" + conv if conv else "") + (":" + spec if spec else "") + "}"
                   for name, spec, conv in fields if spec or conv]
        return (f"template fields with a format spec or conversion {quote(dressed or template)};"
                " a template may use only the bare fields {actor} and {target}")
    return None


def describe() -> str:
    """A Markdown table of every config key with its default and help (for the README)."""
    rows = ["| key | default | meaning |", "|---|---|---|"]
    for section, cls in _SECTION_TYPES.items():
        for f in dataclasses.fields(cls):
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            rows.append(f"| `{section}.{f.name}` | `{default!r}` | {f.metadata['help']} |")
    return "\n".join(rows)
