"""Time of the long-article path, which must grow linearly with the article's length.

Usage:
    python scripts/benchmark_articles.py [--sizes 10000,100000,1000000] [--model DIR]
        [--one-paragraph] [--threads 1]

The article is the project-written example (`examples/article.jsonl`, six actors in
`examples/actors.yaml`) repeated up to each size, its copies separated by a blank line
(``--one-paragraph``: by a space, one endless paragraph). Printed per size: the sentences,
the pairs (evidence windows x targets), the time of pair building alone (`PairBuilder.build`
with the model's token counter), and of `stancekit predict --actors` end to end
(`predict_articles`: reading, pair building, prediction, aggregation; the model is loaded once
before). Without ``--model`` a tiny random BERT (2 layers, hidden 32) is built in a temporary
directory, so that the model's share of the time stays small. Times are wall-clock seconds
with the process's CPU seconds in brackets (the latter barely move when other work shares the
machine). Figures: `docs/scaling.md`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from stancekit.data.articles import Article, load_actor_file
from stancekit.data.pair_builder import PairBuilder
from stancekit.data.sentences import _sentence_spans, split_sentences
from stancekit.prediction import StanceClassifier
from stancekit.streaming import predict_articles

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def tiny_model(path: Path, text: str) -> Path:
    """A complete model directory holding a random 2-layer BERT whose vocabulary is the
    article's words: fast enough that the time measured is stancekit's."""
    import re

    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    from stancekit.config import Config
    from stancekit.encoding import PairFormatter
    from stancekit.labels import ID2LABEL, LABEL2ID, LABELS

    torch.manual_seed(0)
    chars = sorted(set(text.lower()) - set(" \n"))
    words = sorted(set(re.findall(r"\w+", text.lower())))
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words, *chars,
             *(f"##{c}" for c in chars)]
    vocab_file = path.parent / "vocab.txt"
    vocab_file.write_text("\n".join(dict.fromkeys(vocab)) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab_file=str(vocab_file), do_lower_case=True)
    config = Config()
    formatter = PairFormatter(config.encoding)
    tokenizer.add_tokens(formatter.marker_tokens, special_tokens=True)
    model = BertForSequenceClassification(BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=512, num_labels=len(LABELS),
        id2label=ID2LABEL, label2id=LABEL2ID))
    model.save_pretrained(path, safe_serialization=True)
    tokenizer.save_pretrained(path)
    meta = {"labels": list(LABELS), "encoding": formatter.to_dict(), "config": config.to_dict(),
            "temperature": 1.0, "stacker": None}
    (path / "stancekit.json").write_text(json.dumps(meta), encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="article lengths in characters, comma-separated")
    parser.add_argument("--model", default=None, help="model directory (default: a tiny "
                        "random BERT built in a temporary directory)")
    parser.add_argument("--one-paragraph", action="store_true",
                        help="no line breaks: the article is one endless paragraph")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    example = json.loads((ROOT / "examples" / "article.jsonl").read_text(encoding="utf-8")
                         .splitlines()[0])["text"]
    actors, targets = load_actor_file(ROOT / "examples" / "actors.yaml")
    sep = " " if args.one_paragraph else "\n\n"
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        model_dir = Path(args.model) if args.model else tiny_model(tmp_path / "model", example)
        start = time.perf_counter()
        clf = StanceClassifier.from_pretrained(model_dir, backend="torch", device="cpu")
        print(f"model {args.model or 'tiny random BERT'} loaded in "
              f"{time.perf_counter() - start:.1f} s; {torch.get_num_threads()} torch threads; "
              f"{'one paragraph' if args.one_paragraph else 'paragraphs'}\n")
        print("| characters | sentences | pairs | pair building, s (CPU s) "
              "| end to end, s (CPU s) |", flush=True)
        print("|---:|---:|---:|---:|---:|")
        for size in (int(s) for s in args.sizes.split(",")):
            text = sep.join([example] * (size // len(example) + 1))[:size]
            article = Article(id=f"long-{size}", text=text, actors=actors, targets=targets)
            builder = PairBuilder.for_classifier(clf, actors=actors, targets=targets)
            _sentence_spans.cache_clear()  # each timing splits the text itself
            start, cpu = time.perf_counter(), time.process_time()
            pairs = builder.build(article)
            built = (time.perf_counter() - start, time.process_time() - cpu)
            n_sentences = len(split_sentences(text))
            _sentence_spans.cache_clear()
            src = tmp_path / f"article-{size}.jsonl"
            src.write_text(json.dumps({"id": article.id, "text": text}) + "\n", encoding="utf-8")
            start, cpu = time.perf_counter(), time.process_time()
            counts = predict_articles(clf, src, tmp_path / f"stances-{size}.jsonl",
                                      actors_path=ROOT / "examples" / "actors.yaml",
                                      progress=False, overwrite=True)
            total = (time.perf_counter() - start, time.process_time() - cpu)
            assert counts["pairs"] == len(pairs)
            print(f"| {size:,} | {n_sentences:,} | {len(pairs):,} "
                  f"| {built[0]:.2f} ({built[1]:.2f}) | {total[0]:.2f} ({total[1]:.2f}) |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
