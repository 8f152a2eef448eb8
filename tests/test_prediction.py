"""`StanceClassifier.predict`: abstention flags a prediction and keeps its label; inputs that
are not pairs are refused with the input's position."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stancekit import Prediction, StanceClassifier, StancePair
from stancekit.errors import ConfigError, DataError, ModelError


def test_prediction_emits_abstained_only_when_true() -> None:
    probs = {"support": 0.5, "neutral": 0.3, "condemn": 0.2}
    assert Prediction("support", probs, "1").to_dict() == {"id": "1", "label": "support",
                                                           "probs": probs}
    assert Prediction("support", probs, "1", abstained=True).to_dict()["abstained"] is True


def test_abstention_flags_and_keeps_the_label(untrained_model: Path, synthetic_pairs) -> None:
    clf = StanceClassifier.from_pretrained(untrained_model)
    pairs = synthetic_pairs(12)
    plain = clf.predict(pairs)
    assert not any(p.abstained for p in plain)
    unsure = clf.predict(pairs, abstain_below=0.99)  # an untrained head is never that sure
    assert all(p.abstained for p in unsure)
    assert [p.label for p in unsure] == [p.label for p in plain]  # never turned into neutral
    assert [p.probs for p in unsure] == [p.probs for p in plain]
    confidence = clf.predict_proba(pairs).max(axis=1)
    cut = float(np.sort(confidence)[6])
    mixed = clf.predict(pairs, abstain_below=cut)
    assert [p.abstained for p in mixed] == [bool(c < cut) for c in confidence]
    assert sum(p.abstained for p in mixed) == 6
    assert not any(p.abstained for p in clf.predict(pairs, abstain_below=0.0))


def test_abstain_below_out_of_range_is_a_clear_error(untrained_model: Path,
                                                     synthetic_pairs) -> None:
    clf = StanceClassifier.from_pretrained(untrained_model)
    with pytest.raises(ConfigError, match=r"^abstain_below: expected a probability in \[0, 1\], "
                                          r"found 1.5$"):
        clf.predict(synthetic_pairs(2), abstain_below=1.5)


def test_python_api_inputs(random_model: Path, good_row: dict) -> None:
    clf = StanceClassifier.from_pretrained(random_model)
    with pytest.raises(DataError, match=r"^input 1: expected a StancePair or a dict, found str$"):
        clf.predict([good_row, "Iran backed the deal."])
    with pytest.raises(DataError) as info:
        clf.predict([{**good_row, "actor": 1}])
    assert (info.value.field, info.value.reason) == ("actor", "input 0: expected a string, "
                                                     "found int 1")
    with pytest.raises(ModelError, match=r"^unknown backend 'tensorrt'; expected one of "
                       r"\['auto', 'torch', 'torch-bf16', 'torch-int8'"):
        StanceClassifier.from_pretrained(random_model, backend="tensorrt")
    with pytest.raises(DataError) as info:
        StancePair(id="1", actor="Iran", target="the deal", text="short", actor_spans=((0, 9),))
    assert (info.value.field, info.value.reason) == ("actor_spans", "span (0, 9) is outside the "
                                                     "text (length 5)")


# --------------------------------------------------------------------------- tables in, tables out


@pytest.fixture
def frame():
    import pandas as pd

    return pd.DataFrame({"actor": ["Iran", "Egypt", "Kenya"], "target": ["the deal"] * 3,
                         "sentence": ["Iran backed the deal.", "Egypt rejected the deal.",
                                      "Kenya noted the deal."],
                         "label": ["FAVOR", "AGAINST", "NONE"], "source": ["a", "b", "c"]},
                        index=["r1", "r2", "r3"])


def test_predict_a_dataframe_gives_a_dataframe(random_model: Path, frame) -> None:
    import pandas as pd

    clf = StanceClassifier.from_pretrained(random_model, backend="torch")
    out = clf.predict(frame, columns={"text": "sentence"}, label_scheme="favor_against")
    assert isinstance(out, pd.DataFrame) and list(out.index) == ["r1", "r2", "r3"]
    assert list(out.columns) == [*frame.columns, "pred_label", "prob_support", "prob_neutral",
                                 "prob_condemn"]
    assert list(out["label"]) == ["FAVOR", "AGAINST", "NONE"]  # the gold column is left alone
    pairs = [StancePair(id=str(i), actor=a, target=t, text=x) for i, (a, t, x) in
             enumerate(zip(frame["actor"], frame["target"], frame["sentence"]))]
    expected = clf.predict(pairs)
    assert list(out["pred_label"]) == [p.label for p in expected]
    assert list(out["prob_condemn"]) == [p.probs["condemn"] for p in expected]
    np.testing.assert_allclose(
        clf.predict_proba(frame, columns={"text": "sentence"}, label_scheme="favor_against"),
        clf.predict_proba(pairs))
    again = clf.predict(out, columns={"text": "sentence"}, label_scheme="favor_against",
                        abstain_below=0.99)  # predicting its own output replaces the columns
    assert list(again.columns) == [*out.columns, "abstained"] and again["abstained"].all()


def test_predict_a_dataset_gives_a_dataset(random_model: Path, frame) -> None:
    import datasets

    clf = StanceClassifier.from_pretrained(random_model, backend="torch")
    ds = datasets.Dataset.from_pandas(frame.rename(columns={"sentence": "text"}),
                                      preserve_index=False)
    out = clf.predict(ds, label_scheme="favor_against")
    assert isinstance(out, datasets.Dataset) and len(out) == 3
    assert out.column_names == [*ds.column_names, "pred_label", "prob_support", "prob_neutral",
                                "prob_condemn"]
    np.testing.assert_allclose([[r[f"prob_{lab}"] for lab in ("support", "neutral", "condemn")]
                                for r in out],
                               clf.predict_proba(ds, label_scheme="favor_against"), atol=1e-6)
    assert [p.label for p in clf.predict(list(ds), label_scheme="favor_against")] == \
        out["pred_label"]


@pytest.mark.parametrize("change, message", [
    pytest.param({"sentence": ["x", float("nan"), "y"]},
                 "field 'sentence': DataFrame row 1 (index 'r2'): expected a non-empty value, "
                 "found NaN", id="nan-text"),
    pytest.param({"actor": ["Iran", "Egypt", 7]},
                 "field 'actor': DataFrame row 2 (index 'r3'): expected a string, found int 7",
                 id="number-as-actor"),
    pytest.param({"label": ["FAVOR", "AGAINST", "maybe"]},
                 "field 'label': DataFrame row 2 (index 'r3'): unknown label 'maybe'; the label "
                 "scheme 'favor_against' knows", id="unknown-label"),
])
def test_bad_dataframe_rows_name_the_row_and_field(random_model: Path, frame, change: dict,
                                                   message: str) -> None:
    clf = StanceClassifier.from_pretrained(random_model, backend="torch")
    with pytest.raises(DataError) as info:
        clf.predict(frame.assign(**change), columns={"text": "sentence"},
                    label_scheme="favor_against")
    assert str(info.value).startswith(message), str(info.value)


def test_unmapped_dataframe_column_says_how_to_map_it(random_model: Path, frame) -> None:
    clf = StanceClassifier.from_pretrained(random_model, backend="torch")
    with pytest.raises(DataError) as info:
        clf.predict(frame.reset_index(drop=True), label_scheme="favor_against")
    assert str(info.value) == (
        "field 'text': DataFrame row 0: expected the column 'text', but only ['actor', 'label', "
        "'sentence', 'source', 'target'] were found (map it with columns={'text': 'COLUMN'})")
    with pytest.raises(DataError, match=r"^expected a list of StancePair or dicts, a pandas "
                                        r"DataFrame or a datasets Dataset, found str$"):
        clf.predict_proba("Iran backed the deal.")
