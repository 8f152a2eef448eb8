"""What to annotate next: uncertainty sampling with diversity, and an optional random share.

`select` ranks unlabelled pairs by how unsure the model is (`uncertainty`: the margin between
the two most probable labels, or the entropy, of the calibrated probabilities) and picks them
greedily under three diversity rules:

1. **No near-duplicate windows.** A pair whose text shares at least ``duplicate_threshold`` of
   its word trigrams (Jaccard) with a pair of the same actor and target already picked, or
   already labelled, is skipped: wire copies and overlapping windows ask the same question
   twice. The same window about another actor or target is another question and stays.
2. **Documents.** At most ``max_per_doc`` pairs of one document.
3. **Actors and targets.** An actor or target that already holds more than its share of the
   pool among the picks has its pairs' uncertainty multiplied by ``spread`` for every pick in
   excess, so that one loud actor cannot fill the batch; a corpus with one target is unaffected.

``random_share`` of the batch is drawn uniformly at random from the pool first (marked
``by: random``): an unbiased sample for evaluating the adapted model, free of the strategy's
selection bias. Uncertainty picks then avoid near-duplicates of those too.

Example:
    >>> picks = select(pairs, clf.predict_proba(pairs), 200, random_share=0.1)  # doctest: +SKIP
    >>> [(pairs[p.index].id, p.by, round(p.score, 3)) for p in picks[:2]]  # doctest: +SKIP
    [('a7|Iran|the deal|0-88', 'random', 0.412), ('a3|Egypt|the deal|5-140', 'uncertainty', 0.998)]
"""

from __future__ import annotations

import re
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ..data.records import StancePair
from ..errors import ConfigError

STRATEGIES = ("uncertainty", "random")
MEASURES = ("margin", "entropy")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Pick:
    """One selected pair: its index in the pool, its place in the batch, how it was chosen
    (``uncertainty`` or ``random``) and the model's uncertainty about it."""

    index: int
    rank: int
    by: str
    score: float


def uncertainty(probs: np.ndarray, measure: str = "margin") -> np.ndarray:
    """How unsure each row of probabilities is, in [0, 1], higher = less sure.

    ``margin``: 1 - (top probability - second probability); ``entropy``: the entropy divided
    by its maximum, log(number of labels).
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] < 2:
        raise ConfigError(f"probabilities: expected a (pairs, labels) array with 2+ labels, "
                          f"found shape {probs.shape}")
    if measure == "margin":
        top2 = np.sort(probs, axis=1)[:, -2:]
        return 1.0 - (top2[:, 1] - top2[:, 0])
    if measure == "entropy":
        p = np.clip(probs, 1e-12, 1.0)
        return -(p * np.log(p)).sum(axis=1) / np.log(probs.shape[1])
    raise ConfigError(f"measure: expected one of {list(MEASURES)}, found {measure!r}")


def shingles(text: str, k: int = 3) -> frozenset[int]:
    """The word ``k``-grams of ``text`` (lower-cased, punctuation ignored) as stable hashes; a
    text shorter than ``k`` words gives its words."""
    words = _WORD.findall(text.lower())
    grams = [" ".join(words[i:i + k]) for i in range(max(1, len(words) - k + 1))]
    return frozenset(zlib.crc32(g.encode("utf-8")) for g in grams if g)


class DuplicateIndex:
    """Texts seen so far, to answer "is this a near-duplicate of one of them?" quickly: an
    inverted index from trigram to text, so a query compares only texts that share one."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self._sets: list[frozenset[int]] = []
        self._by_gram: dict[int, list[int]] = defaultdict(list)

    def add(self, text: str) -> None:
        grams = shingles(text)
        for g in grams:
            self._by_gram[g].append(len(self._sets))
        self._sets.append(grams)

    def near(self, text: str) -> bool:
        grams = shingles(text)
        if not grams:
            return False
        shared: Counter[int] = Counter()
        for g in grams:
            shared.update(self._by_gram.get(g, ()))
        for j, inter in shared.items():
            union = len(grams) + len(self._sets[j]) - inter
            if inter / union >= self.threshold:
                return True
        return False


