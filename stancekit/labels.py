"""The three stance labels and the schemes that map other label names onto them."""

from __future__ import annotations

from collections.abc import Mapping

from .errors import ConfigError, quote

SUPPORT, NEUTRAL, CONDEMN = "support", "neutral", "condemn"
LABELS: tuple[str, ...] = (SUPPORT, NEUTRAL, CONDEMN)
LABEL2ID: dict[str, int] = {label: i for i, label in enumerate(LABELS)}
ID2LABEL: dict[int, str] = dict(enumerate(LABELS))

# Named schemes for common corpora; a config may also give an explicit mapping.
SCHEMES: dict[str, dict[str, str]] = {
    "stancekit": {label: label for label in LABELS},
    "favor_against": {"FAVOR": SUPPORT, "NONE": NEUTRAL, "AGAINST": CONDEMN},
    "sentiment": {"pos": SUPPORT, "positive": SUPPORT, "neu": NEUTRAL, "neutral": NEUTRAL,
                  "neg": CONDEMN, "negative": CONDEMN},
    "agree_disagree": {"agree": SUPPORT, "agrees": SUPPORT, "neutral": NEUTRAL,
                       "disagree": CONDEMN, "disagrees": CONDEMN},
    "numeric": {"1": SUPPORT, "0": NEUTRAL, "-1": CONDEMN},
}


class LabelScheme:
    """Maps the label names of a data source onto stancekit's three labels.

    Matching ignores case and surrounding white space; numbers are matched by their
    text (``2.0`` and ``2`` are the same code).

    Example:
        >>> LabelScheme("favor_against")("against")
        'condemn'
        >>> LabelScheme({"6": "support", "4": "neutral", "2": "condemn"})(6.0)
        'support'
    """

    def __init__(self, scheme: str | Mapping[str, str] = "stancekit", *,
                 where: str | None = None) -> None:
        """``where`` names the setting the scheme came from in error messages (a CLI flag)."""
        at = f"{where}: " if where else ""
        if isinstance(scheme, str):
            if scheme not in SCHEMES:
                raise ConfigError(f"{at}unknown label scheme {quote(scheme)}; known: "
                                  f"{sorted(SCHEMES)}")
            self.name, mapping = scheme, SCHEMES[scheme]
        else:
            self.name, mapping = "custom", dict(scheme)
        bad = sorted({quote(v) for v in mapping.values()
                      if not isinstance(v, str) or v not in LABELS})
        if bad:
            raise ConfigError(f"{at}label scheme maps onto [{', '.join(bad[:6])}]; targets must "
                              f"be among {list(LABELS)}")
        self.mapping = {_key(k): v for k, v in mapping.items()}
        # The canonical names are always accepted as well.
        for label in LABELS:
            self.mapping.setdefault(label, label)

    def __call__(self, raw: object) -> str:
        """Return the stancekit label of ``raw``; raise ``KeyError`` if it has none."""
        return self.mapping[_key(raw)]

    def known(self) -> list[str]:
        return sorted(self.mapping)

    def to_dict(self) -> dict[str, str]:
        return dict(self.mapping)


def _key(raw: object) -> str:
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = str(raw).strip().lower()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text
