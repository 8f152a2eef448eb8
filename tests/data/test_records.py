"""`StancePair`: fields are validated where the pair is made."""

from __future__ import annotations

import pytest

from stancekit.data.records import StancePair
from stancekit.errors import DataError


def test_stancepair_validates_fields() -> None:
    with pytest.raises(DataError, match="field 'text': expected a non-empty string"):
        StancePair(id="1", actor="Iran", target="the deal", text="   ")
    with pytest.raises(DataError, match="field 'label': expected one of"):
        StancePair(id="1", actor="Iran", target="the deal", text="x", label="FAVOR")
