"""Label Studio: the labeling config, tasks with pre-annotations, reading the JSON export (the
resolution rule, agreement), and the catalogue of malformed exports (file, line, field)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from stancekit.adapt.label_studio import (
    CHOICES,
    AnnotatedTask,
    Vote,
    agreement,
    read_export,
    resolve,
)
from stancekit.adapt.label_studio_tasks import highlighted_html, labeling_config, task
from stancekit.data.records import StancePair
from stancekit.errors import DataError

PAIR = StancePair(id="a1|Iran|the deal|0-40", actor="Iran", target="the deal",
                  text="Tehran <b>welcomed</b> the deal & more.", doc_id="a1",
                  actor_spans=((0, 6),), meta={"actor_aliases": ["Tehran"]})


def annotation(choice: str, user: int = 1, *, ann_id: int = 1, cancelled: bool = False,
               **extra) -> dict:
    return {"id": ann_id, "completed_by": user, "was_cancelled": cancelled, "ground_truth": False,
            "result": [] if cancelled else [{"from_name": "stance", "to_name": "text",
                                             "type": "choices", "value": {"choices": [choice]}}],
            **extra}


def export_task(i: int, *annotations: dict, pair: StancePair = PAIR) -> dict:
    p = pair.to_dict()
    p["id"] = f"{pair.id}#{i}"
    return {"id": 100 + i, "data": {**task(pair)["data"], "pair": p, "pair_id": p["id"]},
            "annotations": list(annotations), "predictions": [], "meta": {}}


def write_export(path: Path, tasks: list) -> Path:
    path.write_text(json.dumps(tasks, indent=2), encoding="utf-8")
    return path


def test_labeling_config_is_xml_with_the_four_choices() -> None:
    root = ET.fromstring(labeling_config())
    choices = root.find("Choices")
    assert choices.get("name") == "stance" and choices.get("toName") == "text"
    assert choices.get("required") == "true"
    assert [c.get("value") for c in choices.findall("Choice")] == list(CHOICES)
    assert root.find("HyperText").get("value") == "$html"
    assert "$actor" in root.find("Header").get("value")


def test_task_escapes_the_text_and_marks_actor_and_target() -> None:
    t = task(PAIR, {"label": "support", "probs": {"support": 0.8, "neutral": 0.15,
                                                   "condemn": 0.05}})
    page = t["data"]["html"]
    assert "&lt;b&gt;welcomed&lt;/b&gt;" in page and "&amp; more." in page and "<b>" not in page
    assert 'title="actor">Tehran</span>' in page and 'title="target">the deal</span>' in page
    assert t["data"]["pair"] == PAIR.to_dict()
    pred = t["predictions"][0]
    assert pred["score"] == 0.8
    assert pred["result"] == [{"from_name": "stance", "to_name": "text", "type": "choices",
                               "value": {"choices": ["support"]}}]
    assert "predictions" not in task(PAIR)


def test_html_escapes_names_in_the_legend() -> None:
    evil = StancePair(id="x", actor="<script>", target="t", text="<script> said t.")
    assert "<script>" not in highlighted_html(evil)


@pytest.mark.parametrize("votes, expected", [
    ([], (None, "no votes")),
    ([Vote("1", "support")], ("support", "single")),
    ([Vote("1", "neutral"), Vote("2", "not about this target")], ("neutral", "unanimous")),
    ([Vote("1", "condemn"), Vote("2", "condemn"), Vote("3", "support")], ("condemn", "majority")),
    ([Vote("1", "condemn"), Vote("2", "support")], (None, "tie")),
    ([Vote("1", "condemn"), Vote("2", "support", ground_truth=True)], ("support", "ground_truth")),
    ([Vote("1", "condemn", ground_truth=True), Vote("2", "support", ground_truth=True)],
     (None, "tie")),
])
def test_resolution_rule(votes: list, expected: tuple) -> None:
    assert resolve(votes) == expected


def test_read_export_resolves_keeps_annotators_and_reports_conflicts(tmp_path: Path) -> None:
    tasks = [export_task(0, annotation("support", 1), annotation("support", 2, ann_id=2)),
             export_task(1, annotation("condemn", 1), annotation("support", 2, ann_id=3)),
             export_task(2, annotation("not about this target", 1, ann_id=4)),
             export_task(3),
             export_task(4, annotation("condemn", 1, ann_id=5, cancelled=True)),
             # the same annotator twice: the later annotation is the vote
             export_task(5, annotation("support", 2, ann_id=6), annotation("condemn", 2, ann_id=9))]
    result = read_export(write_export(tmp_path / "export.json", tasks))
    assert result.counts == {"tasks": 6, "rejected": 0, "labelled": 3, "conflicts": 1,
                             "unannotated": 2, "annotations": 7, "cancelled": 1}
    by_id = {p.id.split("#")[1]: p for p in result.pairs}
    assert by_id["0"].label == "support" and by_id["0"].meta["annotators"] == ["1", "2"]
    assert by_id["0"].meta["resolution"] == "unanimous"
    assert by_id["2"].label == "neutral" and by_id["2"].meta["annotations"] == \
        [{"annotator": "1", "choice": "not about this target"}]
    assert by_id["5"].label == "condemn" and by_id["5"].meta["resolution"] == "single"
    assert by_id["0"].actor_spans == PAIR.actor_spans and by_id["0"].doc_id == "a1"
    assert by_id["0"].meta["label_studio_task"] == 100
    [conflict] = result.conflicts
    assert conflict["task_id"] == 101 and conflict["votes"] == {"condemn": 1, "support": 1}
    assert conflict["line"] == 1 + json.dumps(tasks[:1], indent=2).count("\n")


def test_older_exports_with_user_objects(tmp_path: Path) -> None:
    ann = annotation("support")
    ann["completed_by"] = {"id": 7, "email": "ann@example.org"}
    result = read_export(write_export(tmp_path / "e.json", [export_task(0, ann)]))
    assert result.pairs[0].meta["annotators"] == ["ann@example.org"]


def test_tasks_made_elsewhere_use_the_flat_fields(tmp_path: Path) -> None:
    raw = {"id": 1, "data": {"actor": "Iran", "target": "the deal", "text": "Iran backed the deal.",
                             "pair_id": "q1"}, "annotations": [annotation("support")]}
    [pair] = read_export(write_export(tmp_path / "e.json", [raw])).pairs
    assert (pair.id, pair.label) == ("q1", "support")


def test_agreement_is_krippendorffs_alpha() -> None:
    def t(*choices: str) -> AnnotatedTask:
        return AnnotatedTask(PAIR, 1, 1, tuple(Vote(str(k), c) for k, c in enumerate(choices)))

    perfect = agreement([t("support", "support"), t("condemn", "condemn"), t("neutral", "neutral")])
    assert perfect["alpha_labels"]["alpha"] == 1.0
    assert perfect["pairs_of_annotators"] == [{"annotators": ["0", "1"], "shared_tasks": 3,
                                               "agreement": 1.0}]
    mixed = agreement([t("support", "support"), t("condemn", "support"), t("neutral", "neutral"),
                       t("neutral", "not about this target"), t("support")])
    # by hand: 4 units of two values (the single vote pairs with nothing), n = 8; coincidences
    # o_ss=2, o_sc=o_cs=1, o_nn=4, so D_o = 2/8; n_s=3, n_c=1, n_n=4, so
    # D_e = 2 (3*1 + 3*4 + 1*4) / (8*7) = 38/56; alpha = 1 - D_o/D_e = 1 - 14/38
    assert mixed["alpha_labels"]["alpha"] == pytest.approx(1 - 14 / 38, abs=1e-4)
    assert mixed["alpha_choices"]["alpha"] < mixed["alpha_labels"]["alpha"]
    assert mixed["tasks_with_two_or_more"] == 4 and mixed["votes_per_annotator"] == {"0": 5, "1": 4}
    same = agreement([t("neutral", "neutral"), t("neutral", "neutral")])
    assert same["alpha_labels"]["alpha"] is None and "undefined" in same["alpha_labels"]["note"]
    assert agreement([t("support")])["alpha_labels"] is None


# -- the catalogue of malformed exports ------------------------------------------------------------
GOOD_TASK = export_task(0, annotation("support"))


def _with(path: list, value) -> list:
    """The export [GOOD_TASK, <GOOD_TASK with value at path>]: the bad task starts on the
    second task's line."""
    bad = json.loads(json.dumps(export_task(1, annotation("support"))))
    node = bad
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return [GOOD_TASK, bad]


