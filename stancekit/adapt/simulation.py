"""The active-learning simulation behind ``docs/adapt.md``: does choosing what to label pay off?

A labelled public corpus stands in for a user's collection: its train split is the pool whose
labels are revealed only when a strategy picks them, its held-out split scores each round.
Starting from a model directory (the default model), each round labels ``round_size`` more pairs
chosen by `select` (uncertainty with diversity) or at random, refits the classifier, and scores
macro-F1 on the held-out split.

The classifier refitted per round is a logistic regression on the model's frozen features
(`stancekit.adapt.features`), computed once and cached: fine-tuning the transformer for every
round, strategy and seed is far beyond a CPU's budget. The first round's uncertainty is the
model's own calibrated probabilities; later rounds use the refitted head's.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data.records import StancePair
from ..labels import LABELS
from .features import Features

logger = logging.getLogger(__name__)

CACHE_FILE = "features.npz"
# `select` options of the strategies compared; ``uncertainty`` is `stancekit select`'s default
STRATEGIES: dict[str, dict[str, Any]] = {
    "uncertainty": {"strategy": "uncertainty", "measure": "margin"},
    "random": {"strategy": "random"},
    "uncertainty+random-share": {"strategy": "uncertainty", "measure": "margin",
                                 "random_share": 0.2},
    "entropy": {"strategy": "uncertainty", "measure": "entropy"},
    "uncertainty+clusters": {"strategy": "uncertainty", "measure": "margin", "embeddings": True},
    "random-first-then-uncertainty": {"strategy": "uncertainty", "measure": "margin",
                                      "first_round": {"strategy": "random"}},
    "margin-no-diversity": {"strategy": "uncertainty", "measure": "margin", "spread": 1.0,
                            "max_per_doc": None, "duplicate_threshold": 1.0},
}
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)


@dataclass(frozen=True)
class FeatureSet:
    """Pairs of one split with their frozen features."""

    pairs: list[StancePair]
    features: Features

    @property
    def labels(self) -> np.ndarray:
        return np.array([LABELS.index(p.label) for p in self.pairs])


def cache_features(model: str | Path, splits: dict[str, Sequence[StancePair]],
                   cache_dir: str | Path, *, backend: str = "auto", batch_size: int = 32,
                   ) -> dict[str, FeatureSet]:
    """The model's features for every split, computed once: read from ``cache_dir`` when it
    holds them for the same model and pair ids, else computed and written there."""
    from ..prediction import StanceClassifier
    from .features import encode_features

    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    index_path, arrays_path = cache / "index.json", cache / CACHE_FILE
    want = {name: [p.id for p in pairs] for name, pairs in splits.items()}
    if index_path.is_file() and arrays_path.is_file():
        index = json.loads(index_path.read_text(encoding="utf-8"))
        if index.get("model") == str(Path(model).resolve()) and index.get("ids") == want:
            with np.load(arrays_path) as arrays:
                return {name: FeatureSet(list(pairs), Features(arrays[f"{name}.embeddings"],
                                                               arrays[f"{name}.logits"]))
                        for name, pairs in splits.items()}
    clf = StanceClassifier.from_pretrained(model, backend=backend)
    out: dict[str, FeatureSet] = {}
    arrays: dict[str, np.ndarray] = {}
    for name, pairs in splits.items():
        logger.info("features of %s (%d pairs), backend %s", name, len(pairs), clf.backend)
        feats = encode_features(clf, list(pairs), batch_size=batch_size, progress=True)
        out[name] = FeatureSet(list(pairs), feats)
        arrays[f"{name}.embeddings"], arrays[f"{name}.logits"] = feats.embeddings, feats.logits
    tmp = cache / ("tmp-" + CACHE_FILE)
    np.savez(tmp, **arrays)
    tmp.replace(arrays_path)
    index_path.write_text(json.dumps({"model": str(Path(model).resolve()), "backend": clf.backend,
                                      "temperature": clf.temperature, "ids": want}),
                          encoding="utf-8")
    return out


def corpus_splits(name: str, path: str | None = None) -> tuple[list[StancePair],
                                                                dict[str, list[StancePair]]]:
    """The pool (the corpus's train split) and held-out splits of a public corpus the default
    model was not trained on: ``newsmtsc`` (test_rw, the primary; test_mt) or ``gwsd`` (test)."""
    from ..data import public

    if name == "newsmtsc":
        folder = public.corpus_dir("newsmtsc", path)
        return (public.read_newsmtsc(folder / "train.jsonl"),
                {"test_rw": public.read_newsmtsc(folder / "devtest_rw.jsonl"),
                 "test_mt": public.read_newsmtsc(folder / "devtest_mt.jsonl")})
    if name == "gwsd":
        parts = public.read_gwsd(public.corpus_dir("gwsd", path) / "GWSD.tsv")
        return parts["pool"], {"test": parts["test"]}
    from ..errors import ConfigError

    raise ConfigError(f"corpus: expected newsmtsc or gwsd, found {name!r}")


@dataclass
class Run:
    """One strategy and seed: macro-F1 of every split after every round."""

    strategy: str
    seed: int
    labels: list[int] = field(default_factory=list)
    scores: dict[str, list[float]] = field(default_factory=dict)
    picked_labels: list[dict[str, int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"strategy": self.strategy, "seed": self.seed, "labels": self.labels,
                "scores": self.scores, "picked_labels": self.picked_labels}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Run:
        return cls(data["strategy"], data["seed"], list(data["labels"]), dict(data["scores"]),
                   list(data.get("picked_labels", [])))


def simulate(pool: FeatureSet, evals: dict[str, FeatureSet], *, strategy: str,
             options: dict[str, Any], seed: int, rounds: int = 8, round_size: int = 100,
             temperature: float = 1.0, c: float = 1.0,
             on_round: Callable[[Run], None] | None = None) -> Run:
    """Rounds of ``round_size`` labels chosen by ``options`` (`select` keywords; ``strategy`` is
    only the run's name) from ``pool``, a logistic-regression head refitted on the features of
    the labels so far, macro-F1 of each split in ``evals`` after each round. Round 0 is the
    model itself (argmax of its logits); the first picks use its calibrated probabilities."""
    from ..calibration import softmax
    from ..metrics import stance_metrics
    from .audit import full_probs, linear_head
    from .selection import select

    x_pool = pool.features.matrix()
    y_pool = pool.labels
    options = dict(options)
    with_embeddings = options.pop("embeddings", False)
    first = options.pop("first_round", None)  # e.g. {"strategy": "random"}: a cold start
    run = Run(strategy, seed, [0], {name: [] for name in evals})
    for name, fs in evals.items():
        pred = fs.features.logits.argmax(axis=1)
        run.scores[name].append(_f1(stance_metrics, fs.labels, pred))
    probs = softmax(pool.features.logits, temperature)
    labelled = np.zeros(len(pool.pairs), dtype=bool)
    for r in range(1, rounds + 1):
        rest = np.flatnonzero(~labelled)
        picks = select([pool.pairs[i] for i in rest], probs[rest], round_size,
                       seed=seed * 1000 + r,
                       labelled=[pool.pairs[i] for i in np.flatnonzero(labelled)],
                       embeddings=pool.features.embeddings[rest] if with_embeddings else None,
                       **({**options, **first} if first and r == 1 else options))
        chosen = rest[[p.index for p in picks]]
        labelled[chosen] = True
        run.picked_labels.append({lab: int((y_pool[chosen] == j).sum())
                                  for j, lab in enumerate(LABELS)})
        idx = np.flatnonzero(labelled)
        head = linear_head(c, seed).fit(x_pool[idx], y_pool[idx])
        run.labels.append(int(labelled.sum()))
        for name, fs in evals.items():
            pred = full_probs(head, fs.features.matrix()).argmax(axis=1)
            run.scores[name].append(_f1(stance_metrics, fs.labels, pred))
        probs = full_probs(head, x_pool)
        if on_round is not None:
            on_round(run)
    return run


def _f1(metrics: Callable[..., dict[str, Any]], y: np.ndarray, pred: np.ndarray) -> float:
    return round(float(metrics([LABELS[v] for v in y], [LABELS[v] for v in pred])["f1_macro"]), 4)


def summarize(runs: Sequence[Run], split: str, checkpoints: Sequence[int] = (200, 400, 800)
              ) -> dict[str, dict[str, dict[str, float]]]:
    """Mean, standard deviation, min and max over seeds of ``split``'s macro-F1 at each
    checkpoint (keyed by the number of labels as a string, as in JSON), per strategy."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for strategy in dict.fromkeys(r.strategy for r in runs):
        mine = [r for r in runs if r.strategy == strategy]
        out[strategy] = {}
        for n in checkpoints:
            vals = [r.scores[split][r.labels.index(n)] for r in mine if n in r.labels]
            if vals:
                out[strategy][str(n)] = {"mean": round(float(np.mean(vals)), 4),
                                    "std": round(float(np.std(vals)), 4),
                                    "min": min(vals), "max": max(vals), "seeds": len(vals)}
    return out


def labels_to_reach(runs: Sequence[Run], split: str, strategy: str, target: float) -> int | None:
    """The fewest labels at which ``strategy``'s mean macro-F1 over seeds reaches ``target``."""
    mine = [r for r in runs if r.strategy == strategy]
    if not mine:
        return None
    for k, n in enumerate(mine[0].labels):
        if n and round(float(np.mean([r.scores[split][k] for r in mine])), 4) >= target:
            return n
    return None


def curve_figure(runs: Sequence[Run], split: str, *, title: str = "") -> Any:
    """Learning curves: mean macro-F1 over seeds against labels with a min-max band, per
    strategy; the right panel zooms in from the second round on."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11.5, 4.4), layout="constrained")
    full, zoom = fig.subplots(1, 2)
    colours = ["#2f62b0", "#5b6475", "#c0661a", "#3c9a5f", "#9b59b6", "#d62728", "#b8a03a",
               "#17becf"]
    start = np.mean([r.scores[split][0] for r in runs])
    low = 1.0
    for colour, strategy in zip(colours, dict.fromkeys(r.strategy for r in runs)):
        mine = [r for r in runs if r.strategy == strategy]
        x = np.array(mine[0].labels)
        y = np.array([r.scores[split] for r in mine])
        low = min(low, float(y.mean(axis=0)[2:].min()))
        for ax, first in ((full, 1), (zoom, 2)):
            ax.plot(x[first:], y.mean(axis=0)[first:], "--" if strategy == "random" else "-",
                    marker="o", ms=3.5, color=colour, lw=2.2 if strategy == "random" else 1.4,
                    label=strategy)
            ax.fill_between(x[first:], y.min(axis=0)[first:], y.max(axis=0)[first:],
                            color=colour, alpha=0.12)
    full.axhline(start, color="#c0392b", lw=1, ls=":",
                 label=f"default model, no labels ({start:.3f})")
    zoom.set_ylim(low - 0.02, None)
    for ax, first in ((full, 1), (zoom, 2)):
        ax.set_xlabel("labelled pairs")
        ax.set_ylabel(f"macro-F1 on {split}")
        ax.set_xticks(runs[0].labels[first:])
        ax.grid(alpha=0.3)
    full.legend(fontsize=8, loc="lower right")
    zoom.set_title("from 200 labels on", fontsize=10)
    if title:
        full.set_title(title, fontsize=10)
    return fig

def run_simulation(model: str | Path, corpus: str, cache: str | Path, *,
                   data_path: str | None = None, seeds: int = 3, rounds: int = 8,
                   round_size: int = 100, c: float | None = None, pool_share: float = 0.7,
                   strategies: dict[str, dict[str, Any]] | None = None
                   ) -> tuple[dict[str, Any], list[Run]]:
    """The whole simulation: features (cached), a dev carve of the pool (10 %, whole documents)
    on which the head's C is chosen with random labels when ``c`` is None, then every strategy
    and seed. A seed draws its own ``pool_share`` of the pool (the same draw for every
    strategy): without it, uncertainty sampling from one model is the same for every seed.
    Returns the result (JSON-plain) and the runs."""
    import time

    from ..data.splits import carve_dev
    from ..modeldir import read_meta

    strategies = strategies or STRATEGIES
    pool_pairs, tests = corpus_splits(corpus, data_path)
    sets = cache_features(model, {"train": pool_pairs, **tests}, cache)
    temperature = float(read_meta(Path(model)).get("temperature", 1.0))
    pool_part, dev_part = carve_dev(pool_pairs, 0.1)
    pool, dev = _subset(sets["train"], pool_part), _subset(sets["train"], dev_part)
    evals = {"dev": dev, **{name: sets[name] for name in tests}}
    primary = next(iter(tests))
    grid: dict[float, float] = {}
    if c is None:
        for cand in C_GRID:
            grid[cand] = float(np.mean([
                simulate(pool, {"dev": dev}, strategy="random", options=STRATEGIES["random"],
                         seed=s, rounds=4, round_size=round_size, temperature=temperature,
                         c=cand).scores["dev"][-1] for s in range(seeds)]))
        c = max(grid, key=grid.get)
        logger.info("C on dev (random %d labels): %s -> %s", 4 * round_size, grid, c)
    runs = []
    started = time.time()
    pools = [_subset(pool, [pool.pairs[i] for i in np.sort(np.random.default_rng(100 + seed).choice(
        len(pool.pairs), int(pool_share * len(pool.pairs)), replace=False))])
        for seed in range(seeds)]
    for name, options in strategies.items():
        for seed in range(seeds):
            run = simulate(pools[seed], evals, strategy=name, options=options, seed=seed,
                           rounds=rounds, round_size=round_size, temperature=temperature, c=c)
            runs.append(run)
            logger.info("%s seed %d: %s %s", name, seed, primary, run.scores[primary])
    checkpoints = [n for n in (200, 400, 800) if n <= rounds * round_size]
    ceiling = _ceiling(pool, evals, c)
    result = {"corpus": corpus, "model": str(model), "primary": primary,
              "pool": len(pool.pairs), "pool_per_seed": len(pools[0].pairs),
              "dev": len(dev.pairs), "every_pool_label": ceiling,
              "held_out": {k: len(v) for k, v in tests.items()},
              "head": {"kind": "logistic regression on the frozen features (first-token vector "
                               "and logits), standardised, balanced class weights",
                       "C": c, "C_grid_dev": {str(k): round(v, 4) for k, v in grid.items()}},
              "temperature": temperature, "round_size": round_size, "rounds": rounds,
              "checkpoints": checkpoints, "strategies": strategies,
              "seconds": round(time.time() - started, 1), "runs": [r.to_dict() for r in runs]}
    return summarized(result, runs), runs


def summarized(result: dict[str, Any], runs: Sequence[Run]) -> dict[str, Any]:
    """``result`` with, for every split, the mean over seeds at each checkpoint (``summary``),
    random selection's mean at the last checkpoint and the labels each strategy needs to reach
    it (``random_final``, ``labels_to_reach``)."""
    checkpoints = result["checkpoints"]
    last = str(max(checkpoints))
    result["summary"], result["random_final"], result["labels_to_reach"] = {}, {}, {}
    for split in runs[0].scores:
        summary = summarize(runs, split, checkpoints)
        final = summary.get("random", {}).get(last, {}).get("mean")
        result["summary"][split] = summary
        result["random_final"][split] = final
        result["labels_to_reach"][split] = {
            name: labels_to_reach(runs, split, name, final) for name in summary} \
            if final is not None else {}
    return result


def _ceiling(pool: FeatureSet, evals: dict[str, FeatureSet], c: float) -> dict[str, float]:
    """Macro-F1 of the head fitted on every label of the pool: where the curves can go."""
    from ..metrics import stance_metrics
    from .audit import full_probs, linear_head

    head = linear_head(c).fit(pool.features.matrix(), pool.labels)
    return {name: _f1(stance_metrics, fs.labels,
                      full_probs(head, fs.features.matrix()).argmax(axis=1))
            for name, fs in evals.items()}


def _subset(fs: FeatureSet, pairs: Sequence[StancePair]) -> FeatureSet:
    index = {p.id: i for i, p in enumerate(fs.pairs)}
    idx = np.array([index[p.id] for p in pairs], dtype=int)
    return FeatureSet(list(pairs), Features(fs.features.embeddings[idx], fs.features.logits[idx]))


def markdown(result: dict[str, Any]) -> str:
    """The result's tables (mean ± sd over seeds per split and checkpoint) as Markdown."""
    checkpoints = result["checkpoints"]
    lines = []
    for split, by_strategy in result["summary"].items():
        lines += [f"\n{split}:\n", "| strategy | " + " | ".join(f"{n} labels" for n in checkpoints)
                  + " |", "|---|" + "---:|" * len(checkpoints)]
        for name, cells in by_strategy.items():
            lines.append(f"| {name} | " + " | ".join(
                f"{cells[str(n)]['mean']:.3f} ± {cells[str(n)]['std']:.3f}" if str(n) in cells
                else "–" for n in checkpoints) + " |")
    for split, final in result.get("random_final", {}).items():
        if final is None:
            continue
        lines.append(f"\n{split}: random's {max(checkpoints)}-label mean {final:.3f}; labels "
                     "each strategy needs to reach it: " + ", ".join(
                         f"{k} {v if v is not None else '-'}"
                         for k, v in result["labels_to_reach"][split].items()))
    return "\n".join(lines)
