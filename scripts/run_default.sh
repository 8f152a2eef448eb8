#!/usr/bin/env bash
# The main job, from a fresh clone: set up .venv, train the default model on the embedded
# corpus with the packaged all-mpnet-base-v2 (about 50 minutes on 2 CPU cores with bf16, see
# configs/default.yaml), print its evaluation beside the baselines, then the actor table for a
# project-written example article. Extra key=value arguments go to `stancekit train`.
# An existing models/default is evaluated instead of retrained (delete it to retrain).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
SK=.venv/bin/stancekit
if [ -f models/default/stancekit.json ]; then
  echo "models/default exists: evaluating it (delete the directory to retrain)"
  $SK evaluate --model models/default
else
  $SK train --config configs/default.yaml "$@"
fi
echo
echo "== actor table for examples/article.jsonl (a fictional article the model never saw) =="
$SK predict --model models/default --input examples/article.jsonl --actors examples/actors.yaml \
  --output models/default/example_table.jsonl --table models/default/example_table.csv --overwrite
