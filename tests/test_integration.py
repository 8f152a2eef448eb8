"""Integration: the real packaged encoders learn, and the public corpus adapter reads dsa_news.

The fine-tuning tests are marked ``slow`` (a minute or two each on 2 CPU cores); skip them with
``-m "not slow"``.
"""

from __future__ import annotations

import collections
import os
from pathlib import Path

import pytest

from stancekit.config import load_config
from stancekit.corpus import load_embedded_splits
from stancekit.data.public import read_dsa_news
from stancekit.errors import ModelError
from stancekit.evaluation import StanceEvaluator
from stancekit.prediction import StanceClassifier
from stancekit.pretrained import resolve_encoder
from stancekit.training import train

ROOT = Path(__file__).resolve().parent.parent


def packaged_encoder_or_skip(name: str = "all-MiniLM-L6-v2") -> str:
    try:
        return resolve_encoder(f"packaged:{name}")
    except ModelError as err:
        if os.environ.get("CI"):  # scripts/setup_env.sh installs both encoders: missing is a bug
            raise
        pytest.skip(f"the packaged encoder {name} is not installed: {err}")


def balanced_slice(pairs, per_label: int) -> list:
    taken: dict[str, int] = collections.Counter()
    out = []
    for p in pairs:
        if taken[p.label] < per_label:
            taken[p.label] += 1
            out.append(p)
    return out


def learns_a_slice(config_name: str, tmp_path: Path, per_label: int, epochs: int,
                   overrides: tuple[str, ...] = ()) -> dict:
    splits = load_embedded_splits()
    config = load_config(ROOT / "configs" / config_name, [
        f"train.output_dir={tmp_path / 'model'}", f"train.epochs={epochs}",
        "encoding.max_length=128", "train.early_stopping_patience=0", "train.collapse_retries=0",
        *overrides])
    out = train(config, {"train": balanced_slice(splits["train"], per_label),
                         "dev": balanced_slice(splits["dev"], 40)})
    clf = StanceClassifier.from_pretrained(out)
    return StanceEvaluator(balanced_slice(splits["test"], 40), name="test")(clf)


@pytest.mark.slow
def test_minilm_learns_a_slice_of_the_embedded_corpus(tmp_path: Path, all_threads) -> None:
    packaged_encoder_or_skip("all-MiniLM-L6-v2")
    metrics = learns_a_slice("minilm.yaml", tmp_path, per_label=150, epochs=3)
    # majority class on a balanced slice scores 1/6 macro-F1; chance about 1/3
    assert metrics["test_f1_macro"] >= 0.5, metrics


@pytest.mark.slow
def test_default_mpnet_learns_a_slice_of_the_embedded_corpus(tmp_path: Path, all_threads) -> None:
    packaged_encoder_or_skip("all-mpnet-base-v2")
    # 60 steps are too few for the default schedule (5e-5 after warmup; 0.50 here): smaller
    # batches and a higher flat rate make the slice learn within 2.5 minutes (0.58 here)
    metrics = learns_a_slice("default.yaml", tmp_path, per_label=80, epochs=2, overrides=(
        "train.batch_size=8", "train.learning_rate=1e-4", "train.warmup=0"))
    assert metrics["test_f1_macro"] >= 0.5, metrics


def test_dsa_news_adapter_maps_labels_and_directions(shared_datasets: Path) -> None:
    folder = shared_datasets / "dsa_news"
    if not (folder / "valid.txt").is_file():
        pytest.skip(f"dsa_news is not available at {folder}")
    pq = list(read_dsa_news(folder / "valid.txt"))
    both = list(read_dsa_news(folder / "valid.txt", both_directions=True))
    assert len(both) == 2 * len(pq) == 2 * 1461
    # SOURCE.md's valid counts: 955 neutral, 149 p endorses q, 29 q endorses p, 285 p blames q,
    # 43 q blames p -> p->q pairs: 149 support, 285 condemn, the rest neutral
    assert collections.Counter(p.label for p in pq) == {"support": 149, "condemn": 285,
                                                        "neutral": 1461 - 149 - 285}
    assert collections.Counter(p.label for p in both if p.id.endswith(":qp")) == {
        "support": 29, "condemn": 43, "neutral": 1461 - 29 - 43}
    for pair in pq[:50]:
        assert pair.actor_spans and pair.target_spans
        assert "[" not in pair.text[slice(*pair.actor_spans[0])]
