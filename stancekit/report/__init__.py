"""Self-contained HTML reports: one file, plots inline, nothing fetched.

- `write_evaluation_report` (`evaluation_report.py`): what `stancekit evaluate --report DIR`
  writes from `stancekit.evaluation.analyze`;
- `write_stance_report` (`stance_map.py`): what `stancekit report` writes from article-level
  predictions: the actor x target heat map and stance over time;
- `pages.py`: the page, tables and inline figures both share.
"""

from __future__ import annotations

from .evaluation_report import evaluation_html, report_files, write_evaluation_report
from .pages import REPORT_FILE, figure_uri
from .stance_map import read_stance_rows, stance_html, write_stance_report

__all__ = ["REPORT_FILE", "evaluation_html", "figure_uri", "read_stance_rows", "report_files",
           "stance_html", "write_evaluation_report", "write_stance_report"]
