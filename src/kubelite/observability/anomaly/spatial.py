"""Spatial anomalies: a value that leaves the range of everything seen so far by a clear margin.

After the "spatial anomaly" rule of Numenta's NAB detector (numenta/NAB `nab/detectors/numenta`,
Ahmad et al. 2017): a value more than `tolerance` times the span of the past range above its maximum
or below its minimum scores 1.0, whatever the temporal detector underneath says. Temporal novelty is
averaged and judged by likelihood, which dilutes a single jump to a new level; this rule reports such
jumps at once. The tolerance is Numenta's published 5% and was not tuned here.

State: the running range (two floats) and a point counter.
"""

from __future__ import annotations

from kubelite.observability.anomaly.detector import Detector
from kubelite.observability.anomaly.streaming import RunningRange

SPATIAL_TOLERANCE = 0.05


class SpatialAnomalyOverride:
    """Wraps a detector and reports 1.0 for values well outside the range seen so far."""

    def __init__(self, inner: Detector, tolerance: float = SPATIAL_TOLERANCE) -> None:
        self._inner = inner
        self._tolerance = tolerance
        self._range = RunningRange()
        self._count = 0

    def update(self, timestamp: float, value: float) -> float:
        score = self._inner.update(timestamp, value)
        self._count += 1
        past = self._range
        outside = False
        # Only a range built from at least two distinct values has a span to measure a margin by.
        if self._count > 1 and past.high > past.low:
            margin = self._tolerance * (past.high - past.low)
            outside = value > past.high + margin or value < past.low - margin
        past.observe(value)
        return 1.0 if outside else score
