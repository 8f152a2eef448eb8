"""`pip install` of stancekit keeps the torch already in the environment (scripts/check_install.sh):
a fresh venv with torch 2.6.0, the oldest the package admits, then the package. Downloads
torch and its CUDA libraries (several GB), so it runs only when asked."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("STANCEKIT_CHECK_INSTALL"),
                    reason="downloads torch and CUDA libraries (GBs); set "
                           "STANCEKIT_CHECK_INSTALL=1 "
                           "or run scripts/check_install.sh")
def test_pip_install_keeps_the_users_torch(tmp_path: Path) -> None:
    version = os.environ.get("STANCEKIT_CHECK_TORCH", "2.6.0")
    run = subprocess.run(["bash", str(ROOT / "scripts" / "check_install.sh"), version,
                          str(tmp_path / "venv")], capture_output=True, text=True, timeout=3600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert f"OK: torch {version}" in run.stdout
