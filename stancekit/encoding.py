"""Pairs to model inputs: a template for actor and target, marked mentions in the text.

The input format is part of the model: `PairFormatter.to_dict` is saved in the model
directory (``stancekit.json``, key ``encoding``) and `PairFormatter.from_dict` restores it,
so that prediction formats and tokenizes exactly as training did. ("Encoder" in stancekit
always means the pretrained transformer, see `stancekit.pretrained`.)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .config import EncodingConfig, check_template
from .data.mentions import ClaimedChars, pair_mentions
from .data.records import Span, StancePair
from .errors import ConfigError
from .labels import LABEL2ID


class PairFormatter:
    """Turns `StancePair` objects into model inputs.

    The first segment is ``template`` filled with actor and target; the second is the
    text, with the actor's mentions wrapped in ``actor_markers`` and the target's in
    ``target_markers`` when ``mark_mentions`` is on. Mentions come from the pair's spans,
    or are found by name (and ``meta["actor_aliases"]``/``meta["target_aliases"]``).
    """

    def __init__(self, config: EncodingConfig) -> None:
        problem = check_template(config.template)
        if problem:  # an EncodingConfig built in Python has not been through load_config
            raise ConfigError(f"encoding.template: {problem}")
        self.config = config

    @property
    def marker_tokens(self) -> list[str]:
        if not self.config.mark_mentions:
            return []
        return [*self.config.actor_markers, *self.config.target_markers]

    def first_segment(self, pair: StancePair) -> str:
        return self.config.template.format(actor=pair.actor, target=pair.target)

    def second_segment(self, pair: StancePair) -> str:
        if not self.config.mark_mentions:
            return pair.text
        actor, target = pair_mentions(pair, words=self.config.target_match == "words")
        return mark(pair.text, actor, target, self.config.actor_markers, self.config.target_markers)

    def texts(self, pairs: Sequence[StancePair]) -> tuple[list[str], list[str]]:
        return [self.first_segment(p) for p in pairs], [self.second_segment(p) for p in pairs]

    def tokenize(self, tokenizer: Any, pairs: Sequence[StancePair], *, with_labels: bool = False,
                 padding: bool | str = False, return_tensors: str | None = None) -> Any:
        first, second = self.texts(pairs)
        enc = tokenizer(first, second, truncation="only_second", max_length=self.config.max_length,
                        padding=padding, return_tensors=return_tensors)
        if with_labels:
            enc["labels"] = [LABEL2ID[p.label] for p in pairs]
        return enc

    def batches(self, tokenizer: Any, pairs: Sequence[StancePair], *, batch_size: int = 64,
                max_tokens: int = 8192) -> tuple[list[dict[str, Any]], list[list[int]]]:
        """Tokenized features of each pair, and the indices of each length-sorted batch."""
        enc = self.tokenize(tokenizer, pairs)
        features = [{k: enc[k][i] for k in enc} for i in range(len(pairs))]
        lengths = [len(f["input_ids"]) for f in features]
        return features, list(token_batches(lengths, batch_size, max_tokens))

    def logits(self, model: Any, tokenizer: Any, pairs: Sequence[StancePair], *,
               batch_size: int = 64, max_tokens: int = 8192) -> np.ndarray:
        """A torch model's logits for ``pairs`` in input order (fp32, length-sorted batches)."""
        import torch

        out = np.zeros((len(pairs), len(LABEL2ID)), dtype=np.float32)
        features, batches = self.batches(tokenizer, pairs, batch_size=batch_size,
                                         max_tokens=max_tokens)
        device = next(model.parameters()).device  # where the Trainer left it (a GPU, maybe)
        with torch.inference_mode():
            for idx in batches:
                batch = tokenizer.pad([features[i] for i in idx], return_tensors="pt").to(device)
                out[idx] = model(**batch).logits.float().cpu().numpy()
        return out

    def dataset(self, tokenizer: Any, pairs: Sequence[StancePair]) -> Any:
        """A tokenized `datasets.Dataset` with ``labels`` (ids only live here and in the model)."""
        import datasets

        enc = self.tokenize(tokenizer, pairs, with_labels=True)
        return datasets.Dataset.from_dict(dict(enc))

    def to_dict(self) -> dict[str, Any]:
        return {"template": self.config.template, "mark_mentions": self.config.mark_mentions,
                "actor_markers": list(self.config.actor_markers),
                "target_markers": list(self.config.target_markers),
                "max_length": self.config.max_length}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PairFormatter:
        data = dict(data)
        data["actor_markers"] = tuple(data["actor_markers"])
        data["target_markers"] = tuple(data["target_markers"])
        return cls(EncodingConfig(**data))


def token_batches(lengths: Sequence[int], batch_size: int, max_tokens: int) -> Iterator[list[int]]:
    """Indices grouped into batches of similar length: at most ``batch_size`` rows and
    ``max_tokens`` padded tokens each (a single longer row still gets its own batch)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batch: list[int] = []
    for i in order:
        # sorted ascending, so lengths[i] is the padded width if i joins the batch
        if batch and (len(batch) >= batch_size or (len(batch) + 1) * lengths[i] > max_tokens):
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch


def mark(text: str, actor: Sequence[Span], target: Sequence[Span], actor_markers: Sequence[str],
         target_markers: Sequence[str]) -> str:
    """Wrap spans in markers: ``mark("Riyadh urged", [(0, 6)], [], ("[A]", "[/A]"), ...)``
    gives ``"[A] Riyadh [/A] urged"``. Target spans that overlap an actor span are skipped."""
    inserts: list[tuple[int, int, str]] = []  # (position, order, token): closers before openers
    actor_chars = ClaimedChars(len(text), actor)
    for spans, (open_, close) in ((actor, actor_markers), (target, target_markers)):
        for start, end in spans:
            if spans is target and not actor_chars.free((start, end)):
                continue
            inserts.append((start, 1, open_ + " "))
            inserts.append((end, 0, " " + close))
    out, last = [], 0
    for pos, _, token in sorted(inserts):
        out.append(text[last:pos])
        out.append(token)
        last = pos
    out.append(text[last:])
    return "".join(out)
