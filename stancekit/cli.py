"""The `stancekit` command: train, evaluate, predict, report; select, export, import, audit.

Each subcommand parses its arguments, logs the resolved config, builds the objects and
runs. User errors print one line (file, line, field, what was expected) and exit 2;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import Interrupted, ModelError, StanceKitError, UsageError
from .fileio import check_outputs

logger = logging.getLogger("stancekit")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # bare `stancekit`: what it can do, not an error
        parser.print_help()
        return 0
    setup_logging(debug=args.debug)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        return args.func(args) or 0
    except StanceKitError as err:
        if args.debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # Ctrl-C; a run that can go on says where it stopped
        print(str(exc) if isinstance(exc, Interrupted) else "interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # a file operation no stancekit code expected to fail: one line too
        if args.debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record arrives (a test's capture too)."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def setup_logging(*, debug: bool = False) -> None:
    """Log stancekit's own messages to stderr (INFO, or DEBUG with ``debug``), and nothing
    else: the root logger is left alone, so other libraries' INFO lines (matplotlib's font
    cache, ...) stay silent. Calling it again replaces the handler, never adds one."""
    log = logging.getLogger("stancekit")
    for handler in [h for h in log.handlers if isinstance(h, _Stderr)]:
        log.removeHandler(handler)
    handler = _Stderr()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s",
                                           datefmt="%H:%M:%S"))
    log.addHandler(handler)
    log.setLevel(logging.DEBUG if debug else logging.INFO)


EPILOG = """examples:
  stancekit train --config configs/quick.yaml train.output_dir=models/quick
  stancekit evaluate --model models/quick --report report/
  stancekit predict --model models/quick --input pairs.jsonl --output preds.jsonl
  stancekit predict --model models/quick --input articles.jsonl --actors actors.yaml \\
      --output stances.jsonl --table table.csv
  stancekit report --input stances.jsonl --output map/

`stancekit COMMAND --help` lists a command's options."""


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="stancekit", description=__doc__.splitlines()[0],
                                     epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"stancekit {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    # --debug after the subcommand too; SUPPRESS keeps it from resetting one given before
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks and debug logs")
    sub = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")

    p = sub.add_parser("train", parents=[common],
                       help="fine-tune a model; writes a model directory")
    p.add_argument("--config", default=None, help="YAML config (default: built-in defaults)")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="e.g. train.epochs=2")
    p.add_argument("--no-eval", action="store_true", help="skip evaluating the evaluation splits")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a model directory already at train.output_dir")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", parents=[common], help="score a model beside the baselines")
    p.add_argument("--model", required=True, help="model directory or Hugging Face hub id")
    p.add_argument("--input", action="append", default=None, metavar="FILE",
                   help="labeled pairs file (JSONL/CSV/Parquet); repeatable. Default: the "
                        "evaluation splits of the model's training config")
    p.add_argument("--data", action="append", dest="input", help=argparse.SUPPRESS)  # old name
    _add_column_arguments(p)
    p.add_argument("--output", default=None, help="directory for metrics.json and metrics.md "
                   "(default: MODEL/eval)")
    p.add_argument("--no-baselines", action="store_true", help="skip majority and TF-IDF + LR")
    p.add_argument("--report", default=None, metavar="DIR",
                   help="also write a self-contained HTML report (DIR/index.html)")
    p.add_argument("--target-precision", type=float, default=0.95,
                   help="choose the abstention threshold reaching this precision on dev "
                        "(default 0.95)")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                   help="bootstrap resamples for intervals and paired comparisons (0: none)")
    _add_backend_arguments(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("report", parents=[common],
                       help="draw the actor x target stance heat map of predictions")
    p.add_argument("--input", required=True,
                   help="article-level predictions (`stancekit predict --actors` output) or a "
                        "stance table (--table output): JSONL, CSV or Parquet")
    p.add_argument("--output", required=True, metavar="DIR", help="writes DIR/index.html")
    p.add_argument("--title", default="stancekit stance map")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("predict", parents=[common],
                       help="predict stances for a file of pairs or of articles")
    p.add_argument("--model", required=True, help="model directory or Hugging Face hub id")
    p.add_argument("--input", required=True,
                   help="pairs (id, actor, target, text) or articles (id, text, actors, targets): "
                        "JSONL, CSV or Parquet")
    p.add_argument("--output", required=True,
                   help="output JSON Lines: one row per pair, or per (article, actor, target)")
    p.add_argument("--keep-columns", action="store_true",
                   help="pairs: also copy each input row's columns into its output row (a "
                        "clashing input column X becomes input_X)")
    _add_column_arguments(p)
    p.add_argument("--actors", default=None,
                   help="YAML/JSON actor file (actors with aliases, targets); implies articles")
    p.add_argument("--articles", action="store_true",
                   help="the input holds articles (detected when rows have no 'actor' field)")
    p.add_argument("--table", default=None,
                   help="articles: also write the actor x target table (.csv or .jsonl)")
    p.add_argument("--by", default=None, choices=["date", "month", "year"],
                   help="articles: split the table by period")
    p.add_argument("--pairs-output", default=None,
                   help="articles: also write every evidence window's prediction (JSONL)")
    p.add_argument("--discover", action="store_true",
                   help="articles: also find unlisted actors with spaCy (extra 'discover')")
    p.add_argument("--preview", type=int, default=12, metavar="N",
                   help="articles: print the first N stances (0: none) and the label counts")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--rejects", default=None, help="write bad input rows here instead of failing")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    _add_backend_arguments(p)
    p.add_argument("--num-shards", type=int, default=1,
                   help="split the input deterministically into N shards (by id hash)")
    p.add_argument("--shard-index", type=int, default=0, help="which shard this process handles")
    p.add_argument("--chunk-size", type=int, default=2048,
                   help="pairs sorted and committed together (resume granularity)")
    p.add_argument("--abstain-below", type=float, default=None, metavar="P",
                   help="flag predictions whose top probability is below P as abstained "
                        "(label kept); `stancekit evaluate` reports the P that reaches a "
                        "precision on dev")
    p.set_defaults(func=cmd_predict)
    _add_adapt_commands(sub)
    return parser


def _add_adapt_commands(sub: Any) -> None:
    """select -> export -> (Label Studio) -> import -> train -> audit: see docs/adapt.md."""
    from .adapt.audit import MODES
    from .adapt.selection import MEASURES, STRATEGIES

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


def _add_backend_arguments(p: argparse.ArgumentParser) -> None:
    from .backends import BACKENDS

    p.add_argument("--backend", default="auto", choices=list(BACKENDS),
                   help="auto (default: torch-bf16 where the CPU/GPU runs bf16 fast, else torch), "
                        "torch (fp32), torch-bf16, torch-int8 (CPU), or ONNX Runtime fp32/int8 "
                        "(extra 'onnx')")
    p.add_argument("--device", default=None,
                   help="cpu, cuda, cuda:N or mps (default: the best available)")


def _add_column_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--columns", action="append", default=None, metavar="FIELD=COLUMN",
                   help="read a field from another column, e.g. text=sentence,actor=source "
                        "(repeatable; fields: id, actor, target, text, label, doc_id)")
    p.add_argument("--label-scheme", default="stancekit", metavar="SCHEME",
                   help="how the file's labels map onto support/neutral/condemn: stancekit, "
                        "favor_against, sentiment, agree_disagree, numeric, or RAW=LABEL,... "
                        "(e.g. FAVOR=support,NONE=neutral,AGAINST=condemn)")