_DELETE = object()
SECOND = 1 + json.dumps([GOOD_TASK], indent=2).count("\n")  # line of the second task

MALFORMED = [
    ("task-not-an-object", [GOOD_TASK, 5], SECOND, None,
     "task 1: expected a task object, found int"),
    ("json-min-export", [GOOD_TASK, {"id": 2, "text": "t", "stance": "support", "annotator": 1,
                                     "annotation_id": 3}], SECOND, None,
     "task 1: this looks like Label Studio's JSON-MIN export"),
    ("no-data", _with(["data"], _DELETE), SECOND, "data",
     "task 1: expected an object of task data, found none"),
    ("data-not-an-object", _with(["data"], "text"), SECOND, "data",
     "task 1: expected an object of task data, found the string 'text'"),
    ("pair-without-text", _with(["data", "pair", "text"], ""), SECOND, "data.pair.text",
     "task 1: expected a non-empty string, found an empty one"),
    ("pair-span-outside-text", _with(["data", "pair", "actor_spans"], [[0, 999]]), SECOND,
     "data.pair.actor_spans", "task 1: span (0, 999) is outside the text"),
    ("pair-id-missing", _with(["data", "pair", "id"], None), SECOND, "data.pair.id",
     "task 1: expected the pair's id as a non-empty string, found none"),
    ("annotations-not-a-list", _with(["annotations"], {"a": 1}), SECOND, "annotations",
     "task 1: expected a list of annotations, found dict"),
    ("annotation-not-an-object", _with(["annotations", 0], "support"), SECOND, "annotations[0]",
     "task 1: expected an annotation object, found the string 'support'"),
    ("annotator-missing", _with(["annotations", 0, "completed_by"], None), SECOND,
     "annotations[0].completed_by", "task 1: expected the annotator's user id, found none"),
    ("cancelled-not-a-bool", _with(["annotations", 0, "was_cancelled"], "no"), SECOND,
     "annotations[0].was_cancelled", "task 1: expected true or false, found the string 'no'"),
    ("result-not-a-list", _with(["annotations", 0, "result"], None), SECOND,
     "annotations[0].result", "task 1: expected a list of results, found none"),
    ("no-stance-choice", _with(["annotations", 0, "result"], []), SECOND, "annotations[0].result",
     "task 1: the annotation has no 'stance' choice"),
    ("unknown-choice", _with(["annotations", 0, "result", 0, "value", "choices"], ["FAVOR"]),
     SECOND, "annotations[0].result[0].value.choices",
     "task 1: unknown choice 'FAVOR'; the labeling config's choices are"),
    ("two-choices", _with(["annotations", 0, "result", 0, "value", "choices"],
                          ["support", "condemn"]), SECOND, "annotations[0].result[0].value.choices",
     "task 1: expected one choice, found a list of 2"),
    ("annotation-id-not-an-integer", _with(["annotations", 0, "id"], "x"), SECOND,
     "annotations[0].id", "task 1: expected an integer annotation id, found the string 'x'"),
    ("duplicate-task-id", _with(["id"], 100), SECOND, "id",
     "task 1: task id 100 also in the task at line 2"),
    ("duplicate-pair", [GOOD_TASK, GOOD_TASK | {"id": 7}], SECOND, "data.pair.id",
     "task 1: pair id 'a1|Iran|the deal|0-40#0' also in the task at line 2"),
]


