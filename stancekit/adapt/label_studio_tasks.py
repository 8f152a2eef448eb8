"""Label Studio tasks out: the project's labeling config (`labeling_config`) and one task per
pair (`task`, `write_tasks`), with the actor and target marked in the text and the model's
prediction as a pre-annotation. The export comes back through `stancekit.adapt.label_studio`."""
from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..data.mentions import pair_mentions
from ..data.records import StancePair
from .label_studio import ACTOR_STYLE, CHOICES, FROM_NAME, TARGET_STYLE, TO_NAME


def labeling_config() -> str:
    """The Label Studio labeling config (XML) that `task` fills."""
    choices = "\n".join(
        f'    <Choice value="{html.escape(c, quote=True)}" hotkey="{h}"/>'
        for c, h in zip(CHOICES, "sncx"))
    return f"""<View>
  <Header value="How does $actor stand on $target?"/>
  <HyperText name="{TO_NAME}" value="$html"/>
  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="single-radio" showInline="true"
           required="true">
{choices}
  </Choices>
</View>
"""


def highlight(text: str, actor: Sequence[tuple[int, int]], target: Sequence[tuple[int, int]]
              ) -> str:
    """``text`` escaped, with the actor's mentions and the target's in two inline-styled
    ``<span>``s (inline: Label Studio shows the HTML without a stylesheet; the audit report
    uses it too). A target mention overlapping an actor mention is left unmarked."""
    marks = [(s, t, ACTOR_STYLE, "actor") for s, t in actor]
    marks += [(s, t, TARGET_STYLE, "target") for s, t in target
              if not any(s < at and a0 < t for a0, at in actor)]
    out, last = [], 0
    for start, end, style, kind in sorted(marks):
        if start < last:  # overlapping mentions of one side: the first is marked
            continue
        out.append(html.escape(text[last:start]))
        out.append(f'<span style="{style}" title="{kind}">{html.escape(text[start:end])}</span>')
        last = end
    out.append(html.escape(text[last:]))
    return "".join(out)


def highlighted_html(pair: StancePair) -> str:
    """The pair's text as HTML: escaped, with the actor's and the target's mentions marked,
    under a legend naming both."""
    actor, target = pair_mentions(pair)
    legend = (f'<span style="{ACTOR_STYLE}">actor: {html.escape(pair.actor)}</span> &nbsp; '
              f'<span style="{TARGET_STYLE}">target: {html.escape(pair.target)}</span>')
    return (f'<p style="font-size:12px;color:#5b6475">{legend}</p>'
            f'<p style="font-size:16px;line-height:1.6">{highlight(pair.text, actor, target)}</p>')


def task(pair: StancePair, prediction: Mapping[str, Any] | None = None, *,
         model_version: str = "stancekit") -> dict[str, Any]:
    """One Label Studio task for ``pair``; ``prediction`` (``{"label", "probs"}``) becomes the
    pre-annotation, its probability the score."""
    out: dict[str, Any] = {"data": {"pair_id": pair.id, "actor": pair.actor, "target": pair.target,
                                    "text": pair.text, "html": highlighted_html(pair),
                                    "pair": pair.to_dict()}}
    if prediction:
        label = prediction["label"]
        score = float(prediction.get("probs", {}).get(label, 0.0))
        out["predictions"] = [{"model_version": model_version, "score": round(score, 6),
                               "result": [{"from_name": FROM_NAME, "to_name": TO_NAME,
                                           "type": "choices", "value": {"choices": [label]}}]}]
    return out


def write_tasks(pairs: Sequence[StancePair], path: str | Path, *,
                predictions: Sequence[Mapping[str, Any] | None] | None = None,
                model_version: str = "stancekit") -> Path:
    """Write Label Studio tasks (a JSON list, importable as is) and return the path."""
    from ..fileio import replacing

    preds = predictions if predictions is not None else [None] * len(pairs)
    tasks = [task(p, pr, model_version=model_version) for p, pr in zip(pairs, preds)]
    with replacing(path) as tmp:
        tmp.write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
    return Path(path)
