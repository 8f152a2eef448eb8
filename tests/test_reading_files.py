"""Reading YAML and JSON safely (`stancekit.fileio`): repeated keys are refused with their
line, YAML is bounded before it is built, and ordinary anchors still work."""

from __future__ import annotations

import pytest

from stancekit.errors import DataError
from stancekit.fileio import load_json, load_yaml


@pytest.mark.parametrize("text, line, key", [
    pytest.param('{"a": 1,\n "b": 2,\n "a": 3}', 3, "a", id="top-level"),
    pytest.param('{"a": {"a": 1},\n "b": [{"c": 1}, {"a": 2}],\n "a": 3}', 3, "a",
                 id="same-key-nested-before"),
    pytest.param('[{"x": 1},\n {"x": 2, "y": {"z": 1,\n "z": 2}}]', 3, "z", id="in-an-array"),
])
def test_repeated_json_key_is_named_with_its_line(text: str, line: int, key: str) -> None:
    with pytest.raises(DataError) as info:
        load_json(text, path="f.json")
    assert (info.value.path, info.value.line, info.value.field) == ("f.json", line, key)


def test_yaml_anchors_merges_and_plain_documents_are_read() -> None:
    text = ("base: &base {kind: state, aliases: [Riyadh]}\nactors:\n  - <<: *base\n    name: "
            "Saudi Arabia\n    kind: ministry\n  - *base\nempty:\n")
    assert load_yaml(text, path="a.yaml") == {
        "base": {"kind": "state", "aliases": ["Riyadh"]},
        "actors": [{"kind": "ministry", "aliases": ["Riyadh"], "name": "Saudi Arabia"},
                   {"kind": "state", "aliases": ["Riyadh"]}],
        "empty": None}
    assert load_yaml("", path="a.yaml") is None


def test_recursive_yaml_alias_is_counted_once() -> None:
    assert load_yaml("a: &a [1, *a]\n", path="a.yaml")["a"][0] == 1
