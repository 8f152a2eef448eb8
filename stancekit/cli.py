"""The `stancekit` command: train, evaluate, predict, report; select, export, import, audit.

This module builds the parser and turns errors into one line; what each command does is in
`stancekit.commands` (and `stancekit.adapt.cli` for the adapting commands).

Each subcommand parses its arguments, logs the resolved config, builds the objects and
runs. User errors print one line (file, line, field, what was expected) and exit 2;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from .commands import cmd_evaluate, cmd_predict, cmd_report, cmd_train
from .errors import Interrupted, StanceKitError

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
    from .adapt.cli import add_commands

    add_commands(sub)
    return parser


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


if __name__ == "__main__":
    sys.exit(main())
