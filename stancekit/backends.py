"""Inference backends: torch fp32 or bf16, torch dynamic int8 (CPU), ONNX Runtime fp32 or int8.

`load_backend` turns the fp32 model of a model directory into the backend asked for, on the
device asked for; ``auto`` is ``torch-bf16`` where the device runs bf16 fast (a CPU with
AVX512-BF16 or AMX, a GPU with bf16) and ``torch`` elsewhere.

The exported graph is cached inside the model directory (``onnx/model.onnx`` and
``onnx/model-int8.onnx``), written atomically, and reused while it is newer than the
weights. A read-only model directory falls back to a cache under the user's cache dir.
`OnnxModel` is called like a transformers model (``model(**batch).logits``), so the
predictor's batching code is the same for every backend.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ModelError

logger = logging.getLogger(__name__)

BACKENDS = ("auto", "torch", "torch-bf16", "torch-int8", "onnx", "onnx-int8")
ONNX_DIR = "onnx"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def resolve_backend(backend: str, device: Any) -> str:
    """The concrete backend for ``backend`` on ``device`` (``auto`` decided by the hardware)."""
    from .hardware import fast_bf16

    if backend not in BACKENDS:
        raise ModelError(f"unknown backend {backend!r}; expected one of {list(BACKENDS)}")
    if backend == "auto":
        return "torch-bf16" if fast_bf16(device) else "torch"
    if backend == "torch-int8" and device.type != "cpu":
        raise ModelError(f"the torch-int8 backend runs on the CPU only, not on {device}; use "
                         "torch-bf16 or torch on a GPU")
    return backend


def load_backend(backend: str, model_dir: Path, model: Any, tokenizer: Any, device: Any) -> Any:
    """The fp32 torch ``model`` of ``model_dir`` as the concrete ``backend`` on ``device``:
    callable as ``model(**batch).logits`` whatever the backend."""
    import torch

    if backend == "torch-int8":
        return torch.ao.quantization.quantize_dynamic(model, int8_layers(model), dtype=torch.qint8)
    if backend.startswith("onnx"):
        return onnx_model(model_dir, model, tokenizer, quantize=backend == "onnx-int8",
                          device=device)
    if backend == "torch-bf16":
        model = model.to(torch.bfloat16)
    return model.to(device)


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


@dataclass
class _Output:
    logits: Any


class OnnxModel:
    """An ONNX Runtime session behind the ``model(**batch).logits`` interface."""

    def __init__(self, path: Path, *, threads: int | None = None,
                 providers: tuple[str, ...] = ("CPUExecutionProvider",)) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), options, providers=list(providers))
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.path = path

    def __call__(self, **batch: Any) -> _Output:
        import torch

        feed = {name: batch[name].numpy() for name in self.input_names if name in batch}
        if "token_type_ids" in self.input_names and "token_type_ids" not in feed:
            feed["token_type_ids"] = batch["input_ids"].new_zeros(batch["input_ids"].shape).numpy()
        (logits,) = self.session.run(["logits"], feed)
        return _Output(torch.from_numpy(logits))

    def eval(self) -> OnnxModel:
        return self


def onnx_model(model_dir: Path, torch_model: Any, tokenizer: Any, *, quantize: bool,
               device: Any = None) -> OnnxModel:
    """Export (once) and load the ONNX graph of a model directory; on a CUDA device through
    ONNX Runtime's CUDA provider (onnxruntime-gpu)."""
    try:
        import onnxruntime
    except ImportError:
        raise ModelError("the onnx backends need onnxruntime and onnx: "
                         "pip install 'stancekit[onnx]'") from None
    folder = _cache_dir(model_dir)
    fp32 = folder / "model.onnx"
    # the cache is tied to the weights it was exported from: a graph that arrived with a
    # model directory, or one left from older weights, is never used in their place
    stamp = folder / "weights.sha256"
    digest = _sha256(model_dir / "model.safetensors")
    if not fp32.is_file() or not stamp.is_file() or stamp.read_text().strip() != digest:
        logger.info("exporting %s to ONNX (cached in %s)", model_dir, folder)
        for old in folder.glob("*.onnx"):
            old.unlink()
        _export(torch_model, tokenizer, fp32)
        stamp.write_text(digest + "\n")
    target = fp32
    if quantize:
        target = folder / "model-int8.onnx"
        if not target.is_file() or target.stat().st_mtime < fp32.stat().st_mtime:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8)
            os.replace(tmp, target)
    import torch

    # ONNX Runtime follows torch's thread setting (torch.set_num_threads / OMP_NUM_THREADS), so
    # one knob sizes every backend and parallel shards do not oversubscribe the cores.
    providers: tuple[str, ...] = ("CPUExecutionProvider",)
    if device is not None and device.type == "cuda":
        if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
            raise ModelError("the onnx backends on a GPU need onnxruntime-gpu (its CUDA "
                             "provider); use --backend torch-bf16 or torch on a GPU")
        providers = ("CUDAExecutionProvider", "CPUExecutionProvider")
    return OnnxModel(target, threads=torch.get_num_threads(), providers=providers)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _cache_dir(model_dir: Path) -> Path:
    folder = model_dir / ONNX_DIR
    try:
        folder.mkdir(exist_ok=True)
        probe = folder / f".probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
        return folder
    except OSError:
        key = hashlib.sha1(str(model_dir.resolve()).encode()).hexdigest()[:16]
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        folder = base / "stancekit" / "onnx" / key
        folder.mkdir(parents=True, exist_ok=True)
        return folder


def _export(model: Any, tokenizer: Any, out: Path) -> None:
    import torch

    sample = tokenizer(["an actor on a target"], ["a sentence of text"], return_tensors="pt")
    names = [n for n in INPUTS if n in sample]
    args = tuple(sample[n] for n in names)
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes["logits"] = {0: "batch"}

    class Logits(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(names, tensors))).logits

    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    with torch.inference_mode():
        torch.onnx.export(Logits(model).eval(), args, str(tmp), input_names=names,
                          output_names=["logits"], dynamic_axes=axes, opset_version=17,
                          dynamo=False)
    os.replace(tmp, out)
