"""Benchmark stancekit on public stance corpora beside majority and TF-IDF + LR baselines.

Usage:
    python scripts/benchmark.py [--corpora dsa_news,semeval,newsmtsc,gwsd,pstance]
                                [--cross hillary,atheism,...] [--retrain] [--output docs/benchmarks.md]

For each corpus it trains `configs/<corpus>.yaml` (or reuses the model directory a previous
run left, unless --retrain), scores the official evaluation splits, and writes a Markdown
table with bootstrap 95 % intervals (resampled by document), a paired bootstrap against
TF-IDF + LR, the published reference figure, the training time and the encoder. The
corpora are read in place from ../shared/datasets (or $STANCEKIT_DATASETS); the file is
regenerated end to end by this script, never edited by hand.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stancekit.baselines import MajorityBaseline, TfidfBaseline  # noqa: E402
from stancekit.config import load_config  # noqa: E402
from stancekit.data.public import TWO_WAY  # noqa: E402
from stancekit.data.splits import load_splits  # noqa: E402
from stancekit.errors import StanceKitError  # noqa: E402
from stancekit.labels import LABELS  # noqa: E402
from stancekit.metrics import (  # noqa: E402
    bootstrap_intervals,
    bootstrap_weights,
    resampled_f1,
    stance_metrics,
)
from stancekit.prediction import StanceClassifier, lexical_texts  # noqa: E402
from stancekit.training import train  # noqa: E402

logger = logging.getLogger("benchmark")

# What each corpus is scored on, and the published figure to compare with.
CORPORA = {
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


CROSS_REFERENCE = ("leave-one-target-out: no published figure for this protocol was checked "
                   "here; the in-target TweetEval figures (SVM 0.673, RoBERTa-base 0.680) are "
                   "not comparable")


def _reference(name: str) -> str:
    return CROSS_REFERENCE if "@cross:" in name else CORPORA[name.split("@")[0]]["reference"]


def bootstrap(y_true: list[str], preds: dict[str, list[str]], groups: list[str],
              labels, n: int = 1000, seed: int = 0) -> dict[str, dict[str, tuple[float, float]]]:
    """95 % intervals of macro-F1 and F_avg per system on shared document resamples
    (`stancekit.metrics`), plus the share of resamples where a system beats TF-IDF + LR."""
    weights = bootstrap_weights(len(y_true), groups, n_resamples=n, seed=seed)
    draws = {s: resampled_f1(y_true, p, weights, labels=labels) for s, p in preds.items()}
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for system, d in draws.items():
        ci = bootstrap_intervals(y_true, preds[system], labels=labels, weights=weights)
        out[system] = {k: tuple(ci[k]) for k in ("f1_macro", "f_avg")}
        if "tfidf_lr" in draws and system != "tfidf_lr":
            for k in ("f1_macro", "f_avg"):
                wins = float(np.mean(d[k] > draws["tfidf_lr"][k]))
                out[system][f"p_better_{k}"] = (wins, wins)
    return out


def _trained_with_other_config(out: Path, config) -> str:
    """The config keys on which a reusable model directory differs from ``config`` ('' if none)."""
    try:
        saved = json.loads((out / "stancekit.json").read_text(encoding="utf-8"))["config"]
    except (OSError, ValueError, KeyError):
        return ""
    wanted = config.to_dict()
    # a key newer than the saved model counts as its default value (the behaviour then)
    default = type(config)().to_dict()
    # where the model was first written does not change it (a directory can be moved)
    return ", ".join(f"{section}.{key}" for section in wanted for key in wanted[section]
                     if (section, key) != ("train", "output_dir")
                     and saved.get(section, {}).get(key, default[section][key])
                     != wanted[section][key])


def run_corpus(name: str, overrides: list[str], retrain: bool, n_boot: int) -> dict:
    spec = CORPORA[name.split("@")[0]]
    config = load_config(ROOT / "configs" / f"{name.split('@')[0]}.yaml", overrides)
    splits = load_splits(config.data)
    out = Path(config.train.output_dir)
    stale = _trained_with_other_config(out, config)
    if stale:
        logger.info("%s was trained with a different config (%s); retraining", out, stale)
    if retrain or stale or not (out / "stancekit.json").is_file():
        logger.info("training %s -> %s", name, out)
        train(config, splits)
    clf = StanceClassifier.from_pretrained(out)
    meta = clf.meta
    lexical_train = lexical_texts(clf.encoder, splits["train"])
    y_train = [p.label for p in splits["train"]]
    tfidf = TfidfBaseline().fit(lexical_train, y_train)
    majority = MajorityBaseline().fit(lexical_train, y_train)
    rows = []
    eval_splits = [s for s in spec["splits"] if s in splits] or \
        [s for s in splits if s not in ("train", "dev")]
    for split in eval_splits:
        pairs = splits[split]
        y = [p.label for p in pairs]
        texts = lexical_texts(clf.encoder, pairs)
        started = time.time()
        preds = {"stancekit": [p.label for p in clf.predict(pairs, batch_size=64)]}
        infer_s = time.time() - started
        for key, model in (("tfidf_lr", tfidf), ("majority", majority)):
            preds[key] = [LABELS[i] for i in model.predict_proba(texts).argmax(1)]
        groups = [p.doc_id or p.id for p in pairs]
        ci = bootstrap(y, preds, groups, spec["labels"], n=n_boot)
        for system, p in preds.items():
            m = stance_metrics(y, p, labels=spec["labels"])
            rows.append({"corpus": name, "split": split, "system": system, "n": len(y),
                         "f1_macro": m["f1_macro"], "f_avg": m["f_avg"],
                         "ci_f1_macro": ci[system]["f1_macro"], "ci_f_avg": ci[system]["f_avg"],
                         "p_better": ci[system].get(f"p_better_{spec['metric']}"),
                         "infer_pairs_s": len(y) / infer_s if system == "stancekit" else None})
    return {"corpus": name, "rows": rows, "metric": spec["metric"],
            "reference": _reference(name), "encoder": meta.get("encoder"),
            "train_seconds": meta.get("train_seconds"), "n_train": len(splits["train"]),
            "stacked": bool(meta.get("stacker")), "labels": list(spec["labels"]),
            "config": str(Path("configs") / f"{name.split('@')[0]}.yaml") +
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
        r["reference"] = _reference(r["corpus"])
    return results


def to_markdown(results: list[dict]) -> str:
    lines = ["# Benchmarks", "",
             "Generated by `python scripts/benchmark.py` — do not edit by hand. Each corpus is "
             "read in place from `../shared/datasets`; stancekit and both baselines train on the "
             "same train split; the model is selected on dev only and each test figure is "
             "measured once. Intervals: 95 % bootstrap (1000 resamples of documents). "
             "*P(> TF-IDF)*: share of paired resamples where stancekit beats TF-IDF + LR on the "
             "corpus's headline metric. Bold: the best system on the row. `semeval@cross:T` "
             "rows train on the other four SemEval targets and test on T (unseen target).", ""]
    lines += ["| corpus | split | headline metric | majority | TF-IDF + LR | stancekit | "
              "P(> TF-IDF) | published reference |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        metric = r["metric"]
        by = {}
        for row in r["rows"]:
            by.setdefault(row["split"], {})[row["system"]] = row
        for split, systems in by.items():
            best = max(systems, key=lambda name: systems[name][metric])
            cells = {}
            for name, row in systems.items():
                lo, hi = row[f"ci_{metric}"]
                text = f"{row[metric]:.3f} [{lo:.3f}, {hi:.3f}]"
                cells[name] = f"**{text}**" if name == best else text  # the best, whichever it is
            p = systems["stancekit"]["p_better"]
            lines.append(f"| {r['corpus']} | {split} | {metric} | {cells['majority']} | "
                         f"{cells['tfidf_lr']} | {cells['stancekit']} | "
                         f"{p[0]:.2f} | {r['reference']} |")
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
            a, b = row["ci_f1_macro"], row["ci_f_avg"]
            lines.append(f"| {row['split']} | {row['system']} | {row['n']} | "
                         f"{row['f1_macro']:.3f} [{a[0]:.3f}, {a[1]:.3f}] | "
                         f"{row['f_avg']:.3f} [{b[0]:.3f}, {b[1]:.3f}] |")
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default="dsa_news,semeval,newsmtsc,gwsd,pstance")
    parser.add_argument("--cross", default="",
                        help="SemEval cross-target runs: comma-separated held-out targets "
                             "(abortion, atheism, climate, feminist, hillary) or 'all'")
    parser.add_argument("--retrain", action="store_true")
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite the Markdown from the JSON results of the last run")
    parser.add_argument("--update", action="store_true",
                        help="run only the corpora named and keep the other rows of the last run")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="applied to every corpus's config (e.g. train.max_steps=10 to smoke-test)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    cache = Path(args.output).with_suffix(".json")
    if args.render_only:
        results = load_results(cache)
        Path(args.output).write_text(to_markdown(results) + "\n", encoding="utf-8")
        print(f"written {args.output}")
        return 0
    jobs = [(c, list(args.overrides)) for c in args.corpora.split(",") if c]
    cross = ["abortion", "atheism", "climate", "feminist", "hillary"] if args.cross == "all" \
        else [t for t in args.cross.split(",") if t]
    jobs += [(f"semeval@cross:{t}", [f"data.subset=cross:{t}",
                                     f"train.output_dir=models/semeval_cross_{t}", *args.overrides])
             for t in cross]
    results = load_results(cache) if args.update and cache.is_file() else []
    failed: list[str] = []
    for name, overrides in jobs:
        if name.split("@")[0] not in CORPORA:
            parser.error(f"unknown corpus {name!r}; known: {sorted(CORPORA)}")
        try:
            result = run_corpus(name, overrides, args.retrain, args.bootstrap)
        except StanceKitError as err:  # e.g. a corpus that is absent, or a collapsed run
            print(f"{name}: skipped: {err}", file=sys.stderr)
            failed.append(f"{name}: {err}")
            continue
        results = merge_result(results, result)
        Path(args.output).write_text(to_markdown(results) + "\n", encoding="utf-8")
        cache.write_text(json.dumps(results, indent=1), encoding="utf-8")
        print(to_markdown([result]).split("## Details")[0].splitlines()[-1])
    print(f"written {args.output}")
    for line in failed:
        print(f"not benchmarked: {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
