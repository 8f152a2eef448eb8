"""The Label Studio round trip against a real server (docs/adapt.md tells how it was run).

    label-studio start --no-browser --port 8089 --data-dir /tmp/ls/data --enable-legacy-api-token
    python scripts/label_studio_roundtrip.py --url http://localhost:8089 --token TOKEN \
        --model models/default --workdir /tmp/ls-roundtrip

Steps, each through the real thing: `stancekit select` (the example article and actor file) ->
`stancekit export` -> a project created through the API with stancekit's labeling config ->
the tasks imported -> two annotator accounts created -> annotations submitted through the API
(annotator A on every task, accepting two pre-annotations in three and skipping the last task;
annotator B on the first five, disagreeing once (a tie, left out) and once choosing "not about
this target" where A chose neutral) -> the project's JSON export downloaded -> `stancekit
import` -> `stancekit train` for two steps from the model. Prints what each step gave; exits
non-zero if any fails. ``tests/adapt/test_label_studio_server.py`` runs the same function with
the tiny test model.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(url: str, token: str, model: str | Path, workdir: str | Path, *,
        articles: Path = ROOT / "examples" / "article.jsonl",
        actors: Path = ROOT / "examples" / "actors.yaml", n: int = 12,
        train_overrides: tuple[str, ...] = (), backend: str = "auto") -> dict:
    """The whole round trip; returns what each step gave (counts, ids, the agreement)."""
    from stancekit.adapt.label_studio import NOT_ABOUT_TARGET
    from stancekit.adapt.label_studio_api import LabelStudioAPI
    from stancekit.adapt.label_studio_tasks import labeling_config
    from stancekit.cli import main

    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    picked, tasks_file = work / "to_label.jsonl", work / "tasks.json"
    export_file, mine = work / "export.json", work / "my_pairs.jsonl"
    log: dict = {}

    def cli(*args: str) -> None:
        rc = main([*map(str, args)])
        if rc != 0:
            raise SystemExit(f"stancekit {args[0]} exited with {rc}")

    cli("select", "--model", model, "--input", articles, "--actors", actors, "--n", n,
        "--random-share", "0.25", "--max-per-doc", "0", "--output", picked, "--overwrite",
        "--backend", backend)
    cli("export", "--format", "label-studio", "--input", picked, "--output", tasks_file,
        "--overwrite")
    tasks = json.loads(tasks_file.read_text(encoding="utf-8"))

    api = LabelStudioAPI(url, token)
    log["server"] = api.version()
    admin = api.whoami()
    project = api.create_project(f"stancekit round trip {time.strftime('%H:%M:%S')}",
                                 labeling_config())
    imported = api.import_tasks(project, tasks)
    log["project"], log["imported"] = project, imported.get("task_count")
    a = api.create_user("annotator-a@stancekit.test")
    b = api.create_user("annotator-b@stancekit.test")
    log["annotators"] = {"admin": admin["id"], "a": a, "b": b}
    server_tasks = sorted(api.tasks(project), key=lambda t: t["id"])
    submitted = 0
    for k, t in enumerate(server_tasks):
        pred = (t["data"]["pair"].get("meta") or {}).get("prediction") or {}
        label = pred.get("label", "neutral")
        if k % 3 == 0:  # A corrects every third pre-annotation
            label = "neutral" if label != "neutral" else "support"
        if k == 2:  # where B will answer "not about this target"
            label = "neutral"
        if k == len(server_tasks) - 1:
            api.annotate(t["id"], None, a, cancelled=True)  # A skips the last task
        else:
            api.annotate(t["id"], label, a)
        submitted += 1
        if k < 5:
            other = {1: "condemn" if label != "condemn" else "support",
                     2: NOT_ABOUT_TARGET}.get(k, label)
            api.annotate(t["id"], other, b)
            submitted += 1
    log["annotations_submitted"] = submitted
    export = api.export(project)
    export_file.write_text(json.dumps(export, indent=1, ensure_ascii=False), encoding="utf-8")
    log["exported_tasks"] = len(export)
    cli("import", "--format", "label-studio", "--input", export_file, "--output", mine,
        "--overwrite")
    report = json.loads(mine.with_name(mine.stem + ".agreement.json").read_text())
    log["import"] = report["counts"]
    log["alpha_labels"] = report["agreement"]["alpha_labels"]
    log["annotators_in_pairs"] = sorted({x for line in mine.read_text().splitlines()
                                         for x in json.loads(line)["meta"]["annotators"]})
    out = work / "model"
    # one example article: no second document to hold out as dev, so dev is the train file
    # itself; two steps show that the labels train, not what they are worth
    cli("train", "data.corpus=files", f"data.train={mine}", f"data.dev={mine}",
        f"model.name_or_path={model}", f"train.output_dir={out}", "train.max_steps=2",
        "train.batch_size=4", "train.collapse_retries=0", *train_overrides, "--no-eval")
    log["trained"] = (out / "model.safetensors").is_file()
    return log


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://localhost:8089")
    ap.add_argument("--token", required=True, help="an API token (legacy token) of the server")
    ap.add_argument("--model", default="models/default")
    ap.add_argument("--workdir", default="ls-roundtrip")
    ap.add_argument("--n", type=int, default=12)
    args = ap.parse_args(argv)
    log = run(args.url, args.token, args.model, args.workdir, n=args.n)
    print(json.dumps(log, indent=1))
    return 0 if log["trained"] else 1


if __name__ == "__main__":
    sys.exit(main())
