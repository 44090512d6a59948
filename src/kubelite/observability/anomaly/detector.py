"""The online detector contract.

A `Detector` sees one series a point at a time and returns an anomaly score in [0, 1] for each
point, using only the points it has seen so far: no look-ahead, no second pass. State is bounded, so
a detector can run for ever on a live metric. Detectors are built by name from `registry`.
"""

from __future__ import annotations

from typing import Protocol


class Detector(Protocol):
    """Scores one series online."""

    def update(self, timestamp: float, value: float) -> float:
        """Consume the next point (epoch seconds, value) and return its anomaly score in [0, 1]."""
        ...
