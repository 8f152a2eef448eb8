"""The adapting commands of `stancekit`: select -> export -> (Label Studio) -> import ->
train -> audit (docs/adapt.md). `stancekit.cli` adds them to its parser."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from ..errors import UsageError

logger = logging.getLogger("stancekit")


def add_commands(sub: Any) -> None:
    """select -> export -> (Label Studio) -> import -> train -> audit: see docs/adapt.md."""
    from ..cli import _add_backend_arguments
    from .audit import MODES
    from .selection import MEASURES, STRATEGIES

    p = sub.add_parser("select", help="choose the pairs to annotate next (active learning)")
    p.add_argument("--model", required=True, help="model directory")
    p.add_argument("--input", required=True, help="pairs or articles (JSONL, CSV or Parquet)")
    p.add_argument("--actors", default=None, help="YAML/JSON actor file; implies articles")
    p.add_argument("--articles", action="store_true",
                   help="the input holds articles (detected when rows have no 'actor' field)")
    p.add_argument("--n", type=int, required=True, help="how many pairs to select")
    p.add_argument("--output", required=True, help="selected pairs (JSON Lines)")
    p.add_argument("--strategy", default="uncertainty", choices=STRATEGIES,
                   help="uncertainty (with diversity; default) or random")
    p.add_argument("--measure", default="margin", choices=MEASURES,
                   help="uncertainty of the calibrated probabilities: margin (default) or entropy")
    p.add_argument("--random-share", type=float, default=0.0, metavar="S",
                   help="share of the batch drawn at random, for unbiased evaluation (default 0)")
    p.add_argument("--spread", type=float, default=0.5,
                   help="discount per pick beyond an actor's or target's share of the pool "
                        "(1: no spreading; default 0.5)")
    p.add_argument("--max-per-doc", type=int, default=2,
                   help="most pairs from one document (0: no limit; default 2)")
    p.add_argument("--duplicate-threshold", type=float, default=0.7, metavar="J",
                   help="word-trigram Jaccard from which two windows are near-duplicates")
    p.add_argument("--exclude", action="append", default=[], metavar="FILE",
                   help="pairs already labelled (repeatable): skipped, and no near-duplicates "
                        "of them are picked")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--rejects", default=None, help="write bad input rows here instead of failing")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    _add_backend_arguments(p)
    p.set_defaults(func=cmd_select)

    p = sub.add_parser("export", help="write pairs as annotation tasks (Label Studio)")
    p.add_argument("--format", default="label-studio", choices=["label-studio"])
    p.add_argument("--input", required=True, help="pairs (e.g. `stancekit select` output)")
    p.add_argument("--output", required=True, help="tasks file (JSON) to import in Label Studio")
    p.add_argument("--label-config", default=None, metavar="FILE",
                   help="where the labeling config (XML) goes (default: OUTPUT_STEM"
                        ".label_config.xml)")
    p.add_argument("--model", default=None,
                   help="pre-annotate pairs that carry no prediction with this model")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    _add_backend_arguments(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("import", help="read annotations (Label Studio JSON export) as pairs")
    p.add_argument("--format", default="label-studio", choices=["label-studio"])
    p.add_argument("--input", required=True, help="Label Studio's JSON export")
    p.add_argument("--output", required=True, help="labelled pairs (JSON Lines)")
    p.add_argument("--agreement", default=None, metavar="FILE",
                   help="agreement report (default: OUTPUT_STEM.agreement.json)")
    p.add_argument("--rejects", default=None, help="write malformed tasks here instead of failing")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("audit", help="rank labelled pairs by how likely their label is wrong")
    p.add_argument("--model", required=True, help="model directory")
    p.add_argument("--input", "--data", dest="input", required=True,
                   help="labelled pairs (JSONL, CSV or Parquet)")
    p.add_argument("--output", default=None, metavar="DIR",
                   help="label_issues.jsonl, audit.json and index.html (default: DATA_STEM.audit "
                        "beside the data)")
    p.add_argument("--mode", default="features", choices=MODES,
                   help="features: logistic regression on the model's frozen features per fold "
                        "(default, fast); finetune: fine-tune per fold (slow)")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--method", default="auto", choices=["auto", "cleanlab", "confident-learning"],
                   help="ranking: cleanlab when installed (auto), or the built-in rule")
    p.add_argument("--base", default=None,
                   help="finetune: the encoder or model each fold starts from (default: the one "
                        "the model was trained from)")
    p.add_argument("--label-scheme", default="stancekit", help="label scheme of --data")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-report", action="store_true", help="skip the HTML report")
    _add_backend_arguments(p)
    p.set_defaults(func=cmd_audit)


def cmd_select(args: argparse.Namespace) -> int:
    from ..prediction import StanceClassifier
    from .commands import select_file

    if args.batch_size < 1:
        raise UsageError(f"--batch-size: expected a positive integer, found {args.batch_size}")
    if args.n < 1:
        raise UsageError(f"--n: expected a positive integer, found {args.n}")
    if args.max_per_doc < 0:
        raise UsageError(f"--max-per-doc: expected 0 (no limit) or more, found {args.max_per_doc}")
    clf = StanceClassifier.from_pretrained(args.model, backend=args.backend, device=args.device)
    counts = select_file(
        clf, args.input, args.output, args.n, actors_path=args.actors,
        articles=True if args.articles else None, exclude=args.exclude, rejects=args.rejects,
        overwrite=args.overwrite, batch_size=args.batch_size, strategy=args.strategy,
        measure=args.measure, random_share=args.random_share, seed=args.seed, spread=args.spread,
        max_per_doc=args.max_per_doc or None, duplicate_threshold=args.duplicate_threshold)
    print(f"pool {counts['pool']} pairs ({counts['excluded']} already labelled left out); "
          f"selected {counts['selected']} ({counts['uncertainty']} by uncertainty, "
          f"{counts['random']} at random) -> {args.output}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .commands import export_file

    clf = None
    if args.model:
        from ..prediction import StanceClassifier

        clf = StanceClassifier.from_pretrained(args.model, backend=args.backend,
                                               device=args.device)
    counts = export_file(args.input, args.output, clf=clf, label_config=args.label_config,
                         overwrite=args.overwrite)
    print(f"tasks {counts['tasks']} ({counts['pre_annotated']} with the model's pre-annotation) "
          f"-> {args.output}; labeling config -> {counts['label_config']}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from .commands import import_file

    report = import_file(args.input, args.output, agreement_path=args.agreement,
                         rejects=args.rejects, overwrite=args.overwrite)
    c, a = report["counts"], report["agreement"]
    alpha = (a.get("alpha_labels") or {}).get("alpha")
    print(f"tasks {c['tasks']}: labelled {c['labelled']}, conflicts (ties, left out) "
          f"{c['conflicts']}, not annotated {c['unannotated']}, rejected {c['rejected']}; "
          f"annotations {c['annotations']} ({c['cancelled']} skipped)")
    print(f"agreement: {a['tasks_with_two_or_more']} tasks with 2+ annotators, Krippendorff's "
          f"alpha {'-' if alpha is None else f'{alpha:.3f}'} (nominal, 3 labels)")
    print(f"pairs -> {args.output}; agreement -> {report['agreement_path']}")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from ..data.readers import PairReader
    from ..labels import LabelScheme
    from .audit import run_audit, write_audit

    if args.folds < 2:
        raise UsageError(f"--folds: expected 2 or more, found {args.folds}")
    out = Path(args.output) if args.output else \
        Path(args.input).with_name(Path(args.input).stem + ".audit")
    reader = PairReader(label_scheme=LabelScheme(args.label_scheme, where="--label-scheme"),
                        require_label=True)
    pairs = reader.read(args.input)
    result = run_audit(args.model, pairs, mode=args.mode, folds=args.folds, seed=args.seed,
                       method=args.method, backend=args.backend, device=args.device,
                       base=args.base, data_path=args.input)
    paths = write_audit(result, out)
    if not args.no_report:
        from ..report.label_audit import write_audit_report

        paths.append(write_audit_report(result, out))
    s = result.summary
    print(f"{s['n']} pairs, {s['flagged']} flagged as likely mislabelled ({s['method']}, "
          f"{s['mode']}, {s['folds']} folds; out-of-fold macro-F1 {s['cv_f1_macro']:.3f})")
    for row in result.rows[:min(5, s["flagged"])]:
        print(f"  {row['rank']:3d} {row['id'][:28]:28s} given {row['given']:8s} suggested "
              f"{row['suggested']:8s} p(given) {row['p_given']:.2f}  "
              f"{' '.join(row['text'].split())[:60]}")
    print("written: " + ", ".join(str(p) for p in paths))
    return 0
