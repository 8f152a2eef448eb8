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
