"""Shared fixtures: offline mode, fixed seeds, a tiny randomly initialised BERT, synthetic
pairs, model directories (untrained, random, trained) and the CLI error check."""

from __future__ import annotations

import dataclasses
import json
import os
import random
from collections.abc import Callable, Iterable

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from stancekit.data.public import shared_datasets_dir  # noqa: E402
from stancekit.data.records import StancePair  # noqa: E402
from stancekit.errors import StanceKitError  # noqa: E402
from stancekit.labels import ID2LABEL, LABEL2ID, LABELS  # noqa: E402

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

# A pair row that every reader accepts.
GOOD = {"id": "1", "actor": "Iran", "target": "the deal", "text": "Iran backed the deal.",
        "label": "support"}


def _synthetic_pairs(n: int, seed: int = 0) -> list[StancePair]:
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


@pytest.fixture(scope="session")
def synthetic_pairs() -> Callable[..., list[StancePair]]:
    """``synthetic_pairs(n, seed=0)``: keyword-driven pairs, easy enough that a tiny model learns
    them in a few steps; labels cycle support, neutral, condemn; two pairs per ``doc_id``."""
    return _synthetic_pairs


@pytest.fixture(scope="session")
def noisy() -> Callable[..., list[str]]:
    """``noisy(labels, rate, seed=0)``: the labels with a share ``rate`` replaced at random."""

    def make(y: list[str], rate: float, seed: int = 0) -> list[str]:
        rng = np.random.default_rng(seed)
        return [LABELS[rng.integers(3)] if rng.random() < rate else lab for lab in y]

    return make


@pytest.fixture(scope="session")
def corpus_pairs() -> Callable[..., list[StancePair]]:
    """``corpus_pairs(n, seed=0, padded=True)``: synthetic pairs from two source corpora, a
    third of them padded to each length bucket (``padded=False`` for training data: short
    inputs train faster)."""

    def make(n: int, seed: int = 0, *, padded: bool = True) -> list[StancePair]:
        pad = " More words follow here."
        return [dataclasses.replace(p, meta={"domain": "courts" if i % 4 else "trade"},
                                    text=p.text + pad * (i % 3) * 15 * padded)
                for i, p in enumerate(_synthetic_pairs(n, seed=seed))]

    return make


@pytest.fixture(scope="session")
def build_pairs() -> Callable[..., list[StancePair]]:
    """``build_pairs(text, actors, targets=("the offensive",), **builder_options)``: the pairs
    `PairBuilder` makes of one article."""
    from stancekit.data.articles import Article
    from stancekit.data.pair_builder import PairBuilder

    def build(text: str, actors: list, targets=("the offensive",), **kw) -> list[StancePair]:
        return PairBuilder(**kw).build(Article(id="a1", text=text, actors=tuple(actors),
                                               targets=tuple(targets)))

    return build


# Project-written, fictional news paragraphs: several actors, aliases, abbreviations, quotes
# and referring-back phrases, as a long article has them.
NEWS_PARAGRAPHS = (
    "Fighting spread along the northern frontier on Saturday after Vostrian units crossed into "
    "the Lenmar valley. Ankara said it backed the operation and pledged support. Riyadh urged "
    "both sides to exercise restraint and to return to talks brokered by the U.N. envoy, Dr. "
    "Helena Marsh.",
    "The European Union condemned the incursion as a breach of international law. The bloc "
    "said it would review its trade preferences. Its spokesman added that \"nothing is off the "
    "table.\" Cairo stopped short of endorsing the offensive, saying only that it was "
    "following events closely.",
    "The Lenmar Liberation Front vowed to resist. Its leader said the operation was an "
    "invasion. Separately, Kessler Maritime said it had suspended sailings to the region "
    "until further notice. The company declined to comment on Jan. 14 at 3 p.m. local time.",
)
NEWS_ACTORS = (("Turkey", ("Ankara",), "state"), ("Saudi Arabia", ("Riyadh",), "state"),
               ("Egypt", ("Cairo",), "state"), ("European Union", ("EU",), "international_org"),
               ("Lenmar Liberation Front", (), "armed_group"), ("Kessler Maritime", (), "company"))


