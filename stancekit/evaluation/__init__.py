"""Evaluation: a model and two baselines on the same pairs, scored with the same metrics, and
the numbers a careful reviewer asks for next.

- `StanceEvaluator` (`evaluator.py`): one split's metrics, calibration, bootstrap intervals;
- `analyze` / `evaluate` (`analysis.py`): every split beside the baselines, paired bootstrap,
  abstention (`abstention.py`), slices and errors (`slices.py`);
- `score_articles` (`articles.py`): raw articles in, the stance table scored against gold;
- `summary_markdown`, `write_results`, `write_analysis`, `analysis_files` (`outputs.py`).
"""

from __future__ import annotations

from .analysis import MODEL, SplitAnalysis, analyze, baseline_metrics, evaluate, fit_baselines
from .articles import score_articles
from .evaluator import StanceEvaluator
from .outputs import (
    analysis_files,
    summary_markdown,
    write_analysis,
    write_errors_csv,
    write_results,
)

__all__ = ["MODEL", "SplitAnalysis", "StanceEvaluator", "analysis_files", "analyze",
           "baseline_metrics", "evaluate", "fit_baselines", "score_articles", "summary_markdown",
           "write_analysis", "write_errors_csv", "write_results"]