def check_options(n: int, *, strategy: str, measure: str, random_share: float, spread: float,
                  max_per_doc: int | None, duplicate_threshold: float) -> None:
    """The one check of `select`'s options (library call and command line alike)."""
    problems = []
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        problems.append(f"n: expected a positive integer, found {n!r}")
    if strategy not in STRATEGIES:
        problems.append(f"strategy: expected one of {list(STRATEGIES)}, found {strategy!r}")
    if measure not in MEASURES:
        problems.append(f"measure: expected one of {list(MEASURES)}, found {measure!r}")
    if not 0.0 <= random_share <= 1.0:
        problems.append(f"random_share: expected a share in [0, 1], found {random_share!r}")
    if not 0.0 <= spread <= 1.0:
        problems.append(f"spread: expected a factor in [0, 1], found {spread!r}")
    if max_per_doc is not None and max_per_doc < 1:
        problems.append(f"max_per_doc: expected a positive integer or none, found {max_per_doc!r}")
    if not 0.0 < duplicate_threshold <= 1.0:
        problems.append(f"duplicate_threshold: expected a share in (0, 1], found "
                        f"{duplicate_threshold!r}")
    if problems:
        raise ConfigError("; ".join(problems))


def select(pairs: Sequence[StancePair], probs: np.ndarray, n: int, *,
           strategy: str = "uncertainty", measure: str = "margin", random_share: float = 0.0,
           seed: int = 0, spread: float = 0.5, max_per_doc: int | None = 2,
           duplicate_threshold: float = 0.7, labelled: Iterable[StancePair] = (),
           embeddings: np.ndarray | None = None, prefilter: int = 10) -> list[Pick]:
    """Choose up to ``n`` pairs of ``pairs`` to annotate (see the module docstring).

    Args:
        probs: Calibrated probabilities, one row per pair (`StanceClassifier.predict_proba`).
        strategy: ``uncertainty`` (with the diversity rules) or ``random`` (a uniform sample:
            the baseline).
        measure: ``margin`` or ``entropy`` (`uncertainty`).
        random_share: Share of the batch drawn uniformly at random before the uncertainty picks.
        seed: Seed of the random draws.
        spread: Factor per pick by which an over-represented actor or target is discounted
            (1: no spreading).
        max_per_doc: Most pairs from one ``doc_id`` (None: no limit).
        duplicate_threshold: Trigram Jaccard similarity from which two texts are near-duplicates
            (1: only identical texts).
        labelled: Pairs already annotated: they count as picked for the near-duplicate rule
            (pass the pool without them).
        embeddings: The model's vectors of the pairs (`stancekit.adapt.features`); with them,
            the ``prefilter`` x ``n`` most uncertain pairs are clustered (k-means, one cluster
            per pick left, weighted by uncertainty) and each cluster gives a pick before any
            gives a second.

    Returns:
        The picks in batch order: the random share first, then by decreasing adjusted
        uncertainty. Fewer than ``n`` when the rules leave fewer candidates.
    """
    check_options(n, strategy=strategy, measure=measure, random_share=random_share,
                  spread=spread, max_per_doc=max_per_doc, duplicate_threshold=duplicate_threshold)
    probs = np.asarray(probs, dtype=np.float64)
    if len(probs) != len(pairs):
        raise ConfigError(f"probabilities: expected one row per pair ({len(pairs)}), found "
                          f"{len(probs)}")
    if not len(pairs):
        return []
    rng = np.random.default_rng(seed)
    scores = uncertainty(probs, measure)
    n = min(n, len(pairs))
    if strategy == "random":
        order = rng.permutation(len(pairs))[:n]
        return [Pick(int(i), r, "random", float(scores[i])) for r, i in enumerate(order)]

    picks: list[Pick] = []
    n_random = int(round(random_share * n))
    if n_random:
        for i in rng.permutation(len(pairs))[:n_random]:
            picks.append(Pick(int(i), len(picks), "random", float(scores[i])))
    seen: dict[tuple[str, str], DuplicateIndex] = defaultdict(
        lambda: DuplicateIndex(duplicate_threshold))
    for pair in labelled:
        seen[_question(pair)].add(pair.text)

    available = np.ones(len(pairs), dtype=bool)
    actor_ids, actor_share = _groups([p.actor for p in pairs])
    target_ids, target_share = _groups([p.target for p in pairs])
    doc_ids, _ = _groups([p.doc_id or f"\x00{i}" for i, p in enumerate(pairs)])
    actor_count = np.zeros(len(actor_share))
    target_count = np.zeros(len(target_share))
    doc_count = np.zeros(int(doc_ids.max()) + 1, dtype=int)

    def take(i: int) -> None:
        available[i] = False
        seen[_question(pairs[i])].add(pairs[i].text)
        actor_count[actor_ids[i]] += 1
        target_count[target_ids[i]] += 1
        doc_count[doc_ids[i]] += 1
        if max_per_doc is not None and doc_count[doc_ids[i]] >= max_per_doc:
            available[doc_ids == doc_ids[i]] = False

    for pick in picks:
        take(pick.index)
    cluster = None
    if embeddings is not None and n - len(picks) > 1:
        cluster = _clusters(np.asarray(embeddings, dtype=np.float64), scores, available,
                            n - len(picks), prefilter, seed)
        cluster_count = np.zeros(int(cluster.max()) + 1)
    while len(picks) < n and available.any():
        k = len(picks)
        excess = (np.maximum(0.0, actor_count - actor_share * k)[actor_ids]
                  + np.maximum(0.0, target_count - target_share * k)[target_ids])
        adjusted = np.where(available, scores * spread ** excess, -1.0)
        if cluster is not None:
            # pairs outside the clustered candidates wait until the candidates run out; within
            # them, the least-used clusters first
            used = np.where(cluster >= 0, cluster_count[np.maximum(cluster, 0)], np.inf)
            least = used[available].min()
            adjusted = np.where(available & (used == least), adjusted, -1.0)
        i = int(adjusted.argmax())
        if seen[_question(pairs[i])].near(pairs[i].text):
            available[i] = False
            continue
        picks.append(Pick(i, k, "uncertainty", float(scores[i])))
        take(i)
        if cluster is not None and cluster[i] >= 0:
            cluster_count[cluster[i]] += 1
    return picks


