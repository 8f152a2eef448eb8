"""The evaluation report (`stancekit evaluate --report DIR`), drawn from `analyze`: the headline
table beside the baselines with 95 % intervals, the confusion matrix, the reliability diagram,
the risk-coverage curve, slice tables and error examples."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..fileio import jsonable, partial_path, replacing, writing
from ..labels import LABELS
from ..metrics import format_p
from . import pages

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..evaluation import SplitAnalysis

MAX_SLICE_ROWS = 15


def confusion_figure(cm: Sequence[Sequence[int]]) -> Figure:
    cm = np.asarray(cm)
    fig = pages.figure(4.2, 3.6)
    ax = fig.add_subplot()
    rows = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros(cm.shape), where=rows > 0)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, f"{cm[i, j]}\n{share[i, j]:.0%}", ha="center", va="center",
                    color="white" if share[i, j] > 0.6 else "#1d2330", fontsize=10)
    ax.set_xticks(range(len(LABELS)), LABELS)
    ax.set_yticks(range(len(LABELS)), LABELS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title("confusion matrix (count, share of gold row)", fontsize=10)
    return fig


def reliability_figure(bins: Sequence[Mapping[str, Any]], bins_before: Sequence[Mapping[str, Any]],
                       *, ece_after: float, ece_before: float) -> Figure:
    fig = pages.figure(4.6, 4.6)
    ax, hist = fig.subplots(2, 1, height_ratios=[3, 1], sharex=True)
    width = bins[0]["upper"] - bins[0]["lower"]
    centers = np.array([(b["lower"] + b["upper"]) / 2 for b in bins])
    acc = np.array([b["accuracy"] if b["n"] else np.nan for b in bins], dtype=float)
    acc_before = np.array([b["accuracy"] if b["n"] else np.nan for b in bins_before], dtype=float)
    ax.plot([0, 1], [0, 1], ls="--", color="#8a93a3", lw=1, label="perfect calibration")
    ax.bar(centers, np.nan_to_num(acc), width=width * 0.92, color="#3b6fb6", alpha=0.85,
           label=f"after temperature (ECE {ece_after:.3f})")
    ax.plot(centers, acc_before, "o", color="#c0392b", ms=4,
            label=f"before, T=1 (ECE {ece_before:.3f})")
    ax.set_ylabel("accuracy in bin")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("reliability diagram (15 confidence bins)", fontsize=10)
    hist.bar(centers, [b["n"] for b in bins], width=width * 0.92, color="#3b6fb6", alpha=0.85)
    hist.set_ylabel("pairs")
    hist.set_xlabel("confidence (top probability)")
    hist.set_xlim(0, 1)
    return fig


def risk_coverage_figure(curve: Sequence[Mapping[str, float]], abstention: Mapping[str, Any]
                         ) -> Figure:
    fig = pages.figure(4.6, 3.6)
    ax = fig.add_subplot()
    ax.step([p["coverage"] for p in curve], [p["risk"] for p in curve], where="post",
            color="#3b6fb6", label=f"model (AURC {abstention['aurc']:.3f})")
    target = 1 - abstention["target_precision"]
    ax.axhline(target, ls="--", color="#8a93a3", lw=1,
               label=f"risk at {abstention['target_precision']:.0%} precision")
    if abstention.get("chosen_on") == "dev" and abstention.get("precision") is not None:
        ax.plot(abstention["coverage"], 1 - abstention["precision"], "o", color="#c0392b",
                label=f"threshold {abstention['threshold']:.2f} from dev")
    ax.set_xlim(0, 1.01)
    ax.set_ylim(0, max([target * 2, 0.05] + [p["risk"] for p in curve]) * 1.05)
    ax.set_xlabel("coverage (share of predictions kept)")
    ax.set_ylabel("risk (1 - precision of kept)")
    ax.set_title("risk-coverage: abstain below a confidence", fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    return fig


# -- evaluation report ---------------------------------------------------------------------------
def _verdict(m: Mapping[str, Any], name: str) -> str:
    """The paired comparison's cell: the difference, its interval and p-value, and what it
    means — a significant loss shown as loudly as a win, in its own colour."""
    lo, hi = m[f"{name}_f1_macro_diff_ci"]
    p = format_p(m[f"{name}_f1_macro_diff_p"], m.get(f"{name}_diff_resamples"))
    if lo > 0:
        verdict, cls = "▲ stancekit better: the interval excludes 0", "yes"
    elif hi < 0:
        verdict, cls = "▼ stancekit worse: the interval excludes 0", "worse"
    else:
        verdict, cls = "no clear difference: the interval includes 0", "no"
    return (f'<div class="{cls}-box">{m[f"{name}_f1_macro_diff"]:+.3f} <span class="ci">'
            f"[{lo:+.3f}, {hi:+.3f}], {pages.e(p)}</span><br>"
            f'<span class="{cls}">{verdict}</span></div>')


def _headline(a: SplitAnalysis) -> str:
    name, model = a.name, a.metrics["stancekit"]
    header = ["system", "macro-F1", "F_avg", "accuracy", *(f"F1 {lab}" for lab in LABELS), "n",
              "stancekit − system, macro-F1 (paired bootstrap)"]
    rows, classes = [], []
    for system, m in a.metrics.items():
        g = lambda k, m=m: pages.with_ci(m, f"{name}_{k}")  # noqa: E731
        diff = ""
        if f"{name}_f1_macro_diff" in m:
            diff = _verdict(m, name)
        rows.append([pages.e(system), g("f1_macro"), g("f_avg"), pages.num(m[f"{name}_accuracy"]),
                     *(g(f"f1_{lab}") for lab in LABELS), pages.num(m[f"{name}_n"]), diff])
        classes.append("model" if system == "stancekit" else "")
    note = ("Brackets: 95 % bootstrap intervals" +
            (", resampling whole documents (doc_id)" if any(p.doc_id for p in a.pairs) else "") +
            ". Baselines are fitted on the model's train split. The last column compares the "
            "model with each baseline on the same resamples.")
    if len(a.metrics) == 1:
        note += " No baselines: the model's train data was not available."
    cal = a.calibration
    cal_rows = [["ECE (15 bins)", pages.num(cal["ece_uncalibrated"], 4), pages.num(cal["ece"], 4)],
                ["NLL", pages.num(cal["nll_uncalibrated"], 4), pages.num(cal["nll"], 4)]]
    fit = cal.get("fit")
    if fit:
        cal_rows += [["dev ECE (where T was fitted)", pages.num(fit["ece_before"], 4),
                      pages.num(fit["ece_after"], 4)],
                     ["dev NLL", pages.num(fit["nll_before"], 4), pages.num(fit["nll_after"], 4)]]
        t = (f"T = {fit['temperature']:.3f}, applied to the {fit['applies_to']}'s logits, "
             f"fitted on dev ({fit['n']} pairs)")
    else:
        t = (f"T = {cal['temperature']:.3f} (this model directory records no calibration fit; "
             "retrain to fit one)")
    ab = a.abstention
    if ab.get("chosen_on") == "dev":
        ab_text = (f"Abstaining below confidence <b>{ab['threshold']:.3f}</b> (the lowest "
                   f"threshold reaching {ab['target_precision']:.0%} precision on dev, where it "
                   f"kept {ab['dev_coverage']:.1%}) keeps <b>{ab['coverage']:.1%}</b> of {name} "
                   f"with precision <b>{pages.num(ab['precision'])}</b>.")
    elif ab.get("dev") == "unreachable":
        ab_text = (f"No confidence threshold reaches {ab['target_precision']:.0%} precision on "
                   "dev: even the most confident predictions are wrong too often (a lower "
                   "<code>--target-precision</code> gives a threshold).")
    else:
        ab_text = "No dev split was available to choose a threshold."
    oracle = ab.get("oracle")
    ab_text += (f" Chosen on {name} itself (optimistic): threshold {oracle['threshold']:.3f}, "
                f"coverage {oracle['coverage']:.1%}." if oracle else
                f" No threshold reaches {ab['target_precision']:.0%} precision on {name} itself.")
    reliability = pages.img(
        reliability_figure(cal["bins"], cal["bins_uncalibrated"], ece_after=cal["ece"],
                           ece_before=cal["ece_uncalibrated"]),
        "reliability diagram", "Bars: accuracy per confidence bin with the fitted temperature; "
        "dots: at T=1. Below: how many predictions fall in each bin.")
    curve = pages.img(risk_coverage_figure(a.risk_coverage, ab), "risk-coverage curve",
                 "Keeping only predictions at or above a confidence: the share kept (x) and the "
                 "error rate among them (y).")
    confusion = pages.img(confusion_figure(model[f"{name}_confusion_matrix"]), "confusion matrix")
    command = (f"<code>stancekit predict --abstain-below {ab['threshold']:.2f}</code>"
               if "threshold" in ab else "<code>stancekit predict --abstain-below P</code>")
    return (f"<h3>Headline</h3>{pages.table(header, rows, row_classes=classes)}"
            f'<p class="note">{pages.e(note)}</p>'
            f'<div class="figs"><div><h3>Calibration</h3>'
            f"{pages.table(['', 'before (T=1)', 'after'], cal_rows)}<p class=\"note\">{pages.e(t)}</p>"
            f"<h3>Abstention</h3><p>{ab_text}</p><p class=\"note\">An abstained prediction keeps "
            f"its label and is flagged <code>abstained</code>: {command}. "
            f"AURC (area under the risk-coverage curve) {ab['aurc']:.4f}.</p></div>"
            f"{confusion}</div>"
            f'<div class="figs">{reliability}{curve}</div>')


def _slices(a: SplitAnalysis, analysis_path: str) -> str:
    overall = a.metrics["stancekit"][f"{a.name}_f1_macro"]
    parts = [f"<p class=\"note\">Macro-F1 of a slice averages over the classes present in it. "
             f"Shaded rows (5+ pairs) are more than 0.10 below the overall macro-F1 "
             f"({overall:.3f}). Up to {MAX_SLICE_ROWS} largest slices shown; all are in "
             f"<code>{pages.e(analysis_path)}</code> (key <code>slices</code>).</p>"]
    titles = {"target": "per target", "actor": "per actor", "corpus": "per source corpus",
              "length": "per text length"}
    for kind, rows in a.slices.items():
        shown = rows[:MAX_SLICE_ROWS]
        header = [kind, "n", "docs", *(f"gold {lab}" for lab in LABELS), "accuracy", "macro-F1",
                  "F_avg", *(f"F1 {lab}" for lab in LABELS), "mean conf."]
        body = [[pages.e(r[kind]), pages.num(r["n"]), pages.num(r["docs"]),
                 *(pages.num(r[f"n_{lab}"]) for lab in LABELS), pages.num(r["accuracy"]),
                 pages.num(r["f1_macro"]), pages.num(r["f_avg"]),
                 *(pages.num(r[f"f1_{lab}"]) for lab in LABELS), pages.num(r["mean_confidence"])]
                for r in shown]
        weak = ["weak" if r["n"] >= 5 and r["f1_macro"] < overall - 0.10 else "" for r in shown]
        more = f" ({len(rows) - len(shown)} more)" if len(rows) > len(shown) else ""
        parts.append(f"<h3>{pages.e(titles.get(kind, kind))}{more}</h3>"
                     f"{pages.table(header, body, row_classes=weak)}")
    return "".join(parts)


def _errors(a: SplitAnalysis) -> str:
    titles = {"confident_mistakes": "Most confident mistakes",
              "unsure_correct": "Least confident right answers"}
    parts = [f"<p class=\"note\">All of them, with ids and document ids, are in "
             f"errors_{pages.e(a.name)}.csv beside this report.</p>"]
    for kind, rows in a.errors.items():
        header = ["actor", "target", "gold", "predicted", "confidence",
                  *(f"p({lab})" for lab in LABELS), "text"]
        body = [[pages.e(r["actor"]), pages.e(r["target"]), pages.e(r["gold"]), pages.e(r["predicted"]),
                 pages.num(r["confidence"]), *(pages.num(r[f"p_{lab}"]) for lab in LABELS),
                 pages.e(r["text"])] for r in rows[:10]]
        table = pages.table(header, body, left=4, text_col=len(header) - 1)
        shown = f"{min(10, len(rows))} of {len(rows)}" if len(rows) > 10 else str(len(rows))
        parts.append(f"<h3>{titles[kind]} ({shown})</h3>" +
                     (table if rows else "<p class=\"muted\">none</p>"))
    return "".join(parts)


def evaluation_html(analyses: Mapping[str, SplitAnalysis], *,
                    model_meta: Mapping[str, Any] | None = None, model_path: str | None = None,
                    title: str = "stancekit evaluation",
                    analysis_path: str = "analysis.json") -> str:
    """The evaluation report as one HTML string; ``analysis_path`` is where the page says
    the full ``analysis.json`` is."""
    meta = model_meta or {}
    bits = [f"model <code>{pages.e(model_path)}</code>" if model_path else "",
            f"encoder <code>{pages.e(meta.get('encoder'))}</code>" if meta.get("encoder") else "",
            f"trained {pages.e(meta.get('created'))}" if meta.get("created") else "",
            f"report written {time.strftime('%Y-%m-%d %H:%M')}"]
    nav = "".join(f'<a href="#split-{pages.e(n)}">{pages.e(n)} ({len(a.pairs)} pairs)</a>'
                  for n, a in analyses.items())
    body = [f"<nav>{nav}</nav>"]
    for name, a in analyses.items():
        body.append(f'<h2 id="split-{pages.e(name)}">Split: {pages.e(name)} '
                    f'<span class="muted">({len(a.pairs)} pairs)</span></h2>')
        body.append(_headline(a))
        body.append(f"<h3>Slices</h3>{_slices(a, analysis_path)}")
        body.append(f"<h3>Errors</h3>{_errors(a)}")
    return pages.page(title, " · ".join(b for b in bits if b), "".join(body))


def report_files(out_dir: str | Path, split_names: Iterable[str]) -> list[Path]:
    """The files `write_evaluation_report` writes for these splits."""
    out = Path(out_dir)
    page = out / pages.REPORT_FILE
    return [*(out / f"errors_{name}.csv" for name in split_names), page, partial_path(page)]


def write_evaluation_report(analyses: Mapping[str, SplitAnalysis], out_dir: str | Path, *,
                            model_meta: Mapping[str, Any] | None = None,
                            model_path: str | None = None,
                            title: str = "stancekit evaluation",
                            analysis_path: str | Path | None = None) -> Path:
    """Write ``out_dir/index.html`` (plus each split's ``errors_<split>.csv``); returns the page.

    ``analysis_path`` is the ``analysis.json`` already written (`write_analysis`) that the page
    points to for everything it leaves out; without one it is written beside the page.

    Example:
        >>> from stancekit.evaluation import analyze  # doctest: +SKIP
        >>> write_evaluation_report(analyze(clf, {"test": test}), "report")  # doctest: +SKIP
    """
    from ..evaluation import write_errors_csv

    out = Path(out_dir)
    with writing(out):
        out.mkdir(parents=True, exist_ok=True)
    for name, a in analyses.items():
        write_errors_csv(a.errors, out / f"errors_{name}.csv")
    if analysis_path is None:
        analysis_path = out / "analysis.json"
        with replacing(analysis_path) as tmp:
            tmp.write_text(json.dumps(jsonable({n: a.to_dict() for n, a in analyses.items()}),
                                      indent=2), encoding="utf-8")
    return pages.write(out, evaluation_html(analyses, model_meta=model_meta, model_path=model_path,
                                            title=title,
                                            analysis_path=str(Path(analysis_path).resolve())))
