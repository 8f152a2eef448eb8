"""The model directory as `modeldir.load` reads it: every way a directory can be incomplete,
damaged or unsafe is refused with the file and the reason, by the API and by the command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from stancekit.errors import ModelError
from stancekit.prediction import StanceClassifier


def test_missing_model_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="model directory not found"):
        StanceClassifier.from_pretrained(tmp_path / "nope")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "config.json").write_text("{}")
    with pytest.raises(ModelError, match=r"missing \['stancekit.json', 'model.safetensors'\]"):
        StanceClassifier.from_pretrained(tmp_path / "half")


def _mutate_model(model_dir: Path, tmp_path: Path, how: str) -> Path:
    path = tmp_path / f"model-{how}"
    shutil.copytree(model_dir, path)
    meta = json.loads((path / "stancekit.json").read_text())
    config = json.loads((path / "config.json").read_text())
    if how == "meta-not-json":
        (path / "stancekit.json").write_text("{labels: oops")
    elif how == "meta-not-an-object":
        (path / "stancekit.json").write_text("[]")
    elif how == "meta-without-encoding":
        del meta["encoding"]
    elif how == "meta-template-attribute":
        meta["encoding"]["template"] = "{actor.__init__.__globals__}"
    elif how == "meta-temperature":
        meta["temperature"] = "hot"
    elif how == "meta-temperature-denormal":
        meta["temperature"] = 1e-320
    elif how == "meta-nan-metric":
        meta["dev_metrics"] = {"dev_f1_macro": float("nan")}
    elif how == "meta-stacker-shape":
        meta["stacker"] = {"coef": [[0.0] * 5] * 3, "intercept": [0.0] * 3}
    elif how == "meta-stacker-temperature":
        meta["stacker"] = {"coef": [[0.0] * 6] * 3, "intercept": [0.0] * 3, "temperature": 0}
    elif how == "meta-template-format-spec":
        meta["encoding"]["template"] = "{actor:>20000000} on {target}"
    elif how == "lexical-nan":
        from stancekit.baselines import TfidfBaseline

        meta["stacker"] = {"coef": [[0.0] * 6] * 3, "intercept": [0.0] * 3}
        TfidfBaseline(min_df=1).fit(["iran backed it", "egypt noted it", "china slammed it"],
                                    ["support", "neutral", "condemn"]).save(path / "lexical.json")
        lexical = json.loads((path / "lexical.json").read_text())
        lexical["idf"][1][3] = float("nan")
        (path / "lexical.json").write_text(json.dumps(lexical))
    elif how == "stacker-without-lexical":
        meta["stacker"] = {"coef": [[0.0] * 6] * 3, "intercept": [0.0] * 3}
    elif how == "id2label-reordered":
        config["id2label"] = {"0": "condemn", "1": "neutral", "2": "support"}
    elif how == "two-labels":
        config["id2label"] = {"0": "pos", "1": "neg"}
        config["label2id"] = {"pos": 0, "neg": 1}
    elif how == "weights-garbage":
        (path / "model.safetensors").write_bytes(b"\x00" * 64)
    elif how == "weights-truncated":
        data = (path / "model.safetensors").read_bytes()
        (path / "model.safetensors").write_bytes(data[: len(data) // 2])
    elif how == "weights-missing-tensor":  # transformers would fill it at random, and only say so
        from safetensors.torch import load_file, save_file

        tensors = load_file(path / "model.safetensors")
        del tensors["classifier.weight"]
        save_file(tensors, path / "model.safetensors", metadata={"format": "pt"})
    elif how == "pickle-weights":
        (path / "model.safetensors").rename(path / "pytorch_model.bin")
    elif how == "remote-code":
        config["auto_map"] = {"AutoModelForSequenceClassification": "evil.Model"}
        (path / "evil.py").write_text("open('PWNED', 'w').close()\n")
    elif how == "no-tokenizer":
        for f in ("tokenizer.json", "tokenizer_config.json"):
            (path / f).unlink()
    if how == "meta-repeated-key":  # a second "labels" on line 2, which a reader would keep
        (path / "stancekit.json").write_text('{"labels": ["support", "neutral", "condemn"],'
                                             + json.dumps(meta, indent=1)[1:])
    elif how not in ("meta-not-json", "meta-not-an-object"):
        (path / "stancekit.json").write_text(json.dumps(meta))
    (path / "config.json").write_text(json.dumps(config))
    return path


MODEL_DIRS = [
    pytest.param("meta-not-json", "stancekit.json: not valid JSON (Expecting property name "
                 "enclosed in double quotes", id="metadata-not-json"),
    pytest.param("meta-not-an-object", "stancekit.json: expected a JSON object, found list",
                 id="metadata-not-an-object"),
    pytest.param("meta-without-encoding", "stancekit.json: field 'encoding': expected the "
                 "encoding the model was trained with", id="metadata-without-encoding"),
    pytest.param("meta-template-attribute", "stancekit.json (encoding): 1 problem(s) in the "
                 "configuration:\n  - encoding.template: unknown template fields "
                 "['{actor.__init__.__globals__}']", id="metadata-template-attribute-access"),
    pytest.param("meta-temperature", "stancekit.json: field 'temperature': expected a number in "
                 "[0.01, 100], found 'hot'", id="metadata-temperature-not-a-number"),
    pytest.param("meta-temperature-denormal", "stancekit.json: field 'temperature': expected a "
                 "number in [0.01, 100], found 1e-320", id="metadata-temperature-denormal"),
    pytest.param("meta-nan-metric", "stancekit.json: field 'dev_metrics.dev_f1_macro': expected "
                 "a finite number, found nan", id="metadata-NaN-anywhere"),
    pytest.param("meta-stacker-shape", "stancekit.json: field 'stacker.coef': expected numbers "
                 "in the shape [3, 6], found [[0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, "
                 "0.0], [0.0, 0.0, 0.0, 0.0, 0.0]]", id="metadata-stacker-wrong-shape"),
    pytest.param("meta-stacker-temperature", "stancekit.json: field 'stacker.temperature': "
                 "expected a number in [0.01, 100], found 0", id="metadata-stacker-temperature"),
    pytest.param("meta-template-format-spec", "stancekit.json (encoding): 1 problem(s) in the "
                 "configuration:\n  - encoding.template: template fields with a format spec or "
                 "conversion ['{actor:>20000000}']", id="metadata-template-format-spec"),
    pytest.param("meta-repeated-key", "stancekit.json:2 field 'labels': the key 'labels' appears "
                 "twice in one object; a JSON reader would keep only the last value",
                 id="metadata-repeated-key"),
    pytest.param("lexical-nan", "lexical.json: field 'idf[1]': expected finite numbers, found [",
                 id="lexical-NaN"),
    pytest.param("stacker-without-lexical", "lexical.json: the stacked model's lexical half "
                 "cannot be loaded (FileNotFoundError", id="stacker-without-lexical-file"),
    pytest.param("id2label-reordered", "config.json: id2label is {0: 'condemn', 1: 'neutral', "
                 "2: 'support'}, expected {0: 'support', 1: 'neutral', 2: 'condemn'}",
                 id="id2label-reordered"),
    pytest.param("two-labels", "config.json: id2label is {0: 'pos', 1: 'neg'}, expected",
                 id="head-for-another-label-count"),
    pytest.param("weights-garbage", ": cannot load the model (Error while deserializing header",
                 id="weights-garbage"),
    pytest.param("weights-truncated", ": cannot load the model (", id="weights-truncated"),
    pytest.param("weights-missing-tensor", "model.safetensors: weights missing or of the wrong "
                 "shape for ['classifier.weight']", id="weights-missing-a-tensor"),
    pytest.param("pickle-weights", ": not a complete stancekit model directory; missing "
                 "['model.safetensors']", id="weights-pickle-only"),
    pytest.param("remote-code", "config.json: the model asks to run its own Python code",
                 id="remote-code-in-model-dir"),
    pytest.param("no-tokenizer", ": not a complete stancekit model directory; missing the "
                 "tokenizer", id="tokenizer-missing"),
]


@pytest.mark.parametrize("how, reason", MODEL_DIRS)
def test_bad_model_directory(random_model: Path, tmp_path: Path, cli_error, monkeypatch, how: str,
                             reason: str, jsonl, good_row: dict) -> None:
    monkeypatch.chdir(tmp_path)
    path = _mutate_model(random_model, tmp_path, how)
    with pytest.raises(ModelError) as info:
        StanceClassifier.from_pretrained(path)
    assert str(info.value).startswith(str(path)) and reason in str(info.value)
    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl(good_row))
    out = cli_error(["predict", "--model", str(path), "--input", str(src), "--output",
                     str(tmp_path / "o.jsonl")])
    assert out.startswith(f"error: {path}") and reason in out
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "o.jsonl").exists()
