"""Benchmarks on public stance corpora: stancekit beside the majority class and TF-IDF + LR.

For each corpus, `run_corpus` trains ``configs/<corpus>.yaml`` (or reuses the model directory
a previous run left, unless the config changed since), scores the official evaluation splits
with `analyze` (bootstrap 95 % intervals resampled by document, and the paired bootstrap of
stancekit against each baseline), and `to_markdown` renders the table of
``docs/benchmarks.md`` with the published reference figure, the training time and the
encoder. ``scripts/benchmark.py`` is the command line; the corpora are read in place from
``../shared/datasets`` (or ``$STANCEKIT_DATASETS``).

Example:
    >>> result = run_corpus("gwsd", ["train.max_steps=10"])  # doctest: +SKIP
    >>> print(to_markdown([result]))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..config import load_config
from ..data.public import TWO_WAY
from ..data.splits import load_splits
from ..errors import StanceKitError, UsageError
from ..labels import LABELS
from ..metrics import format_p
from ..prediction import StanceClassifier
from ..training import train
from ..training.loop import with_absolute_paths
from .analysis import MODEL, analyze
from .evaluator import N_RESAMPLES

logger = logging.getLogger(__name__)

# What each corpus is scored on, and the published figure to compare with.
CORPORA: dict[str, dict[str, Any]] = {
    "dsa_news": {"splits": ["valid"], "labels": LABELS, "metric": "f1_macro",
                 "reference": "no published figure on this split (the test split is not "
                              "public); yardsticks measured here for the issue: TF-IDF + LR 0.733, "
                              "plain MiniLM fine-tune 0.712 (macro-F1, valid, p→q)"},
    "semeval": {"splits": ["test"], "labels": LABELS, "metric": "f_avg",
                "reference": "TweetEval stance F_avg: SVM 0.673, RoBERTa-base 0.680 (cardiffnlp/"
                             "tweeteval README; averaged over targets, ours pooled over all 1,249 "
                             "test tweets)"},
    "newsmtsc": {"splits": ["test_rw", "test_mt"], "labels": LABELS, "metric": "f1_macro",
                 "reference": "RoBERTa-SPC macro-F1: test-rw 0.811, test-mt 0.794 (Hamborg & "
                              "Donnay 2021, Table 2)"},
    "gwsd": {"splits": ["test"], "labels": LABELS, "metric": "f1_macro",
             "reference": "published figures not checked here (see SOURCE.md)"},
    "pstance": {"splits": ["test"], "labels": TWO_WAY, "metric": "f1_macro",
                "reference": "BERTweet macro-F1 (favor/against) 0.805, in-target average (Li et "
                             "al. 2021)"},
}

# SemEval targets for the leave-one-target-out runs (``semeval@cross:<target>``).
CROSS_TARGETS = ("abortion", "atheism", "climate", "feminist", "hillary")

CROSS_REFERENCE = ("leave-one-target-out: no published figure for this protocol was checked "
                   "here; the in-target TweetEval figures (SVM 0.673, RoBERTa-base 0.680) are "
                   "not comparable")

BASELINE = "tfidf_lr"  # the system stancekit is compared with in the paired bootstrap


def reference(name: str) -> str:
    """The published figure to compare corpus (or cross-target run) ``name`` with."""
    return CROSS_REFERENCE if "@cross:" in name else CORPORA[name.split("@")[0]]["reference"]


def benchmark_jobs(corpora: Sequence[str], cross: Sequence[str] = (),
                   overrides: Sequence[str] = ()) -> list[tuple[str, list[str]]]:
    """``(name, overrides)`` for each corpus and each SemEval cross-target run (``cross`` names
    held-out targets, or ``["all"]``); ``overrides`` apply to every config.

    Raises:
        UsageError: A corpus or target that is not known.
    """
    unknown = [c for c in corpora if c not in CORPORA]
    if unknown:
        raise UsageError(f"unknown corpus {unknown[0]!r}; known: {sorted(CORPORA)}")
    targets = list(CROSS_TARGETS) if list(cross) == ["all"] else list(cross)
    unknown = [t for t in targets if t not in CROSS_TARGETS]
    if unknown:
        raise UsageError(f"unknown SemEval target {unknown[0]!r}; known: {list(CROSS_TARGETS)} "
                         "or 'all'")
    jobs = [(c, list(overrides)) for c in corpora]
    jobs += [(f"semeval@cross:{t}", [f"data.subset=cross:{t}",
                                     f"train.output_dir=models/semeval_cross_{t}", *overrides])
             for t in targets]
    return jobs


def trained_with_other_config(out: Path, config: Any) -> str:
    """The config keys on which a reusable model directory differs from ``config`` ('' if none)."""
    try:
        saved = json.loads((out / "stancekit.json").read_text(encoding="utf-8"))["config"]
    except (OSError, ValueError, KeyError):
        return ""
    wanted = with_absolute_paths(config).to_dict()  # as `train` stores it
    # a key newer than the saved model counts as its default value (the behaviour then)
    default = type(config)().to_dict()
    # where the model was first written does not change it (a directory can be moved)
    return ", ".join(f"{section}.{key}" for section in wanted for key in wanted[section]
                     if (section, key) != ("train", "output_dir")
                     and saved.get(section, {}).get(key, default[section][key])
                     != wanted[section][key])


def run_corpus(name: str, overrides: Sequence[str] = (), *, retrain: bool = False,
               n_boot: int = N_RESAMPLES, configs: str | Path = "configs") -> dict[str, Any]:
    """Train (or reuse) the model of corpus ``name`` and score it beside the baselines.

    Args:
        name: A key of `CORPORA`, or ``semeval@cross:<target>`` (with its overrides).
        overrides: ``key=value`` overrides of ``<configs>/<corpus>.yaml``.
        retrain: Train even when the model directory holds a model of the same config.
        n_boot: Bootstrap resamples for the intervals and the paired comparison.
        configs: The folder of the corpus configs.

    Returns:
        One row per split and system (``stancekit``, ``majority``, ``tfidf_lr``) with macro-F1,
        F_avg and their intervals; the ``stancekit`` rows carry ``vs_tfidf``, the paired
        bootstrap of stancekit minus TF-IDF + LR (``diff``, ``ci``, ``p_value`` per metric).
        Beside the rows: the headline metric, the published reference, the encoder, the
        training time and the config.
    """
    corpus = name.split("@")[0]
    spec = CORPORA[corpus]
    config = load_config(Path(configs) / f"{corpus}.yaml", list(overrides))
    splits = load_splits(config.data)
    out = Path(config.train.output_dir)
    stale = trained_with_other_config(out, config)
    if stale:
        logger.info("%s was trained with a different config (%s); retraining", out, stale)
    if retrain or stale or not (out / "stancekit.json").is_file():
        logger.info("training %s -> %s", name, out)
        train(config, splits, overwrite=True)
    clf = StanceClassifier.from_pretrained(out)
    eval_splits = [s for s in spec["splits"] if s in splits] or \
        [s for s in splits if s not in ("train", "dev")]
    analyses = analyze(clf, {s: splits[s] for s in eval_splits}, train_pairs=splits["train"],
                       labels=spec["labels"], n_resamples=n_boot)
    rows = []
    for split, analysis in analyses.items():
        for system, m in analysis.metrics.items():
            row = {"corpus": name, "split": split, "system": system, "n": len(analysis.pairs)}
            for metric in ("f1_macro", "f_avg"):
                row[metric] = m[f"{split}_{metric}"]
                row[f"ci_{metric}"] = m.get(f"{split}_{metric}_ci")
            if system == MODEL:
                row["vs_tfidf"] = analysis.comparisons.get(BASELINE) or None
            rows.append(row)
    meta = clf.meta
    return {"corpus": name, "rows": rows, "metric": spec["metric"], "reference": reference(name),
            "encoder": meta.get("encoder"), "train_seconds": meta.get("train_seconds"),
            "n_train": len(splits["train"]), "stacked": bool(meta.get("stacker")),
            "labels": list(spec["labels"]), "n_resamples": n_boot,
            "config": str(Path("configs") / f"{corpus}.yaml") +
            (" " + " ".join(overrides) if overrides else "")}


def merge_result(results: list[dict], result: dict) -> list[dict]:
    """``results`` with ``result`` in place of the earlier run of its corpus, or appended."""
    if any(r["corpus"] == result["corpus"] for r in results):
        return [result if r["corpus"] == result["corpus"] else r for r in results]
    return [*results, result]


def load_results(cache: Path) -> list[dict]:
    """The JSON results of the last run, with today's published references."""
    results = json.loads(cache.read_text(encoding="utf-8"))
    for r in results:
        r["reference"] = reference(r["corpus"])
    return results