def parse_columns(values: Sequence[str] | None) -> dict[str, str]:
    """``--columns text=sentence,actor=source`` (repeatable) as ``{field: column}``."""
    from .config import FIELDS

    columns: dict[str, str] = {}
    for item in (part for value in values or () for part in value.split(",") if part.strip()):
        name, sep, column = (x.strip() for x in item.partition("="))
        if not sep or not name or not column:
            raise UsageError(f"--columns: expected FIELD=COLUMN, e.g. text=sentence, found "
                             f"{item.strip()!r}")
        if name not in FIELDS:
            raise UsageError(f"--columns: unknown field {name!r}; the fields that can be mapped "
                             f"are {list(FIELDS)}")
        columns[name] = column
    return columns


def parse_label_scheme(value: str) -> Any:
    """``--label-scheme NAME`` or ``RAW=LABEL,...`` as a `LabelScheme`."""
    from .labels import LabelScheme

    if "=" not in value:
        return LabelScheme(value, where="--label-scheme")
    mapping = {}
    for item in (part for part in value.split(",") if part.strip()):
        raw, sep, label = (x.strip() for x in item.partition("="))
        if not sep or not raw or not label:
            raise UsageError(f"--label-scheme: expected NAME or RAW=LABEL,..., found "
                             f"{item.strip()!r}")
        mapping[raw] = label
    return LabelScheme(mapping, where="--label-scheme")