@pytest.fixture(scope="session")
def long_article() -> Callable[..., str]:
    """``long_article(n, sep)``: ``n`` characters of the news paragraphs repeated, joined by
    ``sep`` (default a blank line; ``" "``: one endless paragraph)."""

    def make(n: int, sep: str = "\n\n") -> str:
        block = sep.join(NEWS_PARAGRAPHS)
        return sep.join([block] * (n // len(block) + 1))[:n]

    return make


@pytest.fixture(scope="session")
def news_actors() -> tuple:
    """The actors of the news paragraphs (`Actor` objects)."""
    from stancekit.data.articles import Actor

    return tuple(Actor(name, aliases, kind) for name, aliases, kind in NEWS_ACTORS)


def _lines_run(work: Callable[[], object]) -> int:
    import sys

    import stancekit

    root = str(Path(stancekit.__file__).parent)
    count = 0

    def local(frame, event, arg):
        nonlocal count
        count += event == "line"
        return local

    previous = sys.gettrace()
    sys.settrace(lambda frame, event, arg: local if frame.f_code.co_filename.startswith(root)
                 else None)
    try:
        work()
    finally:
        sys.settrace(previous)
    return count


@pytest.fixture(scope="session")
def lines_run() -> Callable[[Callable[[], object]], int]:
    """``lines_run(work)``: how many lines of stancekit's own code ``work()`` runs — a count of
    operations that, unlike a timing, does not depend on the machine or its load (tests of
    linear time compare it at two input sizes)."""
    return _lines_run


def _jsonl(*rows: dict | str) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows).encode()


@pytest.fixture(scope="session")
def jsonl() -> Callable[..., bytes]:
    """``jsonl(*rows)``: the bytes of a JSONL file; a row is a dict or a raw line."""
    return _jsonl


@pytest.fixture(scope="session")
def write_pairs() -> Callable[[Path, Iterable[StancePair]], Path]:
    """``write_pairs(path, pairs)``: the pairs as a JSONL file at ``path``."""

    def write(path: Path, pairs: Iterable[StancePair]) -> Path:
        path.write_text("".join(json.dumps(p.to_dict()) + "\n" for p in pairs), encoding="utf-8")
        return path

    return write


@pytest.fixture
def good_row() -> dict:
    """A pair row that every reader accepts (a fresh copy per test)."""
    return dict(GOOD)


@pytest.fixture(scope="session")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Train (30) and dev (12) files of synthetic pairs."""
    d = tmp_path_factory.mktemp("small")
    train, dev = d / "train.jsonl", d / "dev.jsonl"
    train.write_bytes(_jsonl(*[p.to_dict() for p in _synthetic_pairs(30)]))
    dev.write_bytes(_jsonl(*[p.to_dict() for p in _synthetic_pairs(12, seed=1)]))
    return train, dev


@pytest.fixture(scope="session")
def untrained_model(tiny_encoder: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete, untrained model directory (the tiny BERT with a random 3-label head and the
    mention markers) written without training: fast, and loaded through the real
    `StanceClassifier.from_pretrained` path."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from stancekit.config import Config
    from stancekit.encoding import PairFormatter

    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("untrained") / "model"
    config = Config()
    encoding = PairFormatter(config.encoding)
    tokenizer = AutoTokenizer.from_pretrained(tiny_encoder)
    model = AutoModelForSequenceClassification.from_pretrained(
        tiny_encoder, num_labels=3, id2label=ID2LABEL, label2id=LABEL2ID,
        ignore_mismatched_sizes=True)
    tokenizer.add_tokens(encoding.marker_tokens, special_tokens=True)
    model.resize_token_embeddings(len(tokenizer))
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    meta = {"labels": list(LABELS), "encoding": encoding.to_dict(), "config": config.to_dict(),
            "encoder": tiny_encoder, "temperature": 1.0, "stacker": None}
    (out / "stancekit.json").write_text(json.dumps(meta), encoding="utf-8")
    return out


@pytest.fixture(scope="session")
def random_model(tiny_encoder: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete model directory without training: a randomly initialised BERT of the tiny
    encoder's shape with a 3-label head, no mention markers, ``max_length`` 48."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from stancekit.config import Config, EncodingConfig
    from stancekit.encoding import PairFormatter

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "model"
    config = BertConfig.from_pretrained(tiny_encoder, num_labels=3, id2label=ID2LABEL,
                                        label2id=LABEL2ID)
    BertForSequenceClassification(config).save_pretrained(path)
    AutoTokenizer.from_pretrained(tiny_encoder).save_pretrained(path)
    meta = {"labels": list(LABELS), "config": Config().to_dict(),
            "encoding": PairFormatter(EncodingConfig(max_length=48)).to_dict()}
    (path / "stancekit.json").write_text(json.dumps(meta), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def trained_model(tiny_encoder: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny BERT trained on 120 synthetic pairs (dev 30): it has learnt the keywords."""
    from stancekit.config import load_config
    from stancekit.training import train

    out = tmp_path_factory.mktemp("inference") / "model"
    config = load_config(None, ["data.corpus=files", f"model.name_or_path={tiny_encoder}",
                                f"train.output_dir={out}", "train.epochs=15",
                                "train.learning_rate=3e-3", "train.batch_size=8",
                                "train.early_stopping_patience=0", "encoding.max_length=48"])
    train(config, {"train": _synthetic_pairs(120), "dev": _synthetic_pairs(30, seed=1)})
    return out


@pytest.fixture
def cli_error(capsys: pytest.CaptureFixture[str]) -> Callable[[list[str]], str]:
    """``cli_error(args)``: run ``stancekit ARGS``; it must exit 2 with one ``error:`` line and
    no traceback, and ``--debug`` must raise the error instead. Returns the ``error:`` line
    and what follows."""
    from stancekit.cli import main

    def run(args: list[str]) -> str:
        rc = main(args)
        err = capsys.readouterr().err
        assert rc == 2, err
        assert "Traceback" not in err
        starts = [i for i, line in enumerate(err.splitlines()) if line.startswith("error: ")]
        assert len(starts) == 1, err
        with pytest.raises(StanceKitError):
            main(["--debug", *args])
        capsys.readouterr()
        return "\n".join(err.splitlines()[starts[0]:])

    return run


@pytest.fixture
def shared_datasets() -> Path:
    path = shared_datasets_dir()
    if not path.is_dir():
        pytest.skip(f"public corpora not available at {path} (set STANCEKIT_DATASETS)")
    return path


class _FailingFile:
    """A file whose writes fail once its budget of successful writes is spent: half the data
    lands first, as when a disk fills up in the middle of a write."""

    def __init__(self, fh, fail) -> None:
        self._fh, self._fail = fh, fail

    def write(self, data):
        error = self._fail()
        if error is not None:
            self._fh.write(data[: len(data) // 2])
            raise error
        return self._fh.write(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._fh.close()

    def __iter__(self):
        return iter(self._fh)

    def __getattr__(self, name):
        return getattr(self._fh, name)


@pytest.fixture
def failing_writes(monkeypatch: pytest.MonkeyPatch):
    """``failing_writes(path, errno, after=0)``: writing ``path`` (a file, or any file under a
    folder) fails with ``OSError(errno)`` — when it is opened, created, renamed onto or made
    (``after=0``: a read-only place), or at the write after ``after`` successful writes (a
    disk filling up). Reads and other places are untouched; it works as root, whom ``chmod``
    does not stop. Returns ``stop()``, which makes writes succeed again."""
    import builtins
    import errno as errnos
    import io

    real_open, real_replace, real_rename, real_mkdir = open, os.replace, os.rename, os.mkdir
    rules: list[dict] = []

    def hit(path) -> dict | None:
        if not isinstance(path, (str, os.PathLike)):
            return None
        p = Path(path).resolve()
        for rule in rules:
            if p == rule["path"] or p.is_relative_to(rule["path"]) and rule["path"].is_dir():
                return rule
        return None

    def error(rule: dict, path) -> OSError:
        return OSError(rule["errno"], os.strerror(rule["errno"]), str(path))

    def fake_open(file, mode="r", *args, **kwargs):
        rule = hit(file) if any(c in mode for c in "wax+") else None
        if rule is not None and rule["after"] == 0:
            raise error(rule, file)
        fh = real_open(file, mode, *args, **kwargs)
        if rule is None:
            return fh

        def fail() -> OSError | None:
            if not rules:
                return None
            rule["after"] -= 1
            return error(rule, file) if rule["after"] < 0 else None

        return _FailingFile(fh, fail)

    def guarded(real, *names):
        def call(*args, **kwargs):
            for a in args[:2]:
                rule = hit(a)
                if rule is not None and rule["after"] == 0:
                    raise error(rule, a)
            return real(*args, **kwargs)
        return call

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(io, "open", fake_open)
    monkeypatch.setattr(os, "replace", guarded(real_replace))
    monkeypatch.setattr(os, "rename", guarded(real_rename))
    monkeypatch.setattr(os, "mkdir", guarded(real_mkdir))

    def start(path, errno: int = errnos.EACCES, after: int = 0):
        rules.append({"path": Path(path).resolve(), "errno": errno, "after": after})
        return rules.clear

    return start
