"""HTML plumbing shared by the reports: one self-contained file, plots inline as base64 PNG,
nothing fetched. Plots use matplotlib's object API (`Figure`), never pyplot's global state, so
reports can be drawn from threads and tests without a display."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..fileio import replacing

if TYPE_CHECKING:
    from matplotlib.figure import Figure

REPORT_FILE = "index.html"
PAGE_INCHES = 10.5  # the page is about 1150 px wide at the figures' 110 dpi

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


def figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def img(fig: Figure, alt: str, caption: str = "") -> str:
    cap = f"<figcaption>{e(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{e(alt)}" src="{figure_uri(fig)}">{cap}</figure>'


def e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def num(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(value)
    return f"{value:.{digits}f}"


def with_ci(m: Mapping[str, Any], key: str) -> str:
    ci = m.get(f"{key}_ci")
    interval = f' <span class="ci">[{ci[0]:.3f}, {ci[1]:.3f}]</span>' if ci else ""
    return f"{m[key]:.3f}{interval}"


def table(header: Sequence[str], rows: Iterable[Sequence[str]], *, left: int = 1,
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


def page(title: str, subtitle: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{e(title)}</title><style>{CSS}</style></head><body>"
            f"<h1>{e(title)}</h1><p class=\"muted\">{subtitle}</p>{body}</body></html>\n")


def write(out_dir: str | Path, page: str) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / REPORT_FILE
    with replacing(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path
