"""How error messages quote the values they found (`stancekit.errors.quote`)."""

from __future__ import annotations

import time

import pytest

from stancekit.errors import quote


def test_quote_is_short_and_quick_whatever_the_value() -> None:
    shared = ["lol"] * 9
    for _ in range(9):  # 9**10 strings if expanded (a YAML alias bomb, built)
        shared = [shared] * 9
    start = time.perf_counter()
    values = (shared, "x" * 10_000_000, 10**20_000, {i: i for i in range(10**5)})
    quoted = [quote(v) for v in values]
    assert time.perf_counter() - start < 5  # the full repr of the first alone would not end
    assert all(len(q) <= 90 for q in quoted), quoted
    assert quoted[2] == "<an integer of 66,439 bits>"
    assert quote("hot") == "'hot'" and quote(1e-320) == "1e-320" and quote([1, 2]) == "[1, 2]"


def test_a_field_named_by_the_input_is_quoted_briefly() -> None:
    from stancekit.errors import DataError
    from stancekit.fileio import load_json

    key = "k" * 1_000_000
    with pytest.raises(DataError) as info:
        load_json(f'{{"{key}": 1, "{key}": 2}}', path="f.json")
    assert info.value.field == key and len(str(info.value)) < 300, str(info.value)[:300]
