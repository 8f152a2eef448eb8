"""The stance map (`stancekit report`), drawn from article-level predictions (`stancekit predict
--actors` output) or a stance table: the actor x target heat map, stance over time where the
rows have dates, and the table with shares, articles and evidence. The heat maps are HTML
tables (full names, counts in the cells, details on hover), so the page needs no script."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..errors import DataError
from ..labels import LABELS
from . import pages

MAX_ACTORS, MAX_TARGETS, MAX_SERIES = 30, 20, 20
STANCE_CMAP = "RdBu"  # red = condemn (-1), blue = support (+1): readable with red-green blindness


def read_stance_rows(path: str | Path) -> list[dict[str, Any]]:
    """Article-level predictions (`stancekit predict --actors` output: ``actor``, ``target``,
    ``label``, optional ``doc_id``, ``date``, ``abstained``) or a `stance_table` file
    (``actor``, ``target``, ``n_support`` ...), as JSONL, CSV or Parquet."""
    from ..data.formats import iter_records

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


def stance_colour(net: float) -> tuple[str, str]:
    """Background and text colour of a cell of net stance ``net`` in [-1, 1]."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    return (to_hex(colormaps[STANCE_CMAP]((net + 1) / 2)),
            "#ffffff" if abs(net) > 0.6 else "#1d2330")


