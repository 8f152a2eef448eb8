"""Adapters for public stance corpora, read in place from ``../shared/datasets`` (or a given path).

Nothing from these corpora is copied into the project: licenses forbid it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
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
    """Splits of a public corpus named by ``cfg.corpus``; see each adapter."""
    loaders = {"dsa_news": _dsa_news_splits}
    if cfg.corpus not in loaders:
        raise DataError(f"no adapter for corpus {cfg.corpus!r} yet; available: {sorted(loaders)}")
    return loaders[cfg.corpus](cfg)


def _dsa_news_splits(cfg) -> dict[str, list[StancePair]]:
    folder = corpus_dir("dsa_news", cfg.path)
    return {"train": list(read_dsa_news(folder / "train.txt", both_directions=cfg.both_directions)),
            "valid": list(read_dsa_news(folder / "valid.txt")),
            "valid_both": list(read_dsa_news(folder / "valid.txt", both_directions=True))}
