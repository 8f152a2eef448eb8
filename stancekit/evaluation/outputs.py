"""Writing evaluation results: Markdown tables, ``metrics.json``, ``analysis.json`` and the
error CSVs."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..fileio import jsonable, writing
from ..labels import LABELS
from ..metrics import format_p
from .analysis import MODEL, SplitAnalysis
from .slices import ERROR_FIELDS


def _fmt(m: dict[str, Any], key: str) -> str:
    value, ci = m[key], m.get(f"{key}_ci")
    return f"{value:.4f} [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else f"{value:.4f}"


def summary_markdown(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    """A Markdown table per split: the model beside the baselines, with 95 % bootstrap
    intervals in brackets and the paired bootstrap of the model against each baseline."""
    lines = []
    for split, systems in results.items():
        lines += [f"### {split}", "",
                  "| system | macro-F1 | F_avg | accuracy | F1 support | F1 neutral | F1 condemn "
                  "| n | stancekit - system (macro-F1) |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for system, m in systems.items():
            g = lambda k, m=m, split=split: _fmt(m, f"{split}_{k}")  # noqa: E731
            diff = ""
            if f"{split}_f1_macro_diff" in m:
                lo, hi = m[f"{split}_f1_macro_diff_ci"]
                p = format_p(m[f"{split}_f1_macro_diff_p"], m.get(f"{split}_diff_resamples"))
                diff = f"{m[f'{split}_f1_macro_diff']:+.4f} [{lo:+.3f}, {hi:+.3f}], {p}"
            lines.append(f"| {system} | {g('f1_macro')} | {g('f_avg')} | "
                         f"{m[f'{split}_accuracy']:.4f} | {g('f1_support')} | {g('f1_neutral')} | "
                         f"{g('f1_condemn')} | {m[f'{split}_n']} | {diff} |")
        model = systems[MODEL]
        cm = model[f"{split}_confusion_matrix"]
        lines += ["", "Confusion matrix of stancekit (rows: gold, columns: predicted):", "",
                  "| gold \\ pred | " + " | ".join(LABELS) + " |", "|---" * (len(LABELS) + 1) + "|"]
        lines += [f"| {lab} | " + " | ".join(str(x) for x in row) + " |"
                  for lab, row in zip(LABELS, cm, strict=True)]
        if f"{split}_ece" in model:
            lines += ["", f"Calibration: ECE {model[f'{split}_ece_uncalibrated']:.4f} -> "
                          f"{model[f'{split}_ece']:.4f}, NLL "
                          f"{model[f'{split}_nll_uncalibrated']:.4f} -> {model[f'{split}_nll']:.4f}"
                          " (before -> after temperature scaling)"]
        if f"{split}_abstain_threshold" in model:
            precision = model[f"{split}_selective_precision"]
            lines += ["", f"Abstention below {model[f'{split}_abstain_threshold']:.4f} (chosen on "
                          f"dev): coverage {model[f'{split}_coverage']:.3f}, precision "
                          + ("n/a" if precision is None else f"{precision:.3f}")]
        lines.append("")
    return "\n".join(lines)


def analysis_files(out_dir: str | Path, split_names: Iterable[str]) -> list[Path]:
    """The files `write_analysis` writes for these splits (checked against the inputs first)."""
    out = Path(out_dir)
    return [out / "metrics.json", out / "metrics.md", out / "analysis.json",
            *(out / f"errors_{name}.csv" for name in split_names)]


def write_results(results: dict[str, Any], out_dir: str | Path) -> tuple[Path, Path]:
    out = Path(out_dir)
    with writing(out):  # a read-only or full disk: one error naming the file
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
        (out / "metrics.md").write_text(summary_markdown(results), encoding="utf-8")
    return out / "metrics.json", out / "metrics.md"


def write_analysis(analyses: dict[str, SplitAnalysis], out_dir: str | Path) -> list[Path]:
    """``metrics.json``, ``metrics.md``, ``analysis.json`` (curves, slices, errors) and one
    ``errors_<split>.csv`` per split."""
    out = Path(out_dir)
    paths = list(write_results({name: a.metrics for name, a in analyses.items()}, out))
    with writing(out / "analysis.json"):
        (out / "analysis.json").write_text(json.dumps(
            jsonable({name: a.to_dict() for name, a in analyses.items()}), indent=2),
            encoding="utf-8")
    paths.append(out / "analysis.json")
    for name, a in analyses.items():
        paths.append(write_errors_csv(a.errors, out / f"errors_{name}.csv"))
    return paths


def write_errors_csv(errors: dict[str, list[dict[str, Any]]], path: str | Path) -> Path:
    path = Path(path)
    with writing(path), open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=ERROR_FIELDS)
        writer.writeheader()
        for rows in errors.values():
            writer.writerows(rows)
    return path
