"""What the machine offers: the best device, and whether it runs bf16 fast.

Training (`train.precision: auto`) and prediction (`backend="auto"`, `device=None`) ask here,
so both pick the same hardware the same way.
"""

from __future__ import annotations

from typing import Any

from .errors import ConfigError


def best_device() -> str:
    """``cuda`` when a CUDA GPU is visible, else ``mps`` on Apple silicon, else ``cpu``."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def resolve_device(device: Any = None) -> Any:
    """A `torch.device` for ``device`` (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``, a
    `torch.device`, or None for `best_device`), checked to exist."""
    import torch

    try:
        dev = torch.device(device if device is not None else best_device())
    except (RuntimeError, TypeError) as exc:
        raise ConfigError(f"device: expected cpu, cuda, cuda:N or mps, found {device!r} "
                          f"({exc})") from None
    if dev.type == "cuda" and (not torch.cuda.is_available() or
                               (dev.index or 0) >= torch.cuda.device_count()):
        raise ConfigError(f"device: {device!r} is not available on this machine "
                          f"({torch.cuda.device_count()} CUDA device(s) visible)")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None)
                                  and torch.backends.mps.is_available()):
        raise ConfigError(f"device: {device!r} is not available on this machine")
    if dev.type not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"device: expected cpu, cuda, cuda:N or mps, found {device!r}")
    return dev


def fast_bf16(device: Any = "cpu") -> bool:
    """Whether ``device`` runs bf16 matrix products fast: a CUDA GPU that supports bf16, or a
    CPU with AVX512-BF16 or AMX (about 4x an fp32 forward pass of all-mpnet-base-v2 on such a
    CPU). Elsewhere bf16 is emulated and slower than fp32."""
    import torch

    dev = torch.device(device)
    if dev.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if dev.type == "cpu":
        probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
        return any(getattr(torch.cpu, name, lambda: False)() for name in probes)
    return False