def cmd_train(args: argparse.Namespace) -> int:
    from .config import load_config
    from .data.splits import load_splits
    from .evaluation import evaluate, summary_markdown, write_results
    from .modeldir import refresh_card
    from .prediction import StanceClassifier
    from .training import train

    config = load_config(args.config, args.overrides)
    logger.info("config: %s", json.dumps(config.to_dict()))
    splits = load_splits(config.data)
    logger.info("splits: %s", {k: len(v) for k, v in splits.items()})
    out = train(config, splits, overwrite=args.overwrite)
    if int(os.environ.get("RANK", "0")) != 0:  # torchrun/accelerate: rank 0 reports
        return 0
    extra = {k: v for k, v in splits.items() if k not in ("train", "dev")}
    if extra and not args.no_eval:
        clf = StanceClassifier.from_pretrained(out)
        results = evaluate(clf, extra, train_pairs=splits["train"])
        write_results(results, out / "eval")
        refresh_card(out)  # the card gains the evaluation splits' figures
        print(summary_markdown(results))
    print(f"model directory: {out}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .config import config_from_dict
    from .data.readers import PairReader
    from .data.splits import load_splits
    from .evaluation import analyze, summary_markdown, write_analysis
    from .prediction import StanceClassifier

    if not 0.0 < args.target_precision <= 1.0:
        raise UsageError(f"--target-precision: expected a value in (0, 1], found "
                         f"{args.target_precision}")
    if args.bootstrap < 0:
        raise UsageError(f"--bootstrap: expected 0 or more resamples, found {args.bootstrap}")
    columns, scheme = parse_columns(args.columns), parse_label_scheme(args.label_scheme)
    clf = StanceClassifier.from_pretrained(args.model, backend=args.backend, device=args.device)
    if not isinstance(clf.meta.get("config"), dict):
        raise ModelError(f"{args.model}/stancekit.json: field 'config': expected the training "
                             "config the model was written with; the model directory is damaged")
    config = config_from_dict(clf.meta["config"], source=f"{args.model}/stancekit.json")
    if args.input:
        reader = PairReader(columns=columns, label_scheme=scheme, require_label=True, hints="cli")
        splits = {Path(f).stem: reader.read(f) for f in args.input}
    else:
        if columns or args.label_scheme != "stancekit":
            raise UsageError("--columns and --label-scheme apply to --input files; the model's "
                             "own evaluation splits are read as it was trained")
        splits = load_splits(config.data)
    # train (baselines) and dev (abstention threshold) come from the model's own data
    own = splits
    if args.input and ("train" not in splits or "dev" not in splits):
        try:
            own = load_splits(config.data)
        except StanceKitError as err:
            own = {}
            logger.warning("the model's train/dev data cannot be loaded (%s): no baselines and "
                           "no abstention threshold chosen on dev", err)
    train_pairs = None if args.no_baselines else (splits.get("train") or own.get("train"))
    dev_pairs = splits.get("dev") or own.get("dev")
    splits = {k: v for k, v in splits.items() if k not in ("train", "dev")} or splits
    out = Path(args.output or Path(args.model) / "eval")
    _check_evaluate_paths(args, out, list(splits), config.data)
    analyses = analyze(clf, splits, train_pairs=train_pairs, dev_pairs=dev_pairs,
                       target_precision=args.target_precision, n_resamples=args.bootstrap)
    paths = write_analysis(analyses, out)
    print(summary_markdown({name: a.metrics for name, a in analyses.items()}))
    print(f"metrics written to {paths[0]}")
    if args.report:
        from .report import write_evaluation_report

        page = write_evaluation_report(analyses, args.report, model_meta=clf.meta,
                                       model_path=str(args.model), analysis_path=paths[2])
        print(f"report written to {page}")
    return 0


def _check_evaluate_paths(args: argparse.Namespace, out: Path, split_names: list[str],
                          data: Any) -> None:
    """evaluate never writes a file it reads: the --data files, the model's own data files
    (``data``: the DataConfig it was trained with) and the model's files."""
    from . import modeldir
    from .evaluation import analysis_files
    from .report import report_files

    writes = [("--output", p) for p in analysis_files(out, split_names)]
    if args.report:
        writes += [("--report", p) for p in report_files(args.report, split_names)
                   if not any(p.resolve() == w.resolve() for _, w in writes)]  # same content
    reads = [("--input", f) for f in args.input or ()]
    reads += [(f"the model's data.{k}", getattr(data, k)) for k in ("train", "dev", "test")]
    reads += [(f"--model's {f.name}", f) for f in modeldir.files(args.model)]
    check_outputs(writes, reads)


def cmd_report(args: argparse.Namespace) -> int:
    from .fileio import partial_path
    from .report import REPORT_FILE, write_stance_report

    page = Path(args.output) / REPORT_FILE
    check_outputs([("--output", page), ("the partial file of --output", partial_path(page))],
                  [("--input", args.input)])
    page = write_stance_report(args.input, args.output, title=args.title)
    print(f"report written to {page}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from .prediction import StanceClassifier, check_abstain_below
    from .streaming import (
        CLI_NAMES,
        check_predict_paths,
        check_shards,
        looks_like_articles,
        predict_articles,
        predict_file,
    )

    if args.batch_size < 1:
        raise UsageError(f"--batch-size: expected a positive integer, found {args.batch_size}")
    check_abstain_below(args.abstain_below, name="--abstain-below")
    if args.chunk_size < 1:
        raise UsageError(f"--chunk-size: expected a positive integer, found {args.chunk_size}")
    check_shards(args.num_shards, args.shard_index, name="--shard-index/--num-shards")
    check_predict_paths(args.input, args.output, model=args.model, rejects=args.rejects,
                        actors=args.actors, table=args.table, pairs=args.pairs_output,
                        names=CLI_NAMES)  # before the model is loaded: a mistake fails fast
    columns, scheme = parse_columns(args.columns), parse_label_scheme(args.label_scheme)
    clf = StanceClassifier.from_pretrained(args.model, backend=args.backend, device=args.device)
    articles_only = (args.table, args.pairs_output, args.by, args.discover)
    if args.actors or args.articles or looks_like_articles(args.input, columns=columns):
        pairs_only = [flag for flag, given in (("--columns", columns), ("--keep-columns",
                      args.keep_columns), ("--label-scheme", args.label_scheme != "stancekit"))
                      if given]
        if pairs_only:
            raise UsageError(f"{', '.join(pairs_only)} apply to pairs; {args.input} holds "
                             "articles (rows without an 'actor' field)")
        counts = predict_articles(
            clf, args.input, args.output, actors_path=args.actors, table_path=args.table,
            pairs_path=args.pairs_output, by=args.by, discover=args.discover,
            rejects=args.rejects, batch_size=args.batch_size, overwrite=args.overwrite,
            abstain_below=args.abstain_below)
        print(f"articles {counts['articles']} ({counts['articles_without_actors']} without a "
              f"known actor), evidence windows {counts['pairs']}, stances {counts['stances']}, "
              f"rejected {counts['rejected']}")
        if counts["stances"] == 0:
            print(f"warning: no listed actor was found in any article of {args.input}; give "
                  "actors with --actors FILE or per article (see the README)", file=sys.stderr)
        else:
            print(_preview(args.output, args.preview))
        print(f"stances -> {args.output}" + (f"; table -> {args.table}" if args.table else ""))
        return 0
    if any(articles_only):
        raise UsageError("--table, --by, --pairs-output and --discover apply to articles; "
                         f"{args.input} holds pairs (rows with an 'actor' field)")
    counts = predict_file(clf, args.input, args.output, batch_size=args.batch_size,
                          rejects=args.rejects, overwrite=args.overwrite,
                          abstain_below=args.abstain_below, num_shards=args.num_shards,
                          shard_index=args.shard_index, chunk_size=args.chunk_size,
                          columns=columns, label_scheme=scheme, keep_columns=args.keep_columns)
    resumed = f" (resumed after {counts['resumed_after']})" if counts["resumed_after"] else ""
    print(f"read {counts['read']}, predicted {counts['predicted']}{resumed}, rejected "
          f"{counts['rejected']} -> {args.output}")
    return 0


def cmd_select(args: argparse.Namespace) -> int:
    from .adapt.commands import select_file
    from .prediction import StanceClassifier

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
    from .adapt.commands import export_file

    clf = None
    if args.model:
        from .prediction import StanceClassifier

        clf = StanceClassifier.from_pretrained(args.model, backend=args.backend,
                                               device=args.device)
    counts = export_file(args.input, args.output, clf=clf, label_config=args.label_config,
                         overwrite=args.overwrite)
    print(f"tasks {counts['tasks']} ({counts['pre_annotated']} with the model's pre-annotation) "
          f"-> {args.output}; labeling config -> {counts['label_config']}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from .adapt.commands import import_file

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
    from .adapt.audit import run_audit, write_audit
    from .data.readers import PairReader
    from .labels import LabelScheme

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
        from .report.label_audit import write_audit_report

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


def _preview(path: str, n: int) -> str:
    """The first ``n`` article-level stances of an output file, and the label counts."""
    from collections import Counter

    lines, labels = [], Counter()
    with open(path, encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            row = json.loads(line)
            labels[row["label"]] += 1
            if i < n:
                p = row["probs"]
                lines.append(f"  {row['actor'][:24]:24s} {row['target'][:28]:28s} "
                             f"{row['label']:8s} (s {p['support']:.2f} n {p['neutral']:.2f} "
                             f"c {p['condemn']:.2f})  {' '.join(row['evidence'].split())[:60]}")
    total = sum(labels.values())
    shown = f"first {len(lines)} of {total} stances" if total > len(lines) else f"{total} stances"
    counts = ", ".join(f"{lab} {labels[lab]}" for lab in ("support", "neutral", "condemn"))
    return "\n".join([f"{shown} (labels: {counts}):", *lines]) if n else f"labels: {counts}"


if __name__ == "__main__":
    sys.exit(main())
