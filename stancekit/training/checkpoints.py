"""Checkpoints of a training run: resumed only by the run that wrote them (one run at a time
per output directory: `stancekit.fileio.exclusive`)."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from ..config import Config
from ..data.records import StancePair
from ..modeldir import fingerprint

logger = logging.getLogger(__name__)


def last_checkpoint(work: Path) -> str | None:
    """The newest complete checkpoint: one a kill cut half-written has no trainer_state.json,
    which the Trainer writes last."""
    if not work.is_dir():
        return None
    done = [p for p in work.glob("checkpoint-*")
            if p.name.split("-")[-1].isdigit() and (p / "trainer_state.json").is_file()]
    return str(max(done, key=lambda p: int(p.name.split("-")[-1]))) if done else None


def check_resumable(work: Path, config: Config, splits: dict[str, list[StancePair]]) -> None:
    """Checkpoints are resumed only by the run that wrote them: same config, same data.
    Anything else in the work directory is cleared (with a warning) before training."""
    job = {"config": config.to_dict(), "data": {k: fingerprint(v) for k, v in splits.items()
                                                if k in ("train", "dev")}}
    record = work / "job.json"
    if record.is_file():
        try:
            same = json.loads(record.read_text(encoding="utf-8")) == json.loads(json.dumps(job))
        except (OSError, ValueError):
            same = False
        if same:
            return
    stale = [p for p in work.iterdir() if p.name not in (".lock", "job.json")]
    if stale:
        logger.warning("%s holds checkpoints of another config or data; starting afresh", work)
        for p in stale:
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    record.write_text(json.dumps(job), encoding="utf-8")