def _clusters(embeddings: np.ndarray, scores: np.ndarray, available: np.ndarray, k: int,
              prefilter: int, seed: int) -> np.ndarray:
    """Cluster numbers of the ``prefilter * k`` most uncertain available pairs (k-means on
    their length-normalised embeddings, weighted by uncertainty); -1 for every other pair."""
    from sklearn.cluster import KMeans

    if len(embeddings) != len(scores):
        raise ConfigError(f"embeddings: expected one row per pair ({len(scores)}), found "
                          f"{len(embeddings)}")
    candidates = np.flatnonzero(available)
    candidates = candidates[np.argsort(-scores[candidates], kind="stable")][:prefilter * k]
    out = np.full(len(scores), -1, dtype=int)
    if len(candidates) <= k:
        out[candidates] = np.arange(len(candidates))
        return out
    x = embeddings[candidates]
    x = x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-12, None)
    km = KMeans(n_clusters=k, n_init=1, random_state=seed)
    out[candidates] = km.fit_predict(x, sample_weight=scores[candidates] + 1e-6)
    return out


def _question(pair: StancePair) -> tuple[str, str]:
    return pair.actor.casefold(), pair.target.casefold()


def _groups(keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each key's group number, and each group's share of the keys."""
    numbers: dict[str, int] = {}
    ids = np.array([numbers.setdefault(k, len(numbers)) for k in keys], dtype=int)
    return ids, np.bincount(ids, minlength=len(numbers)) / max(1, len(keys))
