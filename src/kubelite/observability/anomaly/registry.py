"""Detectors by name, so the CLI and the in-cluster component build them the same way.

Every registered detector is reported at onset (see `suppression`), since that is how an alert is
consumed; `context-raw` and `residual-raw` expose the unfiltered likelihood scores for comparison.
"""

from __future__ import annotations

from collections.abc import Callable

from kubelite.observability.anomaly.changepoint import BayesianChangePoint
from kubelite.observability.anomaly.context import ContextNoveltyDetector
from kubelite.observability.anomaly.detector import Detector
from kubelite.observability.anomaly.downsample import BlockMeanDetector
from kubelite.observability.anomaly.ensemble import EnsembleDetector, MultiResolutionNovelty
from kubelite.observability.anomaly.residual import ResidualDetector
from kubelite.observability.anomaly.spatial import SpatialAnomalyOverride
from kubelite.observability.anomaly.suppression import OnsetFilter

DETECTOR_FACTORIES: dict[str, Callable[[], Detector]] = {
    EnsembleDetector.NAME: EnsembleDetector,
    "novelty": lambda: OnsetFilter(MultiResolutionNovelty()),
    "novelty-spatial": lambda: OnsetFilter(SpatialAnomalyOverride(MultiResolutionNovelty())),
    "context": lambda: OnsetFilter(ContextNoveltyDetector()),
    "context-raw": ContextNoveltyDetector,
    # Bayesian change points on 4-point block means, which also keeps its numpy cost amortised.
    BayesianChangePoint.NAME: lambda: OnsetFilter(BlockMeanDetector(BayesianChangePoint())),
    "residual": lambda: OnsetFilter(ResidualDetector()),
    "residual-raw": ResidualDetector,
}

DEFAULT_DETECTOR = EnsembleDetector.NAME


def make_detector(name: str) -> Detector:
    """A fresh detector of the named kind (raises KeyError for an unknown name)."""
    return DETECTOR_FACTORIES[name]()
