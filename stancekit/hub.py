"""The Hugging Face hub as a place for model directories: `locate` turns a hub id into a local
directory (one download, then the same loading path as any directory), `push` uploads one.
Both go through ``huggingface_hub``, which transformers installs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .errors import ModelError

# what a model directory holds (`stancekit.modeldir`); pickled weights are never fetched
DOWNLOAD_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.model", "README.md", "eval/*"]
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def locate(name_or_path: str | Path) -> Path:
    """The local model directory for ``name_or_path``: the path itself when it is one, else a
    hub id (``owner/name``) downloaded once into the hub cache.

    A name whose first part is a local directory (``models/typo``) is a missing local
    directory, not a hub id.

    Raises:
        ModelError: Neither a directory nor a hub id, or the download failed (offline, no
            such repository, no access).
    """
    path = Path(name_or_path).expanduser()
    text = str(name_or_path)
    if path.is_dir() or not _HUB_ID.match(text) or Path(text.split("/")[0]).is_dir():
        return path
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise ModelError(f"{text}: not a local model directory, and huggingface_hub is not "
                         "installed to fetch it from the hub (pip install huggingface_hub)") \
            from None
    try:
        return Path(snapshot_download(text, allow_patterns=DOWNLOAD_PATTERNS))
    except Exception as exc:  # offline, not found, gated, network: all one answer here
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelError(f"{text}: not a local model directory, and downloading it from the "
                         f"Hugging Face hub failed ({type(exc).__name__}: {reason}). Check the "
                         "path, or the hub id and your network (HF_HUB_OFFLINE=1 forbids "
                         "downloads)") from None


def push(folder: Path, repo_id: str, *, private: bool = False, token: str | None = None,
         commit_message: str = "Upload stancekit model") -> Any:
    """Create ``repo_id`` on the hub if needed and upload a model directory into it; returns
    what ``HfApi.upload_folder`` returns (the commit)."""
    try:
        from huggingface_hub import HfApi
    except ImportError:
        raise ModelError("push_to_hub needs huggingface_hub: pip install huggingface_hub") \
            from None
    api = HfApi(token=token)
    api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
    return api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="model",
                             commit_message=commit_message)
