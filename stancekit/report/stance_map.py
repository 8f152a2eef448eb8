"""The stance map (`stancekit report`), drawn from article-level predictions (`stancekit predict
--actors` output) or a stance table: the actor x target heat map, and stance over time where
the rows have dates."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError
from ..labels import LABELS
from . import pages

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_ACTORS, MAX_TARGETS, MAX_SERIES = 30, 20, 20
STANCE_CMAP = "RdBu"  # red = condemn (-1), blue = support (+1): readable with red-green blindness


def read_stance_rows(path: str | Path) -> list[dict[str, Any]]:
    """Article-level predictions (`stancekit predict --actors` output: ``actor``, ``target``,
    ``label``, optional ``doc_id``, ``date``, ``abstained``) or a `stance_table` file
    (``actor``, ``target``, ``n_support`` ...), as JSONL, CSV or Parquet."""
    from ..data.readers import iter_records

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
    from ..aggregation import merge_periods, stance_table

    if "n_support" not in rows[0]:
        ns = [SimpleNamespace(doc_id=r.get("doc_id"), actor=r["actor"], target=r["target"],
                              label=r["label"], date=r.get("date")) for r in rows]
        return stance_table(ns), stance_table(ns, by="month"), "month"
    period = next((k for k in ("date", "month", "year") if k in rows[0]), None)
    overall = merge_periods(rows)
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
    fig = pages.figure(min(pages.PAGE_INCHES, max(5.0, 0.95 * len(targets) + 3.0)),
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
    fig = pages.figure(min(pages.PAGE_INCHES, max(5.0, 0.45 * len(periods) + 4.5)),
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
    body = [f"<h2>Who stands where on what</h2><p>{pages.e(summary)}.</p>",
            pages.img(fig, "actor by target stance heat map",
                 "Colour: net stance (blue support, red condemn, white balanced or neutral; grey: "
                 "no stance found); cell: how many of the stances are the majority stance (named "
                 "where there is room). " + note)]
    time_fig = stance_time_figure(dated, period) if period else None
    body.append("<h2>Stance over time</h2>")
    if time_fig is not None:
        body.append(pages.img(time_fig, "stance over time",
                         f"Net stance per {period} of the most frequent actor → target pairs; "
                         "the number is how many stances the cell holds."))
    else:
        body.append("<p class=\"muted\">Not drawn: the rows have fewer than two dated periods.</p>")
    header = ["actor", "target", "n", *(f"n {lab}" for lab in LABELS), "net stance"]
    body.append("<h2>Table</h2>" + pages.table(header, [
        [pages.e(r["actor"]), pages.e(r["target"]), pages.num(int(r["n"])),
         *(pages.num(int(r[f"n_{lab}"])) for lab in LABELS), f"{_net(r):+.2f}"]
        for r in sorted(table, key=lambda r: (-int(r["n"]), r["actor"], r["target"]))], left=2))
    subtitle = " · ".join(b for b in (f"from <code>{pages.e(source)}</code>" if source else "",
                                      f"written {time.strftime('%Y-%m-%d %H:%M')}") if b)
    return pages.page(title, subtitle, "".join(body))


def write_stance_report(input_path: str | Path, out_dir: str | Path, *,
                        title: str = "stancekit stance map") -> Path:
    """Read article-level predictions and write ``out_dir/index.html`` with the heat maps."""
    rows = read_stance_rows(input_path)
    return pages.write(out_dir, stance_html(rows, source=str(input_path), title=title))
