"""The model card: a YAML header the hub reads (library, licence, data, metrics with values,
task, tags, base model) and the warning that a plain transformers pipeline answers otherwise."""

from __future__ import annotations

import yaml

from stancekit.model_card import model_card

META = {
    "labels": ["support", "neutral", "condemn"], "encoder": "packaged:all-mpnet-base-v2",
    "encoding": {"template": "{actor} on {target}"},
    "sources": {"embedded": 7131, "dsa_news": 7096},
    "data": {"train": {"n": 10, "fingerprint": "ab", "labels": {"support": 10}}},
    "dev_metrics": {"dev_f1_macro": 0.8091, "dev_f_avg": 0.79, "dev_accuracy": 0.81,
                    "dev_f1_support": 0.8, "dev_f1_neutral": 0.82, "dev_f1_condemn": 0.8},
    "dev_majority_f1_macro": 0.2, "stacker": {"coef": []}, "learning_rate": 5e-5, "seed": 42,
    "steps": 100, "train_seconds": 60.0, "temperature": 1.31,
}
EVALUATION = {"test": {"stancekit": {"test_f1_macro": 0.871, "test_f_avg": 0.86,
                                     "test_accuracy": 0.88},
                       "tfidf_lr": {"test_f1_macro": 0.639, "test_f_avg": 0.6,
                                    "test_accuracy": 0.65}}}


def header(card: str) -> dict:
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n")[1])


def test_card_header_has_the_hub_metadata() -> None:
    card = model_card(META, EVALUATION, name="someone/stance-model")
    meta = header(card)
    assert meta["library_name"] == "stancekit"
    assert meta["pipeline_tag"] == "text-classification"
    assert meta["base_model"] == "sentence-transformers/all-mpnet-base-v2"
    assert meta["datasets"] == ["embedded", "dsa_news"]
    assert meta["license"] == "other"  # dsa_news is research use only
    assert {"stancekit", "stance-detection"} <= set(meta["tags"])
    assert meta["metrics"] == ["f1", "accuracy"]
    results = meta["model-index"][0]["results"]
    assert [r["dataset"]["split"] for r in results] == ["dev", "test"]
    assert results[0]["metrics"][0] == {"type": "f1", "name": "macro-F1", "value": 0.8091}
    assert results[1]["metrics"][0]["value"] == 0.871
    assert "| test | tfidf_lr | 0.6390 |" in card


def test_card_is_read_by_huggingface_hub() -> None:
    from huggingface_hub import ModelCard

    data = ModelCard(model_card(META, EVALUATION, name="someone/stance-model")).data
    assert data.library_name == "stancekit" and data.license == "other"
    assert [(r.dataset_split, r.metric_name, r.metric_value) for r in data.eval_results][:2] == \
        [("dev", "macro-F1", 0.8091), ("dev", "F_avg (support, condemn)", 0.79)]


def test_card_warns_that_a_plain_pipeline_answers_otherwise() -> None:
    card = model_card(META)
    assert 'pipeline("text-classification")` on these weights gives other answers' in card
    for reason in ("marker tokens", "no temperature (stancekit divides the logits by T = 1.310)",
                   "stacked TF-IDF model",
                   "`{actor} on {target}`"):
        assert reason in card, reason


def test_card_of_a_model_from_the_embedded_corpus_and_a_local_encoder() -> None:
    meta = header(model_card({**META, "sources": {"embedded": 10}, "encoder": "/models/enc",
                               "stacker": None}))
    assert meta["license"] == "apache-2.0" and "base_model" not in meta
    assert model_card({"labels": ["support", "neutral", "condemn"]}).startswith("---\n")