@pytest.mark.parametrize("name, tasks, line, field, message", MALFORMED,
                         ids=[m[0] for m in MALFORMED])
def test_malformed_export(tmp_path: Path, cli_error, name, tasks, line, field, message) -> None:
    path = write_export(tmp_path / "export.json", tasks)
    with pytest.raises(DataError) as err:
        read_export(path)
    assert (err.value.path, err.value.line, err.value.field) == (str(path), line, field)
    assert err.value.reason.startswith(message), err.value.reason
    out = cli_error(["import", "--input", str(path), "--output", str(tmp_path / "p.jsonl")])
    assert message in out and not (tmp_path / "p.jsonl").exists()


_FIRST = json.dumps(GOOD_TASK).encode()


@pytest.mark.parametrize("name, content, line, message", [
    ("empty-file", b"", None, "the file is empty; expected Label Studio's JSON export"),
    ("object-not-a-list", b'{"id": 1}', 1, "expected Label Studio's JSON export, a list of tasks; "
                                           "found an object (a JSON Lines file or a single task?)"),
    ("invalid-json-in-a-task", b'[\n {"id": 1,\n  "data": {]\n}]', 3,
     "invalid JSON: Expecting property name enclosed in double quotes at column 12"),
    ("truncated", b'[\n' + _FIRST + b',\n {"id": 2', 3,
     "invalid JSON: Expecting ',' delimiter at column 10 (the file looks truncated)"),
    ("missing-comma", b'[\n' + _FIRST + b'\n {"id": 2}]', 3,
     "invalid JSON: expected ',' or ']' after task 0"),
    ("extra-data", b'[]\n[]', 2, "invalid JSON: extra data after the list of tasks"),
    ("not-utf8", b'[\n{"id": 1, "data": {"text": "caf\xe9"}}]', 2, "not valid UTF-8 (byte 0xe9)"),
])
def test_bad_export_file(tmp_path: Path, cli_error, name, content, line, message) -> None:
    path = tmp_path / "export.json"
    path.write_bytes(content)
    with pytest.raises(DataError) as err:
        read_export(path)
    assert (err.value.path, err.value.line) == (str(path), line)
    assert err.value.reason.startswith(message), err.value.reason
    assert message in cli_error(["import", "--input", str(path), "--output",
                                 str(tmp_path / "p.jsonl")])