def _score(value: float, ci: Sequence[float] | None, sign: str = "") -> str:
    text = f"{value:{sign}.3f}"
    return f"{text} [{ci[0]:{sign}.3f}, {ci[1]:{sign}.3f}]" if ci else text


def _versus(paired: dict[str, Any] | None, n_resamples: int | None) -> str:
    """``+0.057 [+0.031, +0.083], p = 0.004``: the paired difference on the headline metric."""
    if not paired:
        return "n/a"
    # the smallest two-sided p-value the resamples can show is 2 / n
    return f"{_score(paired['diff'], paired['ci'], '+')}, {format_p(paired['p_value'], n_resamples)}"


def to_markdown(results: list[dict]) -> str:
    """The Markdown of ``docs/benchmarks.md``: one row per corpus and split, then the details."""
    counts = sorted({r.get("n_resamples", N_RESAMPLES) for r in results})
    resamples = " or ".join(str(n) for n in counts) or str(N_RESAMPLES)
    lines = ["# Benchmarks", "",
             "Generated by `python scripts/benchmark.py` — do not edit by hand. Each corpus is "
             "read in place from `../shared/datasets`; stancekit and both baselines train on the "
             "same train split; the model is selected on dev only and each test figure is "
             f"measured once. Intervals: 95 % bootstrap ({resamples} resamples of documents). "
             "*stancekit − TF-IDF*: the difference on the corpus's headline metric, its 95 % "
             "paired bootstrap interval (both systems on the same resamples) and the two-sided "
             "p-value. Bold: the best system on the row. `semeval@cross:T` rows train on the "
             "other four SemEval targets and test on T (unseen target).", ""]
    lines += ["| corpus | split | headline metric | majority | TF-IDF + LR | stancekit | "
              "stancekit − TF-IDF | published reference |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        metric = r["metric"]
        by: dict[str, dict[str, dict]] = {}
        for row in r["rows"]:
            by.setdefault(row["split"], {})[row["system"]] = row
        for split, systems in by.items():
            best = max(systems, key=lambda name: systems[name][metric])
            cells = {}
            for name, row in systems.items():
                text = _score(row[metric], row[f"ci_{metric}"])
                cells[name] = f"**{text}**" if name == best else text  # the best, whichever it is
            paired = (systems[MODEL].get("vs_tfidf") or {}).get(metric)
            lines.append(f"| {r['corpus']} | {split} | {metric} | {cells['majority']} | "
                         f"{cells['tfidf_lr']} | {cells[MODEL]} | "
                         f"{_versus(paired, r.get('n_resamples'))} | {r['reference']} |")
    lines += ["", "## Details", ""]
    for r in results:
        minutes = (r["train_seconds"] or 0) / 60
        lines += [f"### {r['corpus']}", "",
                  f"- config: `{r['config']}`; encoder `{r['encoder']}`; "
                  f"{r['n_train']:,} train pairs; training {minutes:.1f} min on this machine's CPU"
                  + ("; TF-IDF stacked (chosen by 5-fold CV on dev)" if r["stacked"] else "")
                  + f"; scored over {', '.join(r['labels'])}",
                  "", "| split | system | n | macro-F1 [95 % CI] | F_avg [95 % CI] |",
                  "|---|---|---|---|---|"]
        for row in r["rows"]:
            lines.append(f"| {row['split']} | {row['system']} | {row['n']} | "
                         f"{_score(row['f1_macro'], row['ci_f1_macro'])} | "
                         f"{_score(row['f_avg'], row['ci_f_avg'])} |")
        lines.append("")
    return "\n".join(lines)


def write_benchmarks(results: list[dict], output: str | Path) -> None:
    """The Markdown at ``output`` and the JSON results beside it (``.json``)."""
    output = Path(output)
    output.write_text(to_markdown(results) + "\n", encoding="utf-8")
    output.with_suffix(".json").write_text(json.dumps(results, indent=1), encoding="utf-8")


def run_benchmarks(jobs: Sequence[tuple[str, Sequence[str]]], output: str | Path, *,
                   retrain: bool = False, n_boot: int = N_RESAMPLES, update: bool = False,
                   configs: str | Path = "configs") -> tuple[list[dict], list[str]]:
    """Run each of `benchmark_jobs` and rewrite ``output`` (and its JSON) after each corpus.

    Args:
        update: Keep the other corpora of the last run (from the JSON beside ``output``).

    Returns:
        The results and, for each corpus that could not be benchmarked (a corpus that is
        absent, a collapsed run), ``"<name>: <error>"``.
    """
    cache = Path(output).with_suffix(".json")
    results = load_results(cache) if update and cache.is_file() else []
    failed: list[str] = []
    for name, overrides in jobs:
        try:
            result = run_corpus(name, overrides, retrain=retrain, n_boot=n_boot, configs=configs)
        except StanceKitError as err:
            logger.warning("%s: skipped: %s", name, err)
            failed.append(f"{name}: {err}")
            continue
        results = merge_result(results, result)
        write_benchmarks(results, output)
        logger.info("%s", to_markdown([result]).split("## Details")[0].strip().splitlines()[-1])
    return results, failed
