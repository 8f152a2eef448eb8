"""Crashes and the output directory: training killed with SIGKILL resumes from its last
checkpoint with the same metrics; a model directory is complete or absent; two runs never
share an output; nothing is written outside it; the same seed gives the same run.

The tests that need a finished run share the module's ``crash_run`` (about 20 s)."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stancekit.cli import main
from stancekit.config import load_config
from stancekit.data.records import StancePair
from stancekit.errors import StanceKitError
from stancekit.prediction import StanceClassifier

ROOT = Path(__file__).resolve().parents[2]


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def one_thread():
    """Training in this process on one thread: two cores shared with other jobs make torch's
    default threads contend, ten times slower; one thread is also what the subprocesses use."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# --------------------------------------------------------------------------- crashes


CRASH_OVERRIDES = ["data.corpus=files", "train.epochs=6", "train.learning_rate=3e-3",
                   "train.batch_size=16", "train.warmup=0.0", "train.early_stopping_patience=0",
                   "train.evals_per_epoch=1", "encoding.max_length=48", "train.seed=42"]


def _escaping(pairs: list[StancePair], seed: int) -> list[StancePair]:
    """The pairs with ids and doc ids that look like paths out of the output directory."""
    return [dataclasses.replace(p, id=f"../../escape/{seed}-{p.id}", doc_id=f"../{p.doc_id}")
            for p in pairs]


