"""Self-contained HTML reports: one file, plots inline as base64 PNG, nothing fetched.

- `write_evaluation_report`: what `stancekit evaluate --report DIR` writes from `analyze`: the
  headline table beside the baselines with 95 % intervals, the confusion matrix, the
  reliability diagram, the risk-coverage curve, slice tables and error examples.
- `write_stance_report`: what `stancekit report` writes from article-level predictions
  (`stancekit predict --actors ...` output): the actor x target stance heat map, and stance
  over time where the rows have dates.

Plots use matplotlib's object API (`Figure`), never pyplot's global state, so reports can be
drawn from threads and tests without a display.
"""

from __future__ import annotations

import base64
import html
import io
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import DataError
from .labels import LABELS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .evaluation import SplitAnalysis

REPORT_FILE = "index.html"
MAX_SLICE_ROWS = 15
MAX_ACTORS, MAX_TARGETS, MAX_SERIES = 30, 20, 20
PAGE_INCHES = 10.5  # the page is about 1150 px wide at the figures' 110 dpi
STANCE_CMAP = "RdBu"  # red = condemn (-1), blue = support (+1): readable with red-green blindness

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330;
       margin: 0 auto; max-width: 1180px; padding: 24px 32px 64px; }
h1 { font-size: 24px; margin-bottom: 4px; }
h2 { font-size: 20px; margin-top: 40px; border-bottom: 2px solid #d8dde6; padding-bottom: 4px; }
h3 { font-size: 16px; margin-top: 26px; }
.muted { color: #5b6475; } .note { color: #5b6475; font-size: 12.5px; }
table { border-collapse: collapse; margin: 8px 0 14px; font-size: 13px; }
th, td { border: 1px solid #d8dde6; padding: 4px 8px; text-align: right; vertical-align: top; }
th { background: #f1f3f7; } td.l, th.l { text-align: left; }
td.text, th.text { text-align: left; max-width: 520px; font-size: 12.5px; }
tr.model td { font-weight: 600; background: #f6f9ff; } tr.weak td { background: #fff3f0; }
.ci { color: #5b6475; font-size: 11.5px; white-space: nowrap; }
.yes { color: #116b2f; font-weight: 600; } .no { color: #8a5a00; font-weight: 600; }
.figs { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
.figs > div { max-width: 560px; }
figure { margin: 0; } figure img { max-width: 100%; border: 1px solid #e3e6ec; }
figcaption { font-size: 12.5px; color: #5b6475; max-width: 520px; }
nav a { margin-right: 14px; } code { white-space: nowrap; }
"""


# -- plumbing --------------------------------------------------------------------------------
def figure_uri(fig: Figure) -> str:
    """A figure as a ``data:image/png;base64,...`` URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _img(fig: Figure, alt: str, caption: str = "") -> str:
    cap = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{_e(alt)}" src="{figure_uri(fig)}">{cap}</figure>'


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _num(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(value)
    return f"{value:.{digits}f}"


def _with_ci(m: Mapping[str, Any], key: str) -> str:
    ci = m.get(f"{key}_ci")
    interval = f' <span class="ci">[{ci[0]:.3f}, {ci[1]:.3f}]</span>' if ci else ""
    return f"{m[key]:.3f}{interval}"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], *, left: int = 1,
           row_classes: Sequence[str] | None = None, text_col: int | None = None) -> str:
    """An HTML table of already-escaped cells; the first ``left`` columns are left-aligned and
    ``text_col`` holds running text."""
    def cls(i: int) -> str:
        return ' class="text"' if i == text_col else ' class="l"' if i < left else ""

    head = "".join(f"<th{cls(i)}>{h}</th>" for i, h in enumerate(header))
    body = []
    for r, row in enumerate(rows):
        tr = f' class="{row_classes[r]}"' if row_classes and row_classes[r] else ""
        cells = "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(row))
        body.append(f"<tr{tr}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _page(title: str, subtitle: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
            f"<h1>{_e(title)}</h1><p class=\"muted\">{subtitle}</p>{body}</body></html>\n")


def _write(out_dir: str | Path, page: str) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / REPORT_FILE
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path


# -- evaluation plots ----------------------------------------------------------------------------
def confusion_figure(cm: Sequence[Sequence[int]]) -> Figure:
    cm = np.asarray(cm)
    fig = _figure(4.2, 3.6)
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
    fig = _figure(4.6, 4.6)
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
    fig = _figure(4.6, 3.6)
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
def _headline(a: SplitAnalysis) -> str:
    name, model = a.name, a.metrics["stancekit"]
    header = ["system", "macro-F1", "F_avg", "accuracy", *(f"F1 {lab}" for lab in LABELS), "n",
              "stancekit − system, macro-F1 (paired bootstrap)"]
    rows, classes = [], []
    for system, m in a.metrics.items():
        g = lambda k, m=m: _with_ci(m, f"{name}_{k}")  # noqa: E731
        diff = ""
        if f"{name}_f1_macro_diff" in m:
            lo, hi = m[f"{name}_f1_macro_diff_ci"]
            real = lo > 0 or hi < 0
            verdict = ('<span class="yes">real: the interval excludes 0</span>' if real else
                       '<span class="no">not distinguishable from 0</span>')
            diff = (f"{m[f'{name}_f1_macro_diff']:+.3f} <span class=\"ci\">[{lo:+.3f}, {hi:+.3f}]"
                    f" p={m[f'{name}_f1_macro_diff_p']:.3f}</span><br>{verdict}")
        rows.append([_e(system), g("f1_macro"), g("f_avg"), _num(m[f"{name}_accuracy"]),
                     *(g(f"f1_{lab}") for lab in LABELS), _num(m[f"{name}_n"]), diff])
        classes.append("model" if system == "stancekit" else "")
    note = ("Brackets: 95 % bootstrap intervals" +
            (", resampling whole documents (doc_id)" if any(p.doc_id for p in a.pairs) else "") +
            ". Baselines are fitted on the model's train split. The last column compares the "
            "model with each baseline on the same resamples.")
    if len(a.metrics) == 1:
        note += " No baselines: the model's train data was not available."
    cal = a.calibration
    cal_rows = [["ECE (15 bins)", _num(cal["ece_uncalibrated"], 4), _num(cal["ece"], 4)],
                ["NLL", _num(cal["nll_uncalibrated"], 4), _num(cal["nll"], 4)]]
    fit = cal.get("fit")
    if fit:
        cal_rows += [["dev ECE (where T was fitted)", _num(fit["ece_before"], 4),
                      _num(fit["ece_after"], 4)],
                     ["dev NLL", _num(fit["nll_before"], 4), _num(fit["nll_after"], 4)]]
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
                   f"with precision <b>{_num(ab['precision'])}</b>.")
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
    reliability = _img(
        reliability_figure(cal["bins"], cal["bins_uncalibrated"], ece_after=cal["ece"],
                           ece_before=cal["ece_uncalibrated"]),
        "reliability diagram", "Bars: accuracy per confidence bin with the fitted temperature; "
        "dots: at T=1. Below: how many predictions fall in each bin.")
    curve = _img(risk_coverage_figure(a.risk_coverage, ab), "risk-coverage curve",
                 "Keeping only predictions at or above a confidence: the share kept (x) and the "
                 "error rate among them (y).")
    confusion = _img(confusion_figure(model[f"{name}_confusion_matrix"]), "confusion matrix")
    command = (f"<code>stancekit predict --abstain-below {ab['threshold']:.2f}</code>"
               if "threshold" in ab else "<code>stancekit predict --abstain-below P</code>")
    return (f"<h3>Headline</h3>{_table(header, rows, row_classes=classes)}"
            f'<p class="note">{_e(note)}</p>'
            f'<div class="figs"><div><h3>Calibration</h3>'
            f"{_table(['', 'before (T=1)', 'after'], cal_rows)}<p class=\"note\">{_e(t)}</p>"
            f"<h3>Abstention</h3><p>{ab_text}</p><p class=\"note\">An abstained prediction keeps "
            f"its label and is flagged <code>abstained</code>: {command}. "
            f"AURC (area under the risk-coverage curve) {ab['aurc']:.4f}.</p></div>"
            f"{confusion}</div>"
            f'<div class="figs">{reliability}{curve}</div>')


def _slices(a: SplitAnalysis) -> str:
    overall = a.metrics["stancekit"][f"{a.name}_f1_macro"]
    parts = [f"<p class=\"note\">Macro-F1 of a slice averages over the classes present in it. "
             f"Shaded rows (5+ pairs) are more than 0.10 below the overall macro-F1 "
             f"({overall:.3f}). Up to {MAX_SLICE_ROWS} largest slices shown; all are in "
             f"analysis.json.</p>"]
    titles = {"target": "per target", "actor": "per actor", "corpus": "per source corpus",
              "length": "per text length"}
    for kind, rows in a.slices.items():
        shown = rows[:MAX_SLICE_ROWS]
        header = [kind, "n", "docs", *(f"gold {lab}" for lab in LABELS), "accuracy", "macro-F1",
                  "F_avg", *(f"F1 {lab}" for lab in LABELS), "mean conf."]
        body = [[_e(r[kind]), _num(r["n"]), _num(r["docs"]),
                 *(_num(r[f"n_{lab}"]) for lab in LABELS), _num(r["accuracy"]),
                 _num(r["f1_macro"]), _num(r["f_avg"]),
                 *(_num(r[f"f1_{lab}"]) for lab in LABELS), _num(r["mean_confidence"])]
                for r in shown]
        weak = ["weak" if r["n"] >= 5 and r["f1_macro"] < overall - 0.10 else "" for r in shown]
        more = f" ({len(rows) - len(shown)} more)" if len(rows) > len(shown) else ""
        parts.append(f"<h3>{_e(titles.get(kind, kind))}{more}</h3>"
                     f"{_table(header, body, row_classes=weak)}")
    return "".join(parts)


def _errors(a: SplitAnalysis) -> str:
    titles = {"confident_mistakes": "Most confident mistakes",
              "unsure_correct": "Least confident right answers"}
    parts = [f"<p class=\"note\">All of them, with ids and document ids, are in "
             f"errors_{_e(a.name)}.csv beside this report.</p>"]
    for kind, rows in a.errors.items():
        header = ["actor", "target", "gold", "predicted", "confidence",
                  *(f"p({lab})" for lab in LABELS), "text"]
        body = [[_e(r["actor"]), _e(r["target"]), _e(r["gold"]), _e(r["predicted"]),
                 _num(r["confidence"]), *(_num(r[f"p_{lab}"]) for lab in LABELS),
                 _e(r["text"])] for r in rows[:10]]
        table = _table(header, body, left=4, text_col=len(header) - 1)
        shown = f"{min(10, len(rows))} of {len(rows)}" if len(rows) > 10 else str(len(rows))
        parts.append(f"<h3>{titles[kind]} ({shown})</h3>" +
                     (table if rows else "<p class=\"muted\">none</p>"))
    return "".join(parts)


def evaluation_html(analyses: Mapping[str, SplitAnalysis], *,
                    model_meta: Mapping[str, Any] | None = None, model_path: str | None = None,
                    title: str = "stancekit evaluation") -> str:
    """The evaluation report as one HTML string."""
    meta = model_meta or {}
    bits = [f"model <code>{_e(model_path)}</code>" if model_path else "",
            f"encoder <code>{_e(meta.get('encoder'))}</code>" if meta.get("encoder") else "",
            f"trained {_e(meta.get('created'))}" if meta.get("created") else "",
            f"report written {time.strftime('%Y-%m-%d %H:%M')}"]
    nav = "".join(f'<a href="#split-{_e(n)}">{_e(n)} ({len(a.pairs)} pairs)</a>'
                  for n, a in analyses.items())
    body = [f"<nav>{nav}</nav>"]
    for name, a in analyses.items():
        body.append(f'<h2 id="split-{_e(name)}">Split: {_e(name)} '
                    f'<span class="muted">({len(a.pairs)} pairs)</span></h2>')
        body.append(_headline(a))
        body.append(f"<h3>Slices</h3>{_slices(a)}")
        body.append(f"<h3>Errors</h3>{_errors(a)}")
    return _page(title, " · ".join(b for b in bits if b), "".join(body))


def write_evaluation_report(analyses: Mapping[str, SplitAnalysis], out_dir: str | Path, *,
                            model_meta: Mapping[str, Any] | None = None,
                            model_path: str | None = None,
                            title: str = "stancekit evaluation") -> Path:
    """Write ``out_dir/index.html`` (plus each split's ``errors_<split>.csv``); returns the page.

    Example:
        >>> from stancekit.evaluation import analyze  # doctest: +SKIP
        >>> write_evaluation_report(analyze(clf, {"test": test}), "report")  # doctest: +SKIP
    """
    from .evaluation import write_errors_csv

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, a in analyses.items():
        write_errors_csv(a.errors, out / f"errors_{name}.csv")
    return _write(out, evaluation_html(analyses, model_meta=model_meta, model_path=model_path,
                                       title=title))


# -- stance tables from article-level predictions -------------------------------------------------
def read_stance_rows(path: str | Path) -> list[dict[str, Any]]:
    """Article-level predictions (`stancekit predict --actors` output: ``actor``, ``target``,
    ``label``, optional ``doc_id``, ``date``, ``abstained``) or a `stance_table` file
    (``actor``, ``target``, ``n_support`` ...), as JSONL, CSV or Parquet."""
    from .data.readers import iter_records

    rows = []
    for line, row in iter_records(path):
        if "n_support" in row:
            rows.append(row)
            continue
        missing = [k for k in ("actor", "target", "label") if not row.get(k)]
        if missing:
            raise DataError(f"expected article-level predictions with the fields ['actor', "
                            f"'target', 'label'] (from `stancekit predict --actors`), or a stance "
                            f"table; {missing} missing, found {sorted(row)}", path=str(path),
                            line=line, field=missing[0])
        if row["label"] not in LABELS:
            raise DataError(f"expected one of {list(LABELS)}, found {row['label']!r}",
                            path=str(path), line=line, field="label")
        rows.append(row)
    if not rows:
        raise DataError("no rows to draw", path=str(path))
    return rows


def _tables(rows: Sequence[Mapping[str, Any]]) -> tuple[list[dict], list[dict], str | None]:
    """The overall actor x target table and a dated one (column name returned) from rows."""
    from .aggregation import stance_table

    if "n_support" not in rows[0]:
        ns = [SimpleNamespace(doc_id=r.get("doc_id"), actor=r["actor"], target=r["target"],
                              label=r["label"], date=r.get("date")) for r in rows]
        return stance_table(ns), stance_table(ns, by="month"), "month"
    period = next((k for k in ("date", "month", "year") if k in rows[0]), None)
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for r in rows:  # a table split by period: sum the periods for the overall map
        c = counts.setdefault((r["actor"], r["target"]), dict.fromkeys(LABELS, 0))
        for lab in LABELS:
            c[lab] += int(float(r[f"n_{lab}"]))
    overall = [{"actor": a, "target": t, "n": sum(c.values()),
                **{f"n_{lab}": c[lab] for lab in LABELS}} for (a, t), c in sorted(counts.items())]
    dated = [{**r, "n": int(float(r["n"])),
              **{f"n_{lab}": int(float(r[f"n_{lab}"])) for lab in LABELS}}
             for r in rows] if period else []
    return overall, dated, period


def _net(row: Mapping[str, Any]) -> float:
    return (int(row["n_support"]) - int(row["n_condemn"])) / max(1, int(row["n"]))


def stance_heatmap_figure(table: Sequence[Mapping[str, Any]]) -> tuple[Figure, str]:
    """Actors (rows) x targets (columns), coloured by net stance (share support minus share
    condemn), annotated with the majority stance and count; the most frequent ones only."""
    by_actor: dict[str, int] = {}
    by_target: dict[str, int] = {}
    for r in table:
        by_actor[r["actor"]] = by_actor.get(r["actor"], 0) + int(r["n"])
        by_target[r["target"]] = by_target.get(r["target"], 0) + int(r["n"])
    actors = sorted(by_actor, key=lambda a: (-by_actor[a], a))[:MAX_ACTORS]
    targets = sorted(by_target, key=lambda t: (-by_target[t], t))[:MAX_TARGETS]
    grid = np.full((len(actors), len(targets)), np.nan)
    notes: dict[tuple[int, int], str] = {}
    for r in table:
        if r["actor"] in actors and r["target"] in targets:
            i, j = actors.index(r["actor"]), targets.index(r["target"])
            grid[i, j] = _net(r)
            top = max(LABELS, key=lambda lab: (int(r[f"n_{lab}"]), lab == "neutral"))
            # a wide map has no room for words: the count of the majority stance only
            notes[(i, j)] = (f"{top}\n{int(r[f'n_{top}'])}/{int(r['n'])}" if len(targets) <= 8
                             else f"{int(r[f'n_{top}'])}/{int(r['n'])}")
    fig = _figure(min(PAGE_INCHES, max(5.0, 0.95 * len(targets) + 3.0)),
                  max(3.0, 0.36 * len(actors) + 1.8))
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(grid), cmap=STANCE_CMAP, vmin=-1, vmax=1, aspect="auto")
    ax.set_facecolor("#eef0f4")
    for (i, j), text in notes.items():
        ax.text(j, i, text, ha="center", va="center", fontsize=7.5 if len(targets) <= 8 else 6.5,
                color="white" if abs(grid[i, j]) > 0.6 else "#1d2330")
    ax.set_xticks(range(len(targets)), [_short(t) for t in targets], rotation=35, ha="right",
                  fontsize=8.5)
    ax.set_yticks(range(len(actors)), [_short(a) for a in actors], fontsize=8.5)
    ax.set_xlabel("target")
    ax.set_ylabel("actor")
    bar = fig.colorbar(image, ax=ax, shrink=0.8)
    bar.set_label("net stance: share support − share condemn")
    note = ""
    if len(by_actor) > len(actors) or len(by_target) > len(targets):
        note = (f"The {len(actors)} most frequent of {len(by_actor)} actors and {len(targets)} "
                f"of {len(by_target)} targets.")
    return fig, note


def stance_time_figure(dated: Sequence[Mapping[str, Any]], period: str) -> Figure | None:
    """Net stance per period of the most frequent actor -> target pairs; None with fewer than
    two dated periods."""
    periods = sorted({str(r[period]) for r in dated if r.get(period)})
    if len(periods) < 2:
        return None
    totals: dict[tuple[str, str], int] = {}
    for r in dated:
        if r.get(period):
            key = (r["actor"], r["target"])
            totals[key] = totals.get(key, 0) + int(r["n"])
    series = sorted(totals, key=lambda k: (-totals[k], k))[:MAX_SERIES]
    grid = np.full((len(series), len(periods)), np.nan)
    counts = np.zeros(grid.shape, dtype=int)
    for r in dated:
        key = (r["actor"], r["target"])
        if r.get(period) and key in series:
            i, j = series.index(key), periods.index(str(r[period]))
            grid[i, j], counts[i, j] = _net(r), int(r["n"])
    fig = _figure(min(PAGE_INCHES, max(5.0, 0.45 * len(periods) + 4.5)),
                  max(2.6, 0.36 * len(series) + 1.6))
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(grid), cmap=STANCE_CMAP, vmin=-1, vmax=1, aspect="auto")
    ax.set_facecolor("#eef0f4")
    for i in range(len(series)):
        for j in range(len(periods)):
            if counts[i, j]:
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=6.5,
                        color="white" if abs(grid[i, j]) > 0.6 else "#1d2330")
    ax.set_xticks(range(len(periods)), periods, rotation=35 if len(periods) <= 12 else 60,
                  ha="right", fontsize=8)
    ax.set_yticks(range(len(series)), [f"{_short(a, 22)} → {_short(t, 26)}" for a, t in series],
                  fontsize=8)
    ax.set_xlabel(period)
    fig.colorbar(image, ax=ax, shrink=0.8).set_label("net stance (cell: stances)")
    return fig


def _short(text: str, n: int = 30) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def stance_html(rows: Sequence[Mapping[str, Any]], *, source: str = "",
                title: str = "stancekit stance map") -> str:
    """The actor x target report as one HTML string."""
    table, dated, period = _tables(rows)
    article_rows = "n_support" not in rows[0]
    fig, note = stance_heatmap_figure(table)
    abstained = sum(bool(r.get("abstained")) for r in rows) if article_rows else 0
    summary = (f"{len(rows)} article-level stances, {len({r.get('doc_id') for r in rows})} "
               f"articles, {len({r['actor'] for r in rows})} actors, "
               f"{len({r['target'] for r in rows})} targets"
               if article_rows else f"a stance table of {len(rows)} rows")
    if abstained:
        summary += f"; {abstained} flagged abstained (low confidence, counted with their label)"
    body = [f"<h2>Who stands where on what</h2><p>{_e(summary)}.</p>",
            _img(fig, "actor by target stance heat map",
                 "Colour: net stance (blue support, red condemn, white balanced or neutral; grey: "
                 "no stance found); cell: how many of the stances are the majority stance (named "
                 "where there is room). " + note)]
    time_fig = stance_time_figure(dated, period) if period else None
    body.append("<h2>Stance over time</h2>")
    if time_fig is not None:
        body.append(_img(time_fig, "stance over time",
                         f"Net stance per {period} of the most frequent actor → target pairs; "
                         "the number is how many stances the cell holds."))
    else:
        body.append("<p class=\"muted\">Not drawn: the rows have fewer than two dated periods.</p>")
    header = ["actor", "target", "n", *(f"n {lab}" for lab in LABELS), "net stance"]
    body.append("<h2>Table</h2>" + _table(header, [
        [_e(r["actor"]), _e(r["target"]), _num(int(r["n"])),
         *(_num(int(r[f"n_{lab}"])) for lab in LABELS), f"{_net(r):+.2f}"]
        for r in sorted(table, key=lambda r: (-int(r["n"]), r["actor"], r["target"]))], left=2))
    subtitle = " · ".join(b for b in (f"from <code>{_e(source)}</code>" if source else "",
                                      f"written {time.strftime('%Y-%m-%d %H:%M')}") if b)
    return _page(title, subtitle, "".join(body))


def write_stance_report(input_path: str | Path, out_dir: str | Path, *,
                        title: str = "stancekit stance map") -> Path:
    """Read article-level predictions and write ``out_dir/index.html`` with the heat maps."""
    rows = read_stance_rows(input_path)
    return _write(out_dir, stance_html(rows, source=str(input_path), title=title))
