"""Adapters for public stance corpora, read in place from ``../shared/datasets`` (or a given path).

Nothing from these corpora is copied into the project: licenses forbid it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..errors import DataError
from ..labels import CONDEMN, NEUTRAL, SUPPORT
from .records import StancePair

_BRACKET = re.compile(r"\[([^\[\]]+)\]")


def shared_datasets_dir() -> Path:
    """``$STANCEKIT_DATASETS`` or ``../shared/datasets`` beside the project (or the cwd)."""
    env = os.environ.get("STANCEKIT_DATASETS")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parents[3] / "shared" / "datasets"
    return here if here.is_dir() else Path.cwd().parent / "shared" / "datasets"


def corpus_dir(name: str, path: str | None = None) -> Path:
    folder = Path(path) if path else shared_datasets_dir() / name
    if not folder.is_dir():
        raise DataError(f"corpus folder not found; set data.path or STANCEKIT_DATASETS "
                        f"(expected ../shared/datasets/{name})", path=str(folder))
    return folder


# dsa_news: label -> (stance of p toward q, stance of q toward p)
DSA_LABELS = {"0": (NEUTRAL, NEUTRAL), "1": (SUPPORT, NEUTRAL), "2": (NEUTRAL, SUPPORT),
              "3": (CONDEMN, NEUTRAL), "4": (NEUTRAL, CONDEMN)}


def read_dsa_news(path: str | Path, *, both_directions: bool = False) -> Iterator[StancePair]:
    """Pairs from a dsa_news file (``sentence<TAB>p<TAB>q<TAB>label``, no header).

    The square brackets around the two mentions are removed and kept as spans. Each row
    gives the p->q pair; with ``both_directions`` also the q->p pair.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", path=str(path))
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            cols = line.rstrip("\n").split("\t")
            if len(cols) != 4:
                raise DataError(f"expected 4 tab-separated columns, found {len(cols)}",
                                path=str(path), line=lineno)
            sentence, p, q, raw = cols
            if raw.strip() not in DSA_LABELS:
                raise DataError(f"unknown label {raw!r}; expected 0-4", path=str(path),
                                line=lineno, field="label")
            text, spans = _strip_brackets(sentence)
            p_span, q_span = (spans[0:1], spans[1:2]) if len(spans) == 2 else ((), ())
            p_name, q_name = p.strip().strip('"') or "p", q.strip().strip('"') or "q"
            p_to_q, q_to_p = DSA_LABELS[raw.strip()]
            doc = f"{path.stem}:{lineno}"
            yield StancePair(id=f"{doc}:pq", actor=p_name, target=q_name, text=text, label=p_to_q,
                             doc_id=doc, actor_spans=tuple(p_span), target_spans=tuple(q_span),
                             meta={"corpus": "dsa_news", "raw_label": raw.strip()})
            if both_directions:
                yield StancePair(id=f"{doc}:qp", actor=q_name, target=p_name, text=text,
                                 label=q_to_p, doc_id=doc, actor_spans=tuple(q_span),
                                 target_spans=tuple(p_span),
                                 meta={"corpus": "dsa_news", "raw_label": raw.strip()})


def _strip_brackets(sentence: str) -> tuple[str, list[tuple[int, int]]]:
    out, spans, last = [], [], 0
    length = 0
    for m in _BRACKET.finditer(sentence):
        before = sentence[last:m.start()]
        out.append(before)
        length += len(before)
        inner = m.group(1)
        spans.append((length, length + len(inner)))
        out.append(inner)
        length += len(inner)
        last = m.end()
    out.append(sentence[last:])
    return "".join(out), spans


def load_public(cfg) -> dict[str, list[StancePair]]:
    """Splits of a public corpus named by ``cfg.corpus``; see each adapter.

    Every adapter returns ``train``, the evaluation splits under their official names, and
    ``dev`` when the corpus ships one (otherwise `load_splits` carves it from train).
    """
    loaders = {"dsa_news": _dsa_news_splits, "semeval": _semeval_splits,
               "pstance": _pstance_splits, "newsmtsc": _newsmtsc_splits, "gwsd": _gwsd_splits}
    if cfg.corpus not in loaders:
        raise DataError(f"no adapter for corpus {cfg.corpus!r}; available: {sorted(loaders)}")
    return loaders[cfg.corpus](cfg)


def mix_splits(name: str) -> dict[str, list[StancePair]]:
    """A corpus as ``data.mix`` uses it: ``train`` (both directions for dsa_news) and its
    evaluation splits."""
    return dsa_news_splits(None, both_directions=True)


def _dsa_news_splits(cfg) -> dict[str, list[StancePair]]:
    return dsa_news_splits(cfg.path, both_directions=cfg.both_directions)


