#!/usr/bin/env bash
# Two-process data-parallel training on CPU (gloo), the way torchrun/accelerate run it on GPUs:
# trains a tiny random BERT on synthetic pairs and checks that one complete model directory
# comes out. About a minute; not part of the test suite (it needs two free cores).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONPATH="$PWD:$PWD/tests"
"$PY" - "$TMP" <<'PY'
import json, sys
from pathlib import Path
from conftest import synthetic_pairs, tiny_vocab
from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast
tmp = Path(sys.argv[1])
tok = BertTokenizerFast(vocab=tiny_vocab(), do_lower_case=True)
BertForSequenceClassification(BertConfig(vocab_size=tok.vocab_size, hidden_size=32,
    num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)).save_pretrained(tmp / "enc")
tok.save_pretrained(tmp / "enc")
for name, n, seed in (("train", 240, 0), ("dev", 60, 1)):
    with open(tmp / f"{name}.jsonl", "w") as fh:
        for p in synthetic_pairs(n, seed=seed):
            fh.write(json.dumps(p.to_dict()) + "\n")
PY
"$PY" -m torch.distributed.run --nproc_per_node 2 -m stancekit.cli train \
  data.corpus=files data.train="$TMP/train.jsonl" data.dev="$TMP/dev.jsonl" \
  model.name_or_path="$TMP/enc" train.output_dir="$TMP/model" train.epochs=10 \
  train.learning_rate=3e-3 train.batch_size=8 train.early_stopping_patience=0 \
  encoding.max_length=48 --no-eval
test -f "$TMP/model/model.safetensors" && test -f "$TMP/model/stancekit.json"
echo "ddp smoke: OK (2 processes, gloo) -> one complete model directory"
