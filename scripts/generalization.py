"""Score a model on real text it was not trained on and write docs/generalization.md.

Usage: python scripts/generalization.py [--model models/default] [--output docs/generalization.md]

Public corpora are read from ../shared/datasets (or $STANCEKIT_DATASETS) and skipped when
absent; see `stancekit.evaluation.generalization`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stancekit.cli import setup_logging
from stancekit.evaluation.generalization import (
    generalization_markdown,
    score_held_out_articles,
    score_public,
)
from stancekit.prediction import StanceClassifier

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "default"))
    parser.add_argument("--output", default=str(ROOT / "docs" / "generalization.md"))
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--bootstrap", type=int, default=1000)
    args = parser.parse_args()
    setup_logging()  # stancekit's logger only: other libraries' INFO lines stay quiet
    clf = StanceClassifier.from_pretrained(args.model, backend=args.backend)
    trained_on = list((clf.meta.get("config") or {}).get("data", {}).get("mix") or {})
    articles = score_held_out_articles(clf)
    public = score_public(clf, trained_on=trained_on, n_resamples=args.bootstrap)
    out = Path(args.output)
    model = Path(args.model).resolve()
    shown = model.relative_to(ROOT) if model.is_relative_to(ROOT) else model
    out.write_text(generalization_markdown(str(shown), clf.meta, public, articles),
                   encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps({"articles": articles, "public": public},
                                                   indent=1), encoding="utf-8")
    print(out.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