def dsa_news_splits(path: str | None, *, both_directions: bool) -> dict[str, list[StancePair]]:
    """``train`` (p->q, and q->p with ``both_directions``), ``valid`` (p->q, the primary
    metric) and ``valid_both`` (both directions, for the paper's 5-class metric)."""
    folder = corpus_dir("dsa_news", path)
    return {"train": list(read_dsa_news(folder / "train.txt", both_directions=both_directions)),
            "valid": list(read_dsa_news(folder / "valid.txt")),
            "valid_both": list(read_dsa_news(folder / "valid.txt", both_directions=True))}


# --------------------------------------------------------------------------- SemEval-2016 (TweetEval)

SEMEVAL_TARGETS = {"abortion": "Legalization of Abortion", "atheism": "Atheism",
                   "climate": "Climate Change is a Real Concern",
                   "feminist": "Feminist Movement", "hillary": "Hillary Clinton"}
_SEMEVAL_LABELS = {"0": NEUTRAL, "1": CONDEMN, "2": SUPPORT}  # mapping.txt: none, against, favor
AUTHOR = "the author"


def read_tweeteval_stance(folder: str | Path, split: str, targets: Sequence[str] | None = None
                          ) -> list[StancePair]:
    """SemEval-2016 Task 6 in the TweetEval release: the tweet's author -> the folder's target."""
    folder = Path(folder)
    pairs = []
    for key in targets or SEMEVAL_TARGETS:
        if key not in SEMEVAL_TARGETS:
            raise DataError(f"unknown SemEval target {key!r}; expected one of "
                            f"{sorted(SEMEVAL_TARGETS)}", field="data.subset")
        text_path = folder / key / f"{split}_text.txt"
        label_path = folder / key / f"{split}_labels.txt"
        texts = _read_lines(text_path)
        labels = _read_lines(label_path)
        if len(texts) != len(labels):
            raise DataError(f"{len(texts)} tweets but {len(labels)} labels in {label_path.name}",
                            path=str(text_path))
        for i, (text, raw) in enumerate(zip(texts, labels), start=1):
            if raw.strip() not in _SEMEVAL_LABELS:
                raise DataError(f"unknown label {raw!r}; expected 0, 1 or 2", path=str(label_path),
                                line=i, field="label")
            pairs.append(StancePair(id=f"{key}:{split}:{i}", actor=AUTHOR,
                                    target=SEMEVAL_TARGETS[key], text=text,
                                    label=_SEMEVAL_LABELS[raw.strip()], doc_id=f"{key}:{split}:{i}",
                                    meta={"corpus": "semeval", "target_key": key}))
    return pairs


def _semeval_splits(cfg) -> dict[str, list[StancePair]]:
    """All five targets; ``data.subset`` = ``"cross:TARGET"`` trains on the other four and
    tests on TARGET (cross-target), or a single target key trains and tests in-target."""
    folder = corpus_dir("semeval2016_stance", cfg.path) / "tweeteval"
    subset = cfg.subset
    if subset and subset.startswith("cross:"):
        held = subset.split(":", 1)[1]
        rest = [k for k in SEMEVAL_TARGETS if k != held]
        return {"train": read_tweeteval_stance(folder, "train", rest),
                "dev": read_tweeteval_stance(folder, "val", rest),
                "test": read_tweeteval_stance(folder, "test", [held])}
    keys = [subset] if subset else None
    return {"train": read_tweeteval_stance(folder, "train", keys),
            "dev": read_tweeteval_stance(folder, "val", keys),
            "test": read_tweeteval_stance(folder, "test", keys)}


# --------------------------------------------------------------------------- P-Stance

_FAVOR_AGAINST = {"FAVOR": SUPPORT, "AGAINST": CONDEMN, "NONE": NEUTRAL}
TWO_WAY = (SUPPORT, CONDEMN)  # P-Stance: macro-F1 over favor/against; neutral counts as an error


def read_pstance(path: str | Path) -> list[StancePair]:
    """P-Stance CSV (Tweet, Target, Stance): the author -> the politician, two-way labels."""
    import csv

    path = Path(path)
    pairs = []
    with _open_text(path) as fh:
        reader = csv.DictReader(fh)
        missing = {"Tweet", "Target", "Stance"} - set(reader.fieldnames or ())
        if missing:
            raise DataError(f"expected the columns Tweet, Target, Stance; missing {sorted(missing)}",
                            path=str(path), line=1)
        for i, row in enumerate(reader, start=2):
            label = _FAVOR_AGAINST.get((row["Stance"] or "").strip().upper())
            if label is None:
                raise DataError(f"unknown label {row['Stance']!r}; expected FAVOR or AGAINST",
                                path=str(path), line=i, field="Stance")
            pairs.append(StancePair(id=f"{path.stem}:{i}", actor=AUTHOR, target=row["Target"],
                                    text=row["Tweet"], label=label, doc_id=f"{path.stem}:{i}",
                                    meta={"corpus": "pstance"}))
    return pairs