def _evidence(rows: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (actor, target) of article-level rows: the article ids, and the quote that speaks
    most clearly for the majority stance (its highest probability) with its article."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for r in rows:
        c = counts.setdefault((r["actor"], r["target"]), dict.fromkeys(LABELS, 0))
        c[r["label"]] += 1
    for r in rows:
        key = (r["actor"], r["target"])
        entry = found.setdefault(key, {"docs": [], "quote": None, "doc": None, "p": -1.0})
        if r.get("doc_id") is not None and str(r["doc_id"]) not in entry["docs"]:
            entry["docs"].append(str(r["doc_id"]))
        majority = max(LABELS, key=lambda lab: (counts[key][lab], lab == "neutral"))
        p = float((r.get("probs") or {}).get(r["label"], 0.0))
        if r["label"] == majority and r.get("evidence") and p > entry["p"]:
            entry.update(quote=" ".join(str(r["evidence"]).split()), doc=r.get("doc_id"), p=p)
    return found


def _breakdown(r: Mapping[str, Any]) -> str:
    n = max(1, int(r["n"]))
    return ", ".join(f"{lab} {int(r[f'n_{lab}'])} ({int(r[f'n_{lab}']) / n:.0%})"
                     for lab in LABELS)


def heat_table(row_names: Sequence[str], col_names: Sequence[str],
               cells: Mapping[tuple[int, int], Mapping[str, Any]], *, corner: str) -> str:
    """A heat map as an HTML table: each cell coloured by net stance alone, holding its
    support · neutral · condemn counts, with the details (shares, articles, evidence) on hover;
    a cell without any stance is hatched, never the colour of a balanced one."""
    head = "".join(f'<th class="rot" title="{pages.e(c)}"><div>{pages.e(c)}</div></th>'
                   for c in col_names)
    body = []
    for i, name in enumerate(row_names):
        tds = []
        for j in range(len(col_names)):
            cell = cells.get((i, j))
            if cell is None:
                tds.append(f'<td class="none" title="{pages.e(name)} → {pages.e(col_names[j])}: '
                           'no stance found"></td>')
                continue
            bg, fg = stance_colour(_net(cell))
            counts = "·".join(str(int(cell[f"n_{lab}"])) for lab in LABELS)
            tip = (f"{name} → {col_names[j]}: {_breakdown(cell)}; net {_net(cell):+.2f}"
                   + cell.get("tip", ""))
            tds.append(f'<td style="background:{bg};color:{fg}" title="{pages.e(tip)}">'
                       f"{counts}</td>")
        body.append(f'<tr><th class="l">{pages.e(name)}</th>{"".join(tds)}</tr>')
    return (f'<div class="heatwrap"><table class="heat"><thead><tr><th class="l corner">'
            f'{pages.e(corner)}</th>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
            "</div>")


def legend() -> str:
    stops = ", ".join(stance_colour(x)[0] for x in np.linspace(-1, 1, 9))
    return (f'<div class="legend"><span>condemn −1</span><span class="ramp" '
            f'style="background: linear-gradient(to right, {stops})"></span><span>+1 support'
            '</span><span class="swatch none"></span><span>no stance found</span></div>')


def stance_map_html(table: Sequence[Mapping[str, Any]],
                    evidence: Mapping[tuple[str, str], Mapping[str, Any]]) -> tuple[str, str]:
    """The actor x target heat map (the most frequent ones) and a note on what was left out."""
    by_actor: dict[str, int] = {}
    by_target: dict[str, int] = {}
    for r in table:
        by_actor[r["actor"]] = by_actor.get(r["actor"], 0) + int(r["n"])
        by_target[r["target"]] = by_target.get(r["target"], 0) + int(r["n"])
    actors = sorted(by_actor, key=lambda a: (-by_actor[a], a))[:MAX_ACTORS]
    targets = sorted(by_target, key=lambda t: (-by_target[t], t))[:MAX_TARGETS]
    cells = {}
    for r in table:
        if r["actor"] in actors and r["target"] in targets:
            ev = evidence.get((r["actor"], r["target"]))
            tip = ""
            if ev:
                tip = f"\narticles: {', '.join(ev['docs'][:8])}" + \
                    (f" (+{len(ev['docs']) - 8} more)" if len(ev["docs"]) > 8 else "")
                if ev["quote"]:
                    tip += f"\nevidence ({ev['doc']}): “{_cut(ev['quote'], 300)}”"
            cells[(actors.index(r["actor"]), targets.index(r["target"]))] = {**r, "tip": tip}
    note = ""
    if len(by_actor) > len(actors) or len(by_target) > len(targets):
        note = (f" The {len(actors)} most frequent of {len(by_actor)} actors and {len(targets)} "
                f"of {len(by_target)} targets; all are in the table below.")
    return heat_table(actors, targets, cells, corner="actor ↓  target →"), note


def stance_time_html(dated: Sequence[Mapping[str, Any]], period: str) -> str | None:
    """Net stance per period of the most frequent actor → target pairs; None with fewer than
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
    cells = {(series.index((r["actor"], r["target"])), periods.index(str(r[period]))): r
             for r in dated if r.get(period) and (r["actor"], r["target"]) in series}
    return heat_table([f"{a} → {t}" for a, t in series], periods, cells,
                      corner=f"actor → target ↓  {period} →")


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def stance_html(rows: Sequence[Mapping[str, Any]], *, source: str = "",
                title: str = "stancekit stance map") -> str:
    """The actor x target report as one HTML string."""
    table, dated, period = _tables(rows)
    article_rows = "n_support" not in rows[0]
    evidence = _evidence(rows) if article_rows else {}
    heat, note = stance_map_html(table, evidence)
    abstained = sum(bool(r.get("abstained")) for r in rows) if article_rows else 0
    summary = (f"{len(rows)} article-level stances, {len({r.get('doc_id') for r in rows})} "
               f"articles, {len({r['actor'] for r in rows})} actors, "
               f"{len({r['target'] for r in rows})} targets"
               if article_rows else f"a stance table of {len(rows)} rows")
    if abstained:
        summary += f"; {abstained} flagged abstained (low confidence, counted with their label)"
    hover = " Hover over a cell for the shares, the articles" + \
        (" and the clearest evidence sentence." if article_rows else ".")
    body = [f"<h2>Who stands where on what</h2><p>{pages.e(summary)}.</p>", legend(),
            f'<p class="note">Colour: net stance, the share of support minus the share of '
            f"condemn (blue support, red condemn, pale: neutral or balanced); hatched: no stance "
            f"found. Each cell: how many articles say support · neutral · condemn.{hover}"
            f"{pages.e(note)}</p>", heat]
    time_table = stance_time_html(dated, period) if period else None
    body.append("<h2>Stance over time</h2>")
    if time_table is not None:
        body += [f'<p class="note">Net stance per {pages.e(period)} of the most frequent actor '
                 f"→ target pairs (up to {MAX_SERIES}), coloured and counted as above.</p>",
                 time_table]
    else:
        body.append("<p class=\"muted\">Not drawn: the rows have fewer than two dated periods.</p>")
    header = ["actor", "target", "n", *LABELS, "net stance"]
    if article_rows:
        header += ["articles", "evidence (clearest for the majority stance)"]
    out_rows = []
    for r in sorted(table, key=lambda r: (-int(r["n"]), r["actor"], r["target"])):
        n = max(1, int(r["n"]))
        cells = [pages.e(r["actor"]), pages.e(r["target"]), pages.num(int(r["n"])),
                 *(f"{int(r[f'n_{lab}'])} <span class=\"ci\">({int(r[f'n_{lab}']) / n:.0%})</span>"
                   for lab in LABELS), f"{_net(r):+.2f}"]
        if article_rows:
            ev = evidence.get((r["actor"], r["target"]), {})
            docs = ev.get("docs", [])
            shown = ", ".join(docs[:3]) + (f" +{len(docs) - 3}" if len(docs) > 3 else "")
            quote = (f"“{pages.e(_cut(ev['quote'], 220))}” <span class=\"ci\">"
                     f"({pages.e(ev['doc'])})</span>" if ev.get("quote") else "")
            cells += [f'<span title="{pages.e(", ".join(docs))}">{pages.e(shown)}</span>', quote]
        out_rows.append(cells)
    body.append("<h2>Table</h2>" + pages.table(header, out_rows, left=2,
                                                text_col=len(header) - 1 if article_rows else None))
    subtitle = " · ".join(b for b in (f"from <code>{pages.e(source)}</code>" if source else "",
                                      f"written {time.strftime('%Y-%m-%d %H:%M')}") if b)
    return pages.page(title, subtitle, "".join(body))


def write_stance_report(input_path: str | Path, out_dir: str | Path, *,
                        title: str = "stancekit stance map") -> Path:
    """Read article-level predictions and write ``out_dir/index.html`` with the heat maps."""
    rows = read_stance_rows(input_path)
    return pages.write(out_dir, stance_html(rows, source=str(input_path), title=title))
