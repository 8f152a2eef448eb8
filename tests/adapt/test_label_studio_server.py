"""The round trip against a real Label Studio server (marker ``label_studio``; skipped without
one). Start a server and point the test at it:

    label-studio start --no-browser --port 8089 --data-dir /tmp/ls/data --enable-legacy-api-token
    STANCEKIT_LABEL_STUDIO_URL=http://localhost:8089 STANCEKIT_LABEL_STUDIO_TOKEN=... \
        python -m pytest -m label_studio tests/adapt/test_label_studio_server.py

It runs `scripts/label_studio_roundtrip.py`'s `run` with the tiny test model: select, export,
project + tasks + two annotators' annotations through the API, export, import, train 2 steps.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.label_studio
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "label_studio_roundtrip.py"


@pytest.fixture
def server() -> tuple[str, str]:
    from stancekit.adapt.label_studio_api import LabelStudioAPI, LabelStudioError

    url = os.environ.get("STANCEKIT_LABEL_STUDIO_URL")
    token = os.environ.get("STANCEKIT_LABEL_STUDIO_TOKEN")
    if not url or not token:
        pytest.skip("no Label Studio server: set STANCEKIT_LABEL_STUDIO_URL and "
                    "STANCEKIT_LABEL_STUDIO_TOKEN (see docs/adapt.md)")
    try:
        LabelStudioAPI(url, token, timeout=10).whoami()
    except LabelStudioError as err:
        pytest.skip(f"the Label Studio server at {url} is not available ({err})")
    return url, token


def test_round_trip_against_a_real_server(server, trained_model: Path, tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("label_studio_roundtrip", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    log = script.run(*server, trained_model, tmp_path, n=12,
                     train_overrides=("encoding.max_length=48",), backend="torch")
    assert log["imported"] == 12 and log["exported_tasks"] == 12, log
    assert log["annotations_submitted"] == 17
    counts = log["import"]
    # 12 tasks: the last only skipped (not annotated); task 1 a tie between A and B (left out)
    assert counts["tasks"] == 12 and counts["unannotated"] == 1 and counts["conflicts"] == 1
    assert counts["labelled"] == 10 and counts["cancelled"] == 1
    a, b = str(log["annotators"]["a"]), str(log["annotators"]["b"])
    assert log["annotators_in_pairs"] == sorted([a, b])
    assert log["alpha_labels"]["n_tasks"] == 5
    assert log["trained"]