@pytest.fixture(scope="module")
def crash_run(tiny_encoder: str, tmp_path_factory: pytest.TempPathFactory, synthetic_pairs,
              jsonl) -> dict:
    """A training run (300 pairs, 6 checkpoints) run three ways in subprocesses: uninterrupted;
    SIGKILLed once its first checkpoint is complete; and rerun with the same command."""
    root = tmp_path_factory.mktemp("crash")
    train_file, dev_file = root / "train.jsonl", root / "dev.jsonl"
    train_file.write_bytes(jsonl(*[p.to_dict() for p in _escaping(synthetic_pairs(300), 0)]))
    dev_file.write_bytes(jsonl(*[p.to_dict() for p in _escaping(synthetic_pairs(60, seed=1), 1)]))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}

    def args(out: Path) -> list[str]:
        return ["train", f"data.train={train_file}", f"data.dev={dev_file}",
                f"model.name_or_path={tiny_encoder}", f"train.output_dir={out}",
                *CRASH_OVERRIDES]

    def command(out: Path) -> list[str]:
        return [sys.executable, "-m", "stancekit.cli", *args(out)]

    started = time.monotonic()
    ref = subprocess.run(command(root / "ref"), env=env, capture_output=True, text=True,
                         cwd=root, timeout=300)
    assert ref.returncode == 0, ref.stderr[-3000:]

    out = root / "crashed"
    attempt = root / "crashed.work" / "attempt-0"
    proc = subprocess.Popen(command(out), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=root)
    killed_at = None
    deadline = time.monotonic() + 240
    while proc.poll() is None and time.monotonic() < deadline:
        # trainer_state.json is the last file of a checkpoint: once it parses, it is complete
        for state in attempt.glob("checkpoint-*/trainer_state.json"):
            try:
                json.loads(state.read_text())
            except (OSError, ValueError):
                continue
            os.kill(proc.pid, signal.SIGKILL)
            killed_at = state.parent.name
            break
        if killed_at:
            break
        time.sleep(0.01)
    proc.wait()
    assert killed_at, "training ended before its first checkpoint; give it more steps"
    after_kill = {"out_exists": out.exists(),
                  "checkpoints": sorted(p.name for p in attempt.glob("checkpoint-*"))}
    resumed = subprocess.run(command(out), env=env, capture_output=True, text=True, cwd=root,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    return {"root": root, "ref": root / "ref", "out": out, "killed_at": killed_at,
            "after_kill": after_kill, "resumed_log": resumed.stderr, "args": args,
            "seconds": time.monotonic() - started}


def assert_same_metrics(got: dict, ref: dict) -> None:
    """Equal within 1e-9 for numbers, exactly for the rest (the confusion matrix)."""
    assert got.keys() == ref.keys()
    for key, value in ref.items():
        if isinstance(value, float):
            assert got[key] == pytest.approx(value, abs=1e-9), key
        else:
            assert got[key] == value, key


def _weights(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(path / "model.safetensors")


def _max_weight_diff(a: Path, b: Path) -> float:
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    return max(float((wa[k].float() - wb[k].float()).abs().max()) for k in wa)


def test_sigkill_resumes_from_last_checkpoint_with_the_same_metrics(crash_run: dict) -> None:
    """Tolerance: every dev metric equal to 1e-9, every weight equal to 1e-6 (on one machine
    the resumed run is in fact bit-identical: optimizer, scheduler and RNG states are
    restored from the checkpoint)."""
    assert crash_run["after_kill"]["out_exists"] is False  # killed: no model directory at all
    assert crash_run["killed_at"] in crash_run["after_kill"]["checkpoints"]
    work = crash_run["out"].with_name("crashed.work")
    assert f"resuming from {work / 'attempt-0' / crash_run['killed_at']}" in \
        crash_run["resumed_log"]
    ref = json.loads((crash_run["ref"] / "stancekit.json").read_text())
    got = json.loads((crash_run["out"] / "stancekit.json").read_text())
    assert ref["steps"] == got["steps"] == 6 * 19  # 6 epochs of 300/16 steps, 6 checkpoints
    assert ref["dev_metrics"]["dev_f1_macro"] > ref["dev_majority_f1_macro"] + 0.05
    assert_same_metrics(got["dev_metrics"], ref["dev_metrics"])
    assert _max_weight_diff(crash_run["ref"], crash_run["out"]) <= 1e-6
    StanceClassifier.from_pretrained(crash_run["out"])  # complete: it loads
    assert not work.exists()  # checkpoints cleaned up after success


def test_training_writes_nothing_outside_its_output_directory(crash_run: dict) -> None:
    """Ids like ``../../escape/...`` go into the data fingerprint, never into a path; after the
    runs the folder holds the inputs and the two model directories, no temp or work dirs."""
    root = crash_run["root"]
    assert {p.name for p in root.iterdir()} == {"train.jsonl", "dev.jsonl", "ref", "crashed"}
    assert not any("escape" in p.name for p in root.parent.rglob("*"))
    assert sorted(p.name for p in crash_run["ref"].iterdir()) == sorted(
        p.name for p in crash_run["out"].iterdir())


def test_same_config_seed_and_data_give_the_same_metrics(crash_run: dict, tmp_path: Path,
                                                         one_thread) -> None:
    """Reproducibility: the uninterrupted run again, in this process, on the same machine."""
    out = tmp_path / "again"
    assert main(crash_run["args"](out)) == 0
    ref = json.loads((crash_run["ref"] / "stancekit.json").read_text())
    again = json.loads((out / "stancekit.json").read_text())
    assert_same_metrics(again["dev_metrics"], ref["dev_metrics"])
    assert again["data"] == ref["data"]  # same fingerprints
    assert _max_weight_diff(crash_run["ref"], out) <= 1e-6


@pytest.mark.parametrize("existing", [False, True], ids=["fresh", "replacing-a-model"])
def test_model_directory_is_complete_or_absent(crash_run: dict, tiny_encoder: str,
                                               tmp_path: Path, monkeypatch, one_thread,
                                               existing: bool, synthetic_pairs) -> None:
    """A failure while the model directory is written (disk full, here) leaves no half-written
    directory: a fresh output is absent, a model being replaced is left as it was."""
    import stancekit.model_card
    import stancekit.training.loop

    out = tmp_path / "model"
    if existing:
        shutil.copytree(crash_run["ref"], out)
    before = digest(out) if existing else None

    def disk_full(path: Path, meta: dict) -> None:
        path.write_text("half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(stancekit.model_card, "write_model_card", disk_full)
    monkeypatch.setattr(stancekit.training.loop, "COLLAPSE_MARGIN", -1.0)  # one quick epoch will do
    cfg = load_config(None, [f"model.name_or_path={tiny_encoder}", f"train.output_dir={out}",
                             "train.epochs=1", "train.collapse_retries=0", "train.batch_size=8",
                             "encoding.max_length=32"])
    with pytest.raises(OSError, match="No space left on device"):
        stancekit.training.train(cfg, {"train": synthetic_pairs(60),
                                       "dev": synthetic_pairs(12, seed=1)}, overwrite=existing)
    assert (digest(out) if existing else out.exists()) == (before if existing else False)
    assert not [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name or ".old-" in p.name]


def test_concurrent_run_on_the_same_output_is_refused(small_data, tmp_path: Path,
                                                      cli_error) -> None:
    out = tmp_path / "m"
    work = tmp_path / "m.work"
    work.mkdir()
    with open(work / ".lock", "w") as other_run:  # another process's lock, as flock sees it
        fcntl.flock(other_run, fcntl.LOCK_EX | fcntl.LOCK_NB)
        message = cli_error(["train", "data.corpus=files", f"data.train={small_data[0]}",
                             f"data.dev={small_data[1]}", f"train.output_dir={out}"])
    assert message == (f"error: {work}: another training run is writing this output directory; "
                       "wait for it or choose another train.output_dir")
    assert not out.exists()


def test_half_written_checkpoint_is_skipped_on_resume(crash_run: dict, tmp_path: Path,
                                                      one_thread) -> None:
    out = tmp_path / "m"
    half = tmp_path / "m.work" / "attempt-0" / "checkpoint-999"
    half.mkdir(parents=True)
    (half / "config.json").write_text("{}")  # killed while saving: no weights, no state
    assert main(crash_run["args"](out)) == 0


def test_existing_directory_that_is_not_a_model_is_never_replaced(
        tiny_encoder: str, tmp_path: Path, monkeypatch, one_thread, synthetic_pairs) -> None:
    import stancekit.model_card
    import stancekit.training.loop
    from stancekit.training import train

    monkeypatch.setattr(stancekit.training.loop, "COLLAPSE_MARGIN", -1.0)  # one quick epoch will do
    out = tmp_path / "papers"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    cfg = load_config(None, [f"model.name_or_path={tiny_encoder}", f"train.output_dir={out}",
                             "train.epochs=1", "train.collapse_retries=0", "train.batch_size=8",
                             "encoding.max_length=32"])
    with contextlib.suppress(StanceKitError):  # refusing is the fix; deleting is the bug
        train(cfg, {"train": synthetic_pairs(30), "dev": synthetic_pairs(12, seed=1)})
    assert (out / "thesis.tex").read_text() == "years of work"


def test_model_directory_weights_are_safetensors_only(crash_run: dict) -> None:
    names = {p.name for p in crash_run["ref"].iterdir()}
    assert "model.safetensors" in names
    assert not [n for n in names if n.endswith((".bin", ".pt", ".pth", ".pkl", ".pickle",
                                                ".joblib", ".npy", ".npz"))]
