"""Shared fixtures: offline mode, fixed seeds, a tiny randomly initialised BERT."""

from __future__ import annotations

import os
import random

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from stancekit.data.public import shared_datasets_dir  # noqa: E402
from stancekit.data.records import StancePair  # noqa: E402

WORDS = ["the", "a", "an", "of", "on", "to", "in", "and", "or", "but", "not", "no", "did", "was", "were", "is", "be", "has", "have", "had", "by", "for", "with", "against", "about", "over", "at", "from", "as", "that", "this", "it", "its", "their", "his", "her", "they", "he", "she", "we", "said", "says", "say", "government", "ministry", "spokesman", "spokeswoman", "president", "minister", "party", "group", "court", "union", "company", "backed", "backs", "supports", "support", "supported", "welcomed", "praised", "endorsed", "pledged", "defended", "condemned", "condemns", "denounced", "rejected", "blamed", "criticised", "opposed", "slammed", "noted", "urged", "restraint", "calm", "both", "sides", "called", "talks", "neutral", "reported", "took", "note", "statement", "offensive", "operation", "ruling", "deal", "strike", "policy", "election", "merger", "ceasefire", "sanctions", "saudi", "arabia", "riyadh", "iran", "turkey", "egypt", "france", "china", "russia", "ukraine", "india", "kenya", "brazil"]


def tiny_vocab() -> dict[str, int]:
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = [chr(c) for c in range(ord("a"), ord("z") + 1)] + list("0123456789.,;:'\"!?()-/[]{}")
    tokens = special + WORDS + chars + [f"##{c}" for c in chars]
    return {tok: i for i, tok in enumerate(dict.fromkeys(tokens))}


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 2-layer, hidden-32 BERT with random weights and a small WordPiece vocabulary, saved
    to a temp dir so that tests exercise the real `from_pretrained` path."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = BertTokenizerFast(vocab=tiny_vocab(), do_lower_case=True)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=256)
    BertForSequenceClassification(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    """Tiny models gain nothing from a second thread, and on a busy 2-core machine OpenMP's
    waiting threads make them 10-50x slower. Tests of the real encoder raise it again."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def all_threads():
    """Every core for a test that trains the real encoder."""
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    yield
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed() -> None:
    random.seed(0)
    np.random.seed(0)
    try:
        import torch

        torch.manual_seed(0)
    except ImportError:  # pragma: no cover
        pass


ACTORS = ["Saudi Arabia", "Iran", "Turkey", "Egypt", "France", "China", "Kenya", "Brazil"]
TARGETS = ["the offensive", "the ruling", "the deal", "the strike", "the sanctions"]
VERBS = {"support": ["backed", "welcomed", "praised", "endorsed"],
         "condemn": ["condemned", "denounced", "rejected", "slammed"],
         "neutral": ["noted", "took note of", "reported on", "urged calm over"]}


def synthetic_pairs(n: int, seed: int = 0) -> list[StancePair]:
    """Keyword-driven pairs: easy enough that a tiny model learns them in a few steps."""
    rng = random.Random(seed)
    labels = ["support", "neutral", "condemn"]
    pairs = []
    for i in range(n):
        label = labels[i % 3]
        actor, target = rng.choice(ACTORS), rng.choice(TARGETS)
        verb = rng.choice(VERBS[label])
        text = f"{actor} {verb} {target}, the ministry said in a statement."
        pairs.append(StancePair(id=f"s{i}", actor=actor, target=target, text=text, label=label,
                                doc_id=f"d{i // 2}"))
    return pairs


@pytest.fixture
def shared_datasets() -> Path:
    path = shared_datasets_dir()
    if not path.is_dir():
        pytest.skip(f"public corpora not available at {path} (set STANCEKIT_DATASETS)")
    return path
