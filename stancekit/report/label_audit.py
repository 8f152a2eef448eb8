"""The label audit's report (`stancekit audit`): how the audit was run, and the pairs whose labels
look wrong, ranked, each with its evidence text (actor and target marked)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..adapt.label_studio_tasks import highlight
from ..labels import LABELS
from . import pages

MAX_ROWS = 100


def audit_section(summary: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], *,
                  max_rows: int = MAX_ROWS) -> str:
    """The "Likely label errors" section: a summary table and the ranked pairs."""
    how = ("a logistic regression on the model's frozen features" if summary.get("mode") ==
           "features" else "the transformer fine-tuned per fold")
    method = ("cleanlab's find_label_issues (confident learning)" if summary.get("method") ==
              "cleanlab" else "confident learning (stancekit's own confident-joint rule)")
    facts = [["pairs audited", pages.num(summary.get("n"))],
             ["flagged as likely wrong", pages.num(summary.get("flagged"))],
             *[[f"flagged, given {lab}", pages.num(summary.get("flagged_by_given_label", {})
                                                   .get(lab))] for lab in LABELS],
             ["out-of-fold macro-F1 against the given labels",
              pages.num(summary.get("cv_f1_macro"))],
             ["folds", pages.num(summary.get("folds"))],
             ["model", f"<code>{pages.e(summary.get('model'))}</code>"]]
    warning = (f'<p class="no">{pages.e(summary["warning"])}</p>' if summary.get("warning")
               else "")
    flagged = [r for r in rows if r["flagged"]]
    shown = (flagged or list(rows))[:max_rows]
    header = ["rank", "actor", "target", "given", "suggested", "p(given)",
              *(f"p({lab})" for lab in LABELS), "annotators", "evidence"]
    body = [[pages.num(r["rank"]), pages.e(r["actor"]), pages.e(r["target"]), pages.e(r["given"]),
             pages.e(r["suggested"]), pages.num(r["p_given"]),
             *(pages.num(r["probs"][lab]) for lab in LABELS),
             pages.e(", ".join(map(str, r.get("annotators") or [])) or "–"),
             highlight(r["text"], [tuple(s) for s in r.get("actor_spans") or ()],
                       [tuple(s) for s in r.get("target_spans") or ()])]
            for r in shown]
    what = (f"{len(shown)} of {len(flagged)} flagged pairs" if flagged else
            f"no pair is flagged; the {len(shown)} with the lowest probability of their label")
    note = (f"Each pair's probabilities come from {how}, fitted on the other folds "
            f"(documents kept whole): a model that never saw its label. Ranked by {method}, "
            "flagged first, then by p(given). Every pair, ranked, is in label_issues.jsonl.")
    return (f'<h2 id="label-audit">Likely label errors</h2>{warning}'
            f"{pages.table(['', ''], facts)}<p class=\"note\">{pages.e(note)}</p>"
            f"<h3>{pages.e(what)}</h3>"
            f"{pages.table(header, body, left=5, text_col=len(header) - 1)}")


def write_audit_report(result: Any, out_dir: str | Path, *,
                       title: str = "stancekit label audit") -> Path:
    """``out_dir/index.html`` with `audit_section`; returns its path."""
    import time

    body = audit_section(result.summary, result.rows)
    return pages.write(out_dir, pages.page(title, f"written {time.strftime('%Y-%m-%d %H:%M')}",
                                           body))
