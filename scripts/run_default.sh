#!/usr/bin/env bash
# The main job, from a fresh clone: set up .venv, train the default model (configs/default.yaml:
# the packaged all-mpnet-base-v2 on the embedded corpus, with dsa_news mixed in where
# ../shared/datasets has it), print its evaluation beside the baselines, then the actor table
# for a project-written example article. Extra key=value arguments go to `stancekit train`.
# An existing model directory is evaluated instead of retrained (delete it to retrain).
# scripts/quickstart.sh runs the same steps with configs/quick.yaml in a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
SK=.venv/bin/stancekit
CONFIG=${STANCEKIT_CONFIG:-configs/default.yaml}
MODEL=${STANCEKIT_MODEL:-models/default}
if [ -f "$MODEL/stancekit.json" ]; then
  echo "$MODEL exists: evaluating it (delete the directory to retrain)"
  $SK evaluate --model "$MODEL"
else
  $SK train --config "$CONFIG" train.output_dir="$MODEL" "$@"
fi
echo
echo "== actor table for examples/article.jsonl (a fictional article the model never saw) =="
$SK predict --model "$MODEL" --input examples/article.jsonl --actors examples/actors.yaml \
  --output "$MODEL/example_table.jsonl" --table "$MODEL/example_table.csv" --overwrite
