"""What `stancekit train`, `evaluate`, `report` and `predict` do once their arguments are parsed
(`stancekit.cli` builds the parser and handles errors; the adapting commands are in
`stancekit.adapt.cli`)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import ModelError, StanceKitError, UsageError
from .fileio import check_outputs

logger = logging.getLogger("stancekit")


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
    from .prediction_runs import CLI_NAMES, check_predict_paths
    from .streaming import (
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

