"""stancekit: who stands where on what — actor/target stance classification for news text.

The public API, in the order of the pipeline::

    load_config -> train(config) -> model directory -> StanceClassifier.from_pretrained
    Article/Actor -> PairBuilder.build -> StanceClassifier.predict -> aggregate -> stance_table
    StanceEvaluator / analyze: scores beside the baselines
"""

from __future__ import annotations

__version__ = "0.1.0"

from .aggregation import ActorStance, aggregate, stance_table
from .config import Config, load_config
from .data.articles import Actor, Article
from .data.pair_builder import PairBuilder
from .data.records import StancePair
from .errors import ConfigError, DataError, ModelError, StanceKitError
from .evaluation import StanceEvaluator, analyze, evaluate
from .labels import LABELS, LabelScheme
from .prediction import Prediction, StanceClassifier
from .training import train

__all__ = [
    "LABELS",
    "Actor",
    "ActorStance",
    "Article",
    "Config",
    "ConfigError",
    "DataError",
    "LabelScheme",
    "ModelError",
    "PairBuilder",
    "Prediction",
    "StanceClassifier",
    "StanceEvaluator",
    "StanceKitError",
    "StancePair",
    "__version__",
    "aggregate",
    "analyze",
    "evaluate",
    "load_config",
    "stance_table",
    "train",
]