def _pstance_splits(cfg) -> dict[str, list[StancePair]]:
    folder = corpus_dir("pstance", cfg.path)
    which = cfg.subset or "all"
    return {"train": read_pstance(folder / f"raw_train_{which}.csv"),
            "dev": read_pstance(folder / f"raw_val_{which}.csv"),
            "test": read_pstance(folder / f"raw_test_{which}.csv")}


# --------------------------------------------------------------------------- NewsMTSC

_NEWSMTSC_LABELS = {2.0: CONDEMN, 4.0: NEUTRAL, 6.0: SUPPORT}
NEWS_AUTHOR = "the article"


def read_newsmtsc(path: str | Path) -> list[StancePair]:
    """NewsMTSC: sentiment of a news sentence toward a person, one pair per target mention.

    There is no explicit actor: the actor is the text itself (``"the article"``) and the
    target the mentioned person, whose mention offsets become ``target_spans``.
    """
    import json

    path = Path(path)
    pairs = []
    with _open_text(path) as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text = row["sentence_normalized"]
                for k, t in enumerate(row["targets"]):
                    label = _NEWSMTSC_LABELS.get(float(t["polarity"]))
                    if label is None:
                        raise DataError(f"unknown polarity {t['polarity']!r}; expected 2, 4 or 6",
                                        path=str(path), line=lineno, field="polarity")
                    span = (int(t["from"]), int(t["to"]))
                    pairs.append(StancePair(
                        id=f"{path.stem}:{lineno}:{k}", actor=NEWS_AUTHOR, target=t["mention"],
                        text=text, label=label, doc_id=f"{path.stem}:{lineno}",
                        target_spans=(span,) if 0 <= span[0] < span[1] <= len(text) else (),
                        meta={"corpus": "newsmtsc"}))
            except (KeyError, TypeError, ValueError) as exc:
                if isinstance(exc, DataError):
                    raise
                raise DataError(f"malformed NewsMTSC row ({exc!r})", path=str(path),
                                line=lineno) from None
    return pairs


def _newsmtsc_splits(cfg) -> dict[str, list[StancePair]]:
    folder = corpus_dir("newsmtsc", cfg.path)
    return {"train": read_newsmtsc(folder / "train.jsonl"),
            "test_rw": read_newsmtsc(folder / "devtest_rw.jsonl"),
            "test_mt": read_newsmtsc(folder / "devtest_mt.jsonl")}


# --------------------------------------------------------------------------- GWSD

GWSD_TARGET = "global warming is a serious concern"
_GWSD_LABELS = {"agree": SUPPORT, "neutral": NEUTRAL, "disagree": CONDEMN}


def read_gwsd(path: str | Path) -> dict[str, list[StancePair]]:
    """GWSD: ``{"pool": [...], "test": [...]}``; gold is the argmax of the authors' label-model
    probabilities; the 250 screening rows (no probabilities) are dropped."""
    import csv

    path = Path(path)
    out: dict[str, list[StancePair]] = {"pool": [], "test": []}
    with _open_text(path) as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        for i, row in enumerate(reader, start=2):
            probs = {k: row.get(k, "") for k in _GWSD_LABELS}
            if not all((v or "").strip() for v in probs.values()):
                continue  # a screening sentence: documented in SOURCE.md, not a data error
            try:
                best = max(probs, key=lambda k: float(probs[k]))
            except ValueError:
                raise DataError(f"expected numeric probabilities, found {probs}", path=str(path),
                                line=i) from None
            split = "test" if row.get("in_held_out_test", "").strip() == "True" else "pool"
            out[split].append(StancePair(
                id=row.get("guid") or f"gwsd:{i}", actor="the author or quoted source",
                target=GWSD_TARGET, text=row["sentence"], label=_GWSD_LABELS[best],
                doc_id=f"gwsd:{row.get('batch', '')}:{row.get('sent_id', i)}",
                meta={"corpus": "gwsd"}))
    return out


def _gwsd_splits(cfg) -> dict[str, list[StancePair]]:
    parts = read_gwsd(corpus_dir("gwsd", cfg.path) / "GWSD.tsv")
    return {"train": parts["pool"], "test": parts["test"]}


# --------------------------------------------------------------------------- helpers


def _open_text(path: Path):
    if not path.is_file():
        raise DataError("file not found", path=str(path))
    return open(path, encoding="utf-8-sig", newline="")


def _read_lines(path: Path) -> list[str]:
    with _open_text(path) as fh:
        return [line.rstrip("\r\n") for line in fh]
