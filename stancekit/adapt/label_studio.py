"""Label Studio round trip: tasks out (`label_studio_tasks.write_tasks`), the JSON export back
in (`read_export`).

**Out** (`stancekit.adapt.label_studio_tasks`). `labeling_config` is the project's XML: a question naming the actor and the target,
the pair's text as HTML with the actor's mentions and the target's marked in two colours (the
text is escaped; the only tags are stancekit's own), and one required choice among
``support``, ``neutral``, ``condemn`` and ``not about this target``. `task` makes one task per
pair, carrying the whole pair (``data.pair``) so that import restores it exactly, and the
model's prediction as a pre-annotation with its probability as ``score``.

**In.** `read_export` reads Label Studio's JSON export (*Export -> JSON*: a list of tasks, each
with every annotation and its ``completed_by`` annotator id). Each task becomes one labelled
pair by this rule (`resolve`):

1. A vote is an annotation that was not cancelled (skipped); an annotator who annotated a task
   twice votes once, with the later annotation (the higher annotation id).
2. ``not about this target`` is ``neutral`` (the guidelines: no stance toward this target).
3. An annotation marked ground truth (a reviewer's) decides; several disagreeing ground truths
   are a conflict.
4. Otherwise the label with the most votes wins. A tie is a **conflict**: the task is left out
   of the pairs and listed in the agreement report, never decided by a coin.
5. A task without votes (not annotated yet, or only skipped) is left out and counted.

Agreement over the tasks with two or more votes is Krippendorff's alpha (nominal; the
``krippendorff`` package), on the three labels and on the four raw choices, with the raw
agreement of every pair of annotators.

A malformed export is refused like every other input: `DataError` with the file, the line where
the task starts, and the field (``annotations[1].result[0].value.choices``), or with
``rejects_path`` the bad task is written there with its reason and the rest is read.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from ..data.readers import open_rejects, write_reject
from ..data.records import StancePair
from ..errors import DataError
from ..labels import LABELS, NEUTRAL

FROM_NAME = "stance"
TO_NAME = "text"
NOT_ABOUT_TARGET = "not about this target"
CHOICES = (*LABELS, NOT_ABOUT_TARGET)
CHOICE_TO_LABEL = {**{label: label for label in LABELS}, NOT_ABOUT_TARGET: NEUTRAL}
ACTOR_STYLE = "background:#d6e6ff;border-bottom:2px solid #2f62b0;padding:0 2px"
TARGET_STYLE = "background:#ffe2c4;border-bottom:2px solid #c0661a;padding:0 2px"


# -- import ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Vote:
    annotator: str
    choice: str
    annotation_id: int | None = None
    ground_truth: bool = False

    @property
    def label(self) -> str:
        return CHOICE_TO_LABEL[self.choice]


@dataclass(frozen=True)
class AnnotatedTask:
    """One task of an export: its pair, its Label Studio id and line, and its votes."""

    pair: StancePair
    task_id: Any
    line: int
    votes: tuple[Vote, ...]
    cancelled: int = 0


@dataclass
class ImportResult:
    """Resolved pairs, the conflicts left out, and the counts of the export."""

    pairs: list[StancePair] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[AnnotatedTask] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def resolve(votes: Sequence[Vote]) -> tuple[str | None, str]:
    """The label of a task's votes, and how it was reached: ``single``, ``unanimous``,
    ``majority``, ``ground_truth``, or ``(None, "tie")`` / ``(None, "no votes")``."""
    if not votes:
        return None, "no votes"
    truth = {v.label for v in votes if v.ground_truth}
    if len(truth) == 1:
        return truth.pop(), "ground_truth"
    if len(truth) > 1:
        return None, "tie"
    counts = Counter(v.label for v in votes).most_common()
    if len(counts) > 1 and counts[0][1] == counts[1][1]:
        return None, "tie"
    how = "single" if len(votes) == 1 else "unanimous" if len(counts) == 1 else "majority"
    return counts[0][0], how


def read_export(path: str | Path, *, rejects_path: str | Path | None = None) -> ImportResult:
    """Read a Label Studio JSON export into resolved, labelled pairs (see the module docstring)."""
    result = ImportResult(counts={"tasks": 0, "rejected": 0, "labelled": 0, "conflicts": 0,
                                  "unannotated": 0, "annotations": 0, "cancelled": 0})
    seen_tasks: dict[Any, int] = {}
    seen_pairs: dict[str, int] = {}
    rejects = None
    try:
        for line, index, raw in _iter_tasks(path):
            result.counts["tasks"] += 1
            try:
                item = _task(raw, path=str(path), line=line, index=index)
                for key, seen, what in ((item.task_id, seen_tasks, "task id"),
                                        (item.pair.id, seen_pairs, "pair id")):
                    if key is not None and key in seen:
                        raise DataError(f"task {index}: {what} {key!r} also in the task at line "
                                        f"{seen[key]}; was the export or the import done twice?",
                                        path=str(path), line=line,
                                        field="id" if what == "task id" else "data.pair.id")
                if item.task_id is not None:
                    seen_tasks[item.task_id] = line
                seen_pairs[item.pair.id] = line
            except DataError as err:
                if rejects_path is None:
                    raise
                if rejects is None:
                    rejects = open_rejects(rejects_path)
                result.counts["rejected"] += 1
                write_reject(rejects, path, line, err, raw)
                continue
            result.tasks.append(item)
    finally:
        if rejects is not None:
            rejects.close()
    for item in result.tasks:
        result.counts["annotations"] += len(item.votes) + item.cancelled
        result.counts["cancelled"] += item.cancelled
        label, how = resolve(item.votes)
        if how == "no votes":
            result.counts["unannotated"] += 1
            continue
        votes = Counter(v.label for v in item.votes)
        if label is None:
            result.counts["conflicts"] += 1
            result.conflicts.append({"task_id": item.task_id, "line": item.line,
                                     "pair_id": item.pair.id, "votes": dict(votes),
                                     "annotators": {v.annotator: v.choice for v in item.votes}})
            continue
        result.counts["labelled"] += 1
        meta = {**item.pair.meta, "annotators": [v.annotator for v in item.votes],
                "annotations": [{"annotator": v.annotator, "choice": v.choice} for v in item.votes],
                "resolution": how, "label_studio_task": item.task_id}
        meta.pop("prediction", None)  # the model's guess is not part of the labelled data
        data = item.pair.to_dict()
        data.pop("meta", None)
        result.pairs.append(StancePair.from_dict({**data, "label": label, "meta": meta}))
    return result


def agreement(tasks: Sequence[AnnotatedTask]) -> dict[str, Any]:
    """Krippendorff's alpha (nominal) over the tasks with two or more votes, on the three labels
    and on the four raw choices; the raw agreement of every annotator pair; votes per annotator."""
    multi = [t for t in tasks if len(t.votes) >= 2]
    annotators = sorted({v.annotator for t in tasks for v in t.votes})
    out: dict[str, Any] = {
        "tasks_with_votes": sum(1 for t in tasks if t.votes),
        "tasks_with_two_or_more": len(multi),
        "votes_per_annotator": dict(sorted(Counter(v.annotator for t in tasks
                                                   for v in t.votes).items())),
        "alpha_labels": None, "alpha_choices": None, "pairs_of_annotators": []}
    if multi:
        out["alpha_labels"] = _alpha(multi, annotators, lambda v: LABELS.index(v.label))
        out["alpha_choices"] = _alpha(multi, annotators, lambda v: CHOICES.index(v.choice))
    for a, b in combinations(annotators, 2):
        shared = [(va.label, vb.label) for t in multi
                  for va in t.votes if va.annotator == a
                  for vb in t.votes if vb.annotator == b]
        if shared:
            same = sum(x == y for x, y in shared)
            out["pairs_of_annotators"].append({"annotators": [a, b], "shared_tasks": len(shared),
                                               "agreement": round(same / len(shared), 4)})
    return out


def _alpha(tasks: Sequence[AnnotatedTask], annotators: Sequence[str], code: Any) -> dict[str, Any]:
    import krippendorff
    import numpy as np

    col = {a: i for i, a in enumerate(annotators)}
    data = np.full((len(annotators), len(tasks)), np.nan)
    for j, t in enumerate(tasks):
        for v in t.votes:
            data[col[v.annotator], j] = code(v)
    values = set(data[~np.isnan(data)].tolist())
    if len(values) < 2:
        # alpha is 0/0 when every vote is the same value: the annotators never disagreed, but
        # on a single label nothing separates agreement from chance
        return {"alpha": None, "n_tasks": len(tasks),
                "note": "every vote is the same value; alpha is undefined"}
    value = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    return {"alpha": round(float(value), 4), "n_tasks": len(tasks)}


# -- parsing -------------------------------------------------------------------------------------
def _iter_tasks(path: str | Path) -> Iterator[tuple[int, int, Any]]:
    """``(line, index, task)`` for each element of the export's top-level JSON list, with the
    line where the element starts."""
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", path=str(path))
    if path.is_dir():
        raise DataError("expected a file, found a directory", path=str(path))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read the file ({exc.strerror or exc})", path=str(path)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise DataError(f"not valid UTF-8 (byte {raw[exc.start]:#x}); re-save the file as UTF-8",
                        path=str(path), line=line) from None
    decoder = json.JSONDecoder()
    pos = _skip_space(text, 0)
    if pos == len(text):
        raise DataError("the file is empty; expected Label Studio's JSON export (a list of "
                        "tasks)", path=str(path))
    if text[pos] != "[":
        kind = "an object" if text[pos] == "{" else "something else"
        hint = (" (a JSON Lines file or a single task?)" if text[pos] == "{" else "")
        raise DataError(f"expected Label Studio's JSON export, a list of tasks; found {kind}"
                        f"{hint}", path=str(path), line=text.count("\n", 0, pos) + 1)
    pos = _skip_space(text, pos + 1)
    index, line, counted = 0, 1, 0
    if pos < len(text) and text[pos] == "]":
        rest = _skip_space(text, pos + 1)
        if rest != len(text):
            raise DataError("invalid JSON: extra data after the list of tasks", path=str(path),
                            line=text.count("\n", 0, rest) + 1)
        return
    while True:
        line += text.count("\n", counted, pos)
        counted = pos
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            hint = " (the file looks truncated)" if exc.pos >= len(text.rstrip()) else ""
            raise DataError(f"invalid JSON: {exc.msg} at column {exc.colno}{hint}",
                            path=str(path), line=exc.lineno) from None
        except RecursionError:
            raise DataError("invalid JSON: nested too deeply to parse", path=str(path),
                            line=line) from None
        yield line, index, value
        index += 1
        pos = _skip_space(text, end)
        if pos < len(text) and text[pos] == ",":
            pos = _skip_space(text, pos + 1)
            continue
        if pos < len(text) and text[pos] == "]":
            rest = _skip_space(text, pos + 1)
            if rest != len(text):
                raise DataError("invalid JSON: extra data after the list of tasks",
                                path=str(path), line=text.count("\n", 0, rest) + 1)
            return
        hint = " (the file looks truncated)" if pos >= len(text) else ""
        raise DataError(f"invalid JSON: expected ',' or ']' after task {index - 1}{hint}",
                        path=str(path), line=text.count("\n", 0, pos) + 1)


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _task(raw: Any, *, path: str, line: int, index: int) -> AnnotatedTask:
    def fail(msg: str, name: str | None) -> DataError:
        return DataError(f"task {index}: {msg}", path=path, line=line, field=name)

    if not isinstance(raw, dict):
        raise fail(f"expected a task object, found {type(raw).__name__}", None)
    if "data" not in raw and "annotations" not in raw:
        if {"annotation_id", "annotator"} & set(raw) or FROM_NAME in raw:
            raise fail("this looks like Label Studio's JSON-MIN export, which keeps one "
                       "annotation per task; export as JSON (the full format)", None)
        raise fail(f"expected the keys 'data' and 'annotations' of Label Studio's JSON export, "
                   f"found {sorted(map(str, raw))[:12]}", None)
    task_id = raw.get("id")
    if task_id is not None and (isinstance(task_id, bool) or not isinstance(task_id, (int, str))):
        raise fail(f"expected an integer task id, found {type(task_id).__name__}", "id")
    data = raw.get("data")
    if not isinstance(data, dict):
        raise fail(f"expected an object of task data, found {_kind(data)}", "data")
    pair = _pair(data, fail)
    annotations = raw.get("annotations")
    if not isinstance(annotations, list):
        raise fail(f"expected a list of annotations, found {_kind(annotations)}", "annotations")
    latest: dict[str, Vote] = {}
    cancelled = 0
    for k, ann in enumerate(annotations):
        where = f"annotations[{k}]"
        if not isinstance(ann, dict):
            raise fail(f"expected an annotation object, found {_kind(ann)}", where)
        annotator = _annotator(ann.get("completed_by"), fail, f"{where}.completed_by")
        was_cancelled = ann.get("was_cancelled", False)
        if not isinstance(was_cancelled, bool):
            raise fail(f"expected true or false, found {_kind(was_cancelled)}",
                       f"{where}.was_cancelled")
        if was_cancelled:
            cancelled += 1
            continue
        choice = _choice(ann.get("result"), fail, where)
        ann_id = ann.get("id")
        if ann_id is not None and (isinstance(ann_id, bool) or not isinstance(ann_id, int)):
            raise fail(f"expected an integer annotation id, found {_kind(ann_id)}", f"{where}.id")
        truth = ann.get("ground_truth", False)
        vote = Vote(annotator, choice, ann_id, truth is True)
        before = latest.get(annotator)
        if before is None or (ann_id or 0) >= (before.annotation_id or 0):
            latest[annotator] = vote
    return AnnotatedTask(pair, task_id, line, tuple(latest.values()), cancelled)


def _pair(data: Mapping[str, Any], fail: Any) -> StancePair:
    raw = data.get("pair")
    prefix = "data.pair"
    if raw is None:  # tasks made elsewhere: the flat fields
        prefix = "data"
        raw = {k: data[k] for k in ("actor", "target", "text") if k in data}
        if "pair_id" in data:
            raw["id"] = data["pair_id"]
        missing = [k for k in ("actor", "target", "text") if k not in raw]
        if missing:
            raise fail(f"expected the pair stancekit exported (data.pair) or the fields actor, "
                       f"target and text; missing {missing}", f"data.{missing[0]}")
    if not isinstance(raw, dict):
        raise fail(f"expected the pair as an object, found {_kind(raw)}", prefix)
    if not isinstance(raw.get("id"), (str, int)) or isinstance(raw.get("id"), bool) or \
            not str(raw.get("id")).strip():
        raise fail(f"expected the pair's id as a non-empty string, found {_kind(raw.get('id'))}",
                   f"{prefix}.{'pair_id' if prefix == 'data' else 'id'}")
    try:
        return StancePair.from_dict({**raw, "id": str(raw["id"]), "label": None})
    except DataError as err:
        raise fail(err.reason, f"{prefix}.{err.field}" if err.field else prefix) from None


def _annotator(value: Any, fail: Any, where: str) -> str:
    if isinstance(value, dict):  # older exports: the user object
        value = value.get("email") or value.get("id")
        where += ".email"
    if isinstance(value, bool) or value is None or not isinstance(value, (int, str)) or \
            not str(value).strip():
        raise fail(f"expected the annotator's user id, found {_kind(value)}", where)
    return str(value)


def _choice(result: Any, fail: Any, where: str) -> str:
    if not isinstance(result, list):
        raise fail(f"expected a list of results, found {_kind(result)}", f"{where}.result")
    found = []
    for j, item in enumerate(result):
        if not isinstance(item, dict):
            raise fail(f"expected a result object, found {_kind(item)}", f"{where}.result[{j}]")
        if item.get("from_name") != FROM_NAME:
            continue  # other controls a project may add (notes, flags) are not the label
        value = item.get("value")
        choices = value.get("choices") if isinstance(value, dict) else None
        at = f"{where}.result[{j}].value.choices"
        if not isinstance(choices, list) or len(choices) != 1:
            raise fail(f"expected one choice, found {_kind(choices)}", at)
        if choices[0] not in CHOICE_TO_LABEL:
            raise fail(f"unknown choice {choices[0]!r}; the labeling config's choices are "
                       f"{list(CHOICES)}", at)
        found.append(choices[0])
    if not found:
        raise fail(f"the annotation has no '{FROM_NAME}' choice; was the project set up with "
                   "stancekit's labeling config?", f"{where}.result")
    if len(set(found)) > 1:
        raise fail(f"the annotation has several '{FROM_NAME}' choices {found}", f"{where}.result")
    return found[0]


def _kind(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    return type(value).__name__
