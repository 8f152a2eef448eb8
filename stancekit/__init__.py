"""stancekit: who stands where on what — actor/target stance classification for news text."""

from __future__ import annotations

__version__ = "0.1.0"

from .config import Config, load_config
from .data.records import StancePair
from .errors import ConfigError, DataError, ModelError, StanceKitError
from .labels import LABELS, LabelScheme
from .prediction import Prediction, StanceClassifier

__all__ = [
    "LABELS",
    "Config",
    "ConfigError",
    "DataError",
    "LabelScheme",
    "ModelError",
    "Prediction",
    "StanceClassifier",
    "StanceKitError",
    "StancePair",
    "load_config",
    "__version__",
]
