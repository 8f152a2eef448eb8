#!/usr/bin/env bash
# Install stancekit the way a user does (`pip install .`, no constraints.txt) into a fresh venv
# that already holds a DIFFERENT torch, and check that pip keeps that torch and that stancekit
# works with it (a few tests on the tiny random BERT). Downloads torch and its CUDA libraries
# from PyPI (several GB) unless they are cached.
#
#   bash scripts/check_install.sh [TORCH_VERSION] [VENV_DIR]    # default: 2.6.0, a temp dir
set -euo pipefail
cd "$(dirname "$0")/.."
TORCH=${1:-2.6.0}
VENV=${2:-$(mktemp -d)/venv}
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
echo "venv: $VENV (torch $TORCH first, then stancekit)"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q "torch==$TORCH"   # the user's own torch, with its deps
"$VENV/bin/python" -m pip install -q . pytest             # stancekit as a user installs it
got=$("$VENV/bin/python" -c "import torch; print(torch.__version__)")
if [ "${got%%+*}" != "$TORCH" ]; then
  echo "FAIL: installing stancekit replaced torch $TORCH with $got"
  exit 1
fi
"$VENV/bin/python" -m pip check
# transformers disables PyTorch below the version it needs: the range must not admit such a torch
"$VENV/bin/python" -c "
import stancekit, transformers
from transformers.utils import is_torch_available
assert is_torch_available(), 'transformers ' + transformers.__version__ + ' refuses this torch'
print('stancekit', stancekit.__version__, 'transformers', transformers.__version__)"
# the installed package (not this checkout) under a few tests: predict, save/load, a short training
cp -r tests "$VENV/../tests"
(cd "$VENV/.." && HF_HUB_OFFLINE=1 "$VENV/bin/python" -m pytest -q -p no:cacheprovider \
  tests/test_prediction.py tests/test_hub.py tests/training/test_small_runs.py)
echo "OK: torch $got kept; stancekit works with it"
