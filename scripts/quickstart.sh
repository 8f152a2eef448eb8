#!/usr/bin/env bash
# The first five minutes: the same steps as scripts/run_default.sh with configs/quick.yaml
# (MiniLM on a 1,500-pair slice, 2 epochs) into models/quick: set up .venv, train, evaluate,
# print the example article's actor table. A demonstration of the path, not a good model.
set -euo pipefail
cd "$(dirname "$0")/.."
STANCEKIT_CONFIG=configs/quick.yaml STANCEKIT_MODEL=models/quick exec bash scripts/run_default.sh "$@"
