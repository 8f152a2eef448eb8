"""The model card (``README.md``) of a model directory: data, dev metrics, training, versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def model_card(meta: dict[str, Any]) -> str:
    m = meta["dev_metrics"]
    lines = [
        "# stancekit model", "",
        f"Fine-tuned from `{meta['encoder']}` to classify an actor's stance toward a target as "
        f"{', '.join(f'`{x}`' for x in meta['labels'])}.", "",
        "## Data", "", "| split | pairs | fingerprint | labels |", "|---|---|---|---|",
        *[f"| {k} | {v['n']} | `{v['fingerprint']}` | {v['labels']} |" for k, v in meta["data"].items()],
        "", "Training pairs by source: " + ", ".join(
            f"{k} {v:,}" for k, v in (meta.get("sources") or {}).items()) + ".",
        "", "## Dev metrics (model selection)", "",
        f"- macro-F1: {m['dev_f1_macro']:.4f} (majority class: {meta['dev_majority_f1_macro']:.4f})",
        f"- F_avg (support, condemn): {m['dev_f_avg']:.4f}",
        f"- accuracy: {m['dev_accuracy']:.4f}",
        *[f"- F1 {lab}: {m[f'dev_f1_{lab}']:.4f}" for lab in meta["labels"]],
        "", "## Training", "",
        f"- learning rate {meta['learning_rate']:g}, seed {meta['seed']}, {meta['steps']} steps, "
        f"{meta['train_seconds']:.0f} s",
        f"- stacked with TF-IDF + LR: {'yes' if meta['stacker'] else 'no'}",
        *_calibration_lines(meta.get("calibration")),
        f"- versions: {meta['versions']}", "",
        "Load it with `stancekit.StanceClassifier.from_pretrained(<this directory>)`.", "",
    ]
    return "\n".join(lines)


def write_model_card(path: Path, meta: dict[str, Any]) -> None:
    path.write_text(model_card(meta), encoding="utf-8")


def _calibration_lines(cal: dict[str, Any] | None) -> list[str]:
    if not cal:
        return []
    return [f"- temperature scaling of the {cal['applies_to']}, fitted on dev: "
            f"T = {cal['temperature']:.3f}; ECE (15 bins) {cal['ece_before']:.4f} -> "
            f"{cal['ece_after']:.4f}, NLL {cal['nll_before']:.4f} -> {cal['nll_after']:.4f}"]