def test_missing_export_file(tmp_path: Path, cli_error) -> None:
    out = cli_error(["import", "--input", str(tmp_path / "nope.json"), "--output",
                     str(tmp_path / "p.jsonl")])
    assert out == f"error: {tmp_path / 'nope.json'}: file not found"


def test_empty_list_imports_nothing(tmp_path: Path) -> None:
    result = read_export(write_export(tmp_path / "e.json", []))
    assert result.pairs == [] and result.counts["tasks"] == 0


def test_rejects_file_keeps_malformed_tasks(tmp_path: Path) -> None:
    tasks = [GOOD_TASK, 5, export_task(2, annotation("condemn"))]
    rejects = tmp_path / "rejects.jsonl"
    result = read_export(write_export(tmp_path / "e.json", tasks), rejects_path=rejects)
    assert [p.label for p in result.pairs] == ["support", "condemn"]
    assert result.counts["rejected"] == 1
    [row] = [json.loads(x) for x in rejects.read_text().splitlines()]
    assert row["line"] == SECOND and row["reason"].startswith("task 1: expected a task object")


# -- damaged exports raise nothing but StanceKitError ------------------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from stancekit.errors import StanceKitError  # noqa: E402

_junk = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=10)


@st.composite
def _spoiled_task(draw) -> object:
    """A good task with one value somewhere inside replaced by junk, or junk itself."""
    if draw(st.integers(0, 9)) == 0:
        return draw(_junk)
    t = json.loads(json.dumps(export_task(draw(st.integers(0, 99)),
                                          annotation(draw(st.sampled_from(CHOICES))),
                                          annotation("support", 2, ann_id=2))))
    node = t
    for _ in range(draw(st.integers(1, 5))):
        keys = list(node) if isinstance(node, dict) else list(range(len(node))) \
            if isinstance(node, list) else []
        if not keys:
            break
        key = draw(st.sampled_from(keys))
        if draw(st.booleans()) or not isinstance(node[key], (dict, list)):
            node[key] = draw(_junk)
            break
        node = node[key]
    return t


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(data=st.data(), tasks=st.lists(_spoiled_task(), max_size=4),
       how=st.sampled_from(["none", "truncate", "flip", "insert"]))
def test_damaged_exports_raise_only_stancekit_errors(tmp_path_factory, data, tasks, how) -> None:
    raw = json.dumps(tasks, allow_nan=True).encode()
    if how != "none" and raw:
        at = data.draw(st.integers(0, len(raw) - 1))
        raw = (raw[:at] if how == "truncate" else
               raw[:at] + bytes([raw[at] ^ data.draw(st.integers(1, 255))]) + raw[at + 1:]
               if how == "flip" else raw[:at] + data.draw(st.binary(min_size=1, max_size=6))
               + raw[at:])
    path = tmp_path_factory.mktemp("ls") / "export.json"
    path.write_bytes(raw)
    for rejects in (None, path.with_name("rejects.jsonl")):
        try:
            result = read_export(path, rejects_path=rejects)
        except StanceKitError:
            continue
        agreement(result.tasks)
        assert result.counts["tasks"] == len(result.tasks) + result.counts["rejected"]
