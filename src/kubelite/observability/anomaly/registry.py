"""Detectors by name, so the CLI and the in-cluster component build them the same way."""

from __future__ import annotations

from collections.abc import Callable

from kubelite.observability.anomaly.context import ContextNoveltyDetector
from kubelite.observability.anomaly.detector import Detector
from kubelite.observability.anomaly.residual import ResidualDetector

DETECTOR_FACTORIES: dict[str, Callable[[], Detector]] = {
    ContextNoveltyDetector.NAME: ContextNoveltyDetector,
    ResidualDetector.NAME: ResidualDetector,
}

DEFAULT_DETECTOR = ContextNoveltyDetector.NAME


def make_detector(name: str) -> Detector:
    """A fresh detector of the named kind (raises KeyError for an unknown name)."""
    return DETECTOR_FACTORIES[name]()
