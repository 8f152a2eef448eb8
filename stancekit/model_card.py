"""The model card (``README.md``) of a model directory: the Hugging Face hub's YAML metadata
header, then data, metrics, training, versions, and how (not) to load the model."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .labels import LABELS

# the hub id of an encoder named in a config (packaged encoders ship hub models' weights)
HUB_IDS = {"packaged:all-MiniLM-L6-v2": "sentence-transformers/all-MiniLM-L6-v2",
           "default": "sentence-transformers/all-MiniLM-L6-v2",
           "packaged:all-mpnet-base-v2": "sentence-transformers/all-mpnet-base-v2"}
# training sources that are public corpora whose licences restrict use (see their SOURCE.md)
RESTRICTED_SOURCES = ("dsa_news", "semeval", "pstance", "newsmtsc", "gwsd")
TASK = {"type": "text-classification", "name": "Stance classification (actor toward target)"}


def base_model(encoder: str | None) -> str | None:
    """The hub id the model was fine-tuned from, or None for a local directory."""
    if not encoder:
        return None
    if encoder in HUB_IDS:
        return HUB_IDS[encoder]
    if encoder.startswith(("/", ".", "~")) or encoder.count("/") > 1:
        return None  # a local directory: no hub id to link to
    return encoder


def card_metadata(meta: Mapping[str, Any], evaluation: Mapping[str, Any] | None = None, *,
                  name: str | None = None, license: str | None = None) -> dict[str, Any]:
    """The YAML header: what the hub shows and filters on, with the measured values in
    ``model-index`` (dev, and each evaluation split of ``eval/metrics.json``)."""
    sources = [s for s in (meta.get("sources") or {}) if s != "files"]
    results = []
    dev = meta.get("dev_metrics") or {}
    if "dev_f1_macro" in dev:
        results.append(_result("dev", "dev (model selection)", dev, "dev", sources))
    for split, systems in (evaluation or {}).items():
        model = systems.get("stancekit") if isinstance(systems, Mapping) else None
        if model and f"{split}_f1_macro" in model:
            results.append(_result(split, split, model, split, sources))
    data: dict[str, Any] = {
        "library_name": "stancekit",
        "license": license or default_license(meta),
        "pipeline_tag": "text-classification",
        "tags": ["stancekit", "stance-detection", "text-classification", "news"],
        "datasets": sources or None,
        "metrics": ["f1", "accuracy"],
        "base_model": base_model(meta.get("encoder")),
        "model-index": [{"name": name or "stancekit model", "results": results}]
        if results else None,
    }
    return {k: v for k, v in data.items() if v is not None}


def default_license(meta: Mapping[str, Any]) -> str:
    """``apache-2.0`` (stancekit's own) unless the model learnt from a corpus whose licence
    restricts use; then ``other``, and the card says which."""
    sources = meta.get("sources") or {}
    return "other" if any(s in RESTRICTED_SOURCES for s in sources) else "apache-2.0"


def _result(split: str, title: str, m: Mapping[str, Any], prefix: str,
            sources: list[str]) -> dict[str, Any]:
    metrics = [{"type": "f1", "name": "macro-F1", "value": round(m[f"{prefix}_f1_macro"], 4)}]
    if f"{prefix}_f_avg" in m:
        metrics.append({"type": "f1", "name": "F_avg (support, condemn)",
                        "value": round(m[f"{prefix}_f_avg"], 4)})
    if f"{prefix}_accuracy" in m:
        metrics.append({"type": "accuracy", "name": "accuracy",
                        "value": round(m[f"{prefix}_accuracy"], 4)})
    return {"task": dict(TASK),
            "dataset": {"name": f"{' + '.join(sources) or 'own data'}: {title}",
                        "type": sources[0] if len(sources) == 1 else "stancekit-training-data",
                        "split": split},
            "metrics": metrics}


def model_card(meta: Mapping[str, Any], evaluation: Mapping[str, Any] | None = None, *,
               name: str | None = None, license: str | None = None) -> str:
    """The card as Markdown with its YAML header; ``evaluation`` is ``eval/metrics.json``."""
    header = yaml.safe_dump(card_metadata(meta, evaluation, name=name, license=license),
                            sort_keys=False, allow_unicode=True)
    labels = meta.get("labels") or list(LABELS)
    load = name or "<this directory or hub id>"
    lines = [
        "---", header.rstrip(), "---", "", f"# {name or 'stancekit model'}", "",
        f"Fine-tuned from `{base_model(meta.get('encoder')) or meta.get('encoder', '?')}` with "
        "stancekit to classify an actor's "
        f"stance toward a target in news text as {', '.join(f'`{x}`' for x in labels)}.", "",
        "## Use it", "", "```python",
        "from stancekit import StanceClassifier", "",
        f'clf = StanceClassifier.from_pretrained("{load}")',
        'clf.predict([{"actor": "Saudi Arabia", "target": "the offensive",',
        '              "text": "Riyadh urged both sides to exercise maximum restraint."}])',
        "```", "",
        "or `stancekit predict --model <this directory or hub id> --input pairs.jsonl --output "
        "preds.jsonl`.", "",
        "**A plain `transformers` `pipeline(\"text-classification\")` on these weights gives "
        "other answers**: it does not build the input the model was trained on (the "
        f"`{(meta.get('encoding') or {}).get('template', '{actor} on {target}')}` segment and "
        "the marker tokens around the actor's and target's mentions)"
        + (f", applies no temperature (stancekit divides the logits by T = "
           f"{meta['temperature']:.3f})" if meta.get("temperature", 1.0) != 1.0 else "")
        + (", and leaves out the stacked TF-IDF model" if meta.get("stacker") else "")
        + ". Load it with stancekit.", "",
    ]
    lines += _data_lines(meta) + _metric_lines(meta, evaluation) + _training_lines(meta)
    lines += _license_lines(meta, license)
    return "\n".join(lines)


def _data_lines(meta: Mapping[str, Any]) -> list[str]:
    data = meta.get("data") or {}
    if not data:
        return []
    lines = ["## Data", "", "| split | pairs | fingerprint | labels |", "|---|---|---|---|",
             *[f"| {k} | {v['n']} | `{v['fingerprint']}` | {v['labels']} |"
               for k, v in data.items()], ""]
    if meta.get("sources"):
        lines += ["Training pairs by source: " + ", ".join(
            f"{k} {v:,}" for k, v in meta["sources"].items()) + ".", ""]
    return lines


def _metric_lines(meta: Mapping[str, Any], evaluation: Mapping[str, Any] | None) -> list[str]:
    m = meta.get("dev_metrics") or {}
    lines = []
    if "dev_f1_macro" in m:
        floor = meta.get("dev_majority_f1_macro")
        lines += ["## Dev metrics (model selection)", "",
                  f"- macro-F1: {m['dev_f1_macro']:.4f}"
                  + (f" (majority class: {floor:.4f})" if floor is not None else ""),
                  f"- F_avg (support, condemn): {m['dev_f_avg']:.4f}",
                  f"- accuracy: {m['dev_accuracy']:.4f}",
                  *[f"- F1 {lab}: {m[f'dev_f1_{lab}']:.4f}" for lab in LABELS
                    if f"dev_f1_{lab}" in m], ""]
    rows = []
    for split, systems in (evaluation or {}).items():
        for system, s in systems.items():
            if f"{split}_f1_macro" in s:
                rows.append(f"| {split} | {system} | {s[f'{split}_f1_macro']:.4f} | "
                            f"{s.get(f'{split}_f_avg', float('nan')):.4f} | "
                            f"{s.get(f'{split}_accuracy', float('nan')):.4f} |")
    if rows:
        lines += ["## Evaluation", "", "Held-out splits, beside the baselines trained on the "
                  "same train split:", "", "| split | system | macro-F1 | F_avg | accuracy |",
                  "|---|---|---|---|---|", *rows, ""]
    return lines


def _training_lines(meta: Mapping[str, Any]) -> list[str]:
    lines = ["## Training", ""]
    if "learning_rate" in meta:
        lines.append(f"- learning rate {meta['learning_rate']:g}, seed {meta['seed']}, "
                     f"{meta['steps']} steps, {meta['train_seconds']:.0f} s")
    lines.append(f"- stacked with TF-IDF + LR: {'yes' if meta.get('stacker') else 'no'}")
    lines += _calibration_lines(meta.get("calibration"))
    if meta.get("versions"):
        lines.append(f"- versions: {meta['versions']}")
    return [*lines, ""]


def _license_lines(meta: Mapping[str, Any], license: str | None) -> list[str]:
    restricted = [s for s in (meta.get("sources") or {}) if s in RESTRICTED_SOURCES]
    if license or not restricted:
        return []
    return ["## Licence", "", f"The model learnt from {', '.join(restricted)}, whose licence "
            "restricts use (research use; see the corpus's own terms), so the card says "
            "`license: other`. Whoever publishes the model should state its terms.", ""]


def write_model_card(path: Path, meta: Mapping[str, Any], *,
                     evaluation: Mapping[str, Any] | None = None, name: str | None = None,
                     license: str | None = None) -> None:
    path.write_text(model_card(meta, evaluation, name=name, license=license), encoding="utf-8")


def _calibration_lines(cal: Mapping[str, Any] | None) -> list[str]:
    if not cal:
        return []
    return [f"- temperature scaling of the {cal['applies_to']}, fitted on dev: "
            f"T = {cal['temperature']:.3f}; ECE (15 bins) {cal['ece_before']:.4f} -> "
            f"{cal['ece_after']:.4f}, NLL {cal['nll_before']:.4f} -> {cal['nll_after']:.4f}"]
