"""Inference throughput and memory, measured in ONE process so the ratios are comparable.

Usage:
    python scripts/benchmark_inference.py [--model models/default] [--pairs 10000]
    python scripts/benchmark_inference.py --million [--model ...] [--backend onnx-int8]

Default mode: the same model and the same >= 10k labeled pairs (dsa_news train+valid when
../shared/datasets is there, else the embedded corpus repeated) go through
`transformers.pipeline("text-classification")` fed text/text_pair exactly as stancekit
formats them, in fp32 and in bf16 (``dtype=torch.bfloat16``), then through each stancekit
backend; model load included in every timing. Printed per system: pairs/s, ratio to the fp32
pipeline and to the bf16 pipeline, peak RSS during the run, macro-F1 on the gold labels, and
label agreement with stancekit fp32 (``torch``). Targets: >= 5x the fp32 pipeline and >= 2x
the bf16 pipeline, with labels agreeing >= 99.5 % and macro-F1 within 0.5 points of fp32.

--million: streams N (default 1,000,000) generated pairs through `stancekit predict`'s file
path (`predict_file`) and prints the process's peak RSS (target < 1.5 GB).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

from stancekit.data.records import StancePair
from stancekit.metrics import stance_metrics
from stancekit.prediction import StanceClassifier

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class PeakRSS:
    """Samples the process's resident memory in a thread; ``peak`` is the max seen."""

    def __init__(self, interval: float = 0.05) -> None:
        import psutil

        self.proc, self.interval, self.peak = psutil.Process(), interval, 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakRSS:
        self.peak = self.proc.memory_info().rss
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def labeled_pairs(n: int) -> tuple[list[StancePair], str]:
    from stancekit.data.public import read_dsa_news, shared_datasets_dir

    folder = shared_datasets_dir() / "dsa_news"
    if (folder / "train.txt").is_file():
        pairs = list(read_dsa_news(folder / "valid.txt")) + list(read_dsa_news(folder / "train.txt"))
        source = "dsa_news valid+train (p->q)"
    else:
        from stancekit.corpus import load_embedded_splits

        pairs = [p for split in load_embedded_splits().values() for p in split]
        source = "embedded corpus (all splits, repeated)"
    out = [pairs[i % len(pairs)] for i in range(n)]
    return [StancePair(id=str(i), actor=p.actor, target=p.target, text=p.text, label=p.label,
                       actor_spans=p.actor_spans, target_spans=p.target_spans, meta=p.meta)
            for i, p in enumerate(out)], source


def run_pipeline(model_dir: str, clf: StanceClassifier, pairs: list[StancePair], batch_size: int,
                 dtype: str) -> list[str]:
    import torch
    from transformers import pipeline

    pipe = pipeline("text-classification", model=model_dir, tokenizer=model_dir, device="cpu",
                    top_k=None, dtype=getattr(torch, dtype))
    first, second = clf.formatter.texts(pairs)
    inputs = [{"text": a, "text_pair": b} for a, b in zip(first, second)]
    outs = pipe(inputs, batch_size=batch_size, truncation="only_second",
                max_length=clf.formatter.config.max_length)
    return [max(o, key=lambda d: d["score"])["label"] for o in outs]


def compare(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads or torch.get_num_threads())
    pairs, source = labeled_pairs(args.pairs)
    gold = [p.label for p in pairs]
    fp32 = StanceClassifier.from_pretrained(args.model, backend="torch")
    if fp32.stacker:
        print("note: the model stacks a lexical model; the pipeline sees the transformer alone, "
              "so F1 of the pipeline and stancekit differ by the stack's effect")
    print(f"model {args.model}; {len(pairs):,} pairs from {source}; "
          f"{torch.get_num_threads()} threads\n")
    rows = []
    systems = [(f"pipeline {d} (batch {args.pipeline_batch})", "pipeline", d)
               for d in ("float32", "bfloat16")] + \
              [(f"stancekit {b}", b, None) for b in args.backends]
    reference = None
    for name, kind, dtype in systems:
        with PeakRSS() as mem:
            start = time.perf_counter()  # model load included, for every system
            if kind == "pipeline":
                labels = run_pipeline(args.model, fp32, pairs, args.pipeline_batch, dtype)
            else:
                clf = StanceClassifier.from_pretrained(args.model, backend=kind)
                labels = [p.label for p in clf.predict(pairs, batch_size=args.batch_size)]
            seconds = time.perf_counter() - start
        if kind == "torch":
            reference = labels
        rows.append({"system": name, "pairs_s": len(pairs) / seconds, "peak_rss_mb": mem.peak / 2**20,
                     "f1": stance_metrics(gold, labels)["f1_macro"], "labels": labels})
        print(f"  {name}: {len(pairs) / seconds:.1f} pairs/s", flush=True)
    base, base_bf16 = rows[0]["pairs_s"], rows[1]["pairs_s"]
    print("\n| system | pairs/s | × pipeline fp32 | × pipeline bf16 | peak RSS MB | macro-F1 | "
          "agreement with fp32 |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        agree = (sum(a == b for a, b in zip(r["labels"], reference)) / len(reference)
                 if reference else float("nan"))
        print(f"| {r['system']} | {r['pairs_s']:.1f} | {r['pairs_s'] / base:.2f} | "
              f"{r['pairs_s'] / base_bf16:.2f} | {r['peak_rss_mb']:.0f} | {r['f1']:.4f} | "
              f"{agree:.4f} |")


def million(args: argparse.Namespace) -> None:
    import resource

    import torch

    from stancekit.streaming import predict_file

    torch.set_num_threads(args.threads or torch.get_num_threads())
    rng = random.Random(0)
    actors = ["Saudi Arabia", "Iran", "Turkey", "the European Union", "Kenya", "Brazil"]
    targets = ["the offensive", "the ruling", "the merger", "the strike", "the tariffs"]
    verbs = ["backed", "condemned", "took note of", "welcomed", "rejected", "urged calm over"]
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "pairs.jsonl", Path(tmp) / "preds.jsonl"
        with open(src, "w", encoding="utf-8") as fh:
            for i in range(args.n):
                a, t = rng.choice(actors), rng.choice(targets)
                fh.write(json.dumps({"id": f"g{i}", "actor": a, "target": t,
                                     "text": f"{a} {rng.choice(verbs)} {t} on day {i % 365}, "
                                             "officials said."}) + "\n")
        clf = StanceClassifier.from_pretrained(args.model, backend=args.backend)
        start = time.perf_counter()
        with PeakRSS(interval=0.5) as mem:
            counts = predict_file(clf, src, out, batch_size=args.batch_size, progress=True)
        seconds = time.perf_counter() - start
        with open(out, encoding="utf-8") as fh:
            lines = sum(1 for _ in fh)
    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{counts['predicted']:,} pairs predicted, {lines:,} output lines in {seconds / 60:.1f} min "
          f"({counts['predicted'] / seconds:.0f} pairs/s, backend {args.backend})")
    print(f"peak RSS during prediction {mem.peak / 2**20:.0f} MB (getrusage max {ru:.0f} MB); "
          f"bound 1536 MB: {'OK' if mem.peak < 1.5 * 2**30 else 'EXCEEDED'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "default"))
    parser.add_argument("--pairs", type=int, default=5_000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--pipeline-batch", type=int, default=32)
    parser.add_argument("--backends", nargs="+",
                        default=["torch", "torch-bf16", "torch-int8", "onnx", "onnx-int8"])
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--million", action="store_true")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--backend", default="onnx-int8")
    args = parser.parse_args()
    million(args) if args.million else compare(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
