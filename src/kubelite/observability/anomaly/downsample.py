"""Running a detector on block means, so slow changes look like patterns to it.

A context-novelty detector sees the shape of the last few points; a change that unfolds over tens of
points (a ramp, a slow level shift, a rhythm that drifts) produces no new short pattern at the raw
rate. ARTime (Hampton 2021, github.com/markNZed/ARTimeNAB.jl) downsamples every series before
building its window features for the same reason. `BlockMeanDetector` feeds the inner detector the
mean of each block of `block` points and reports its score at the block's last point (0 elsewhere,
so a `max` ensemble is unaffected between blocks). No look-ahead: a block is scored once complete.

State: the running sum and count of the current block.
"""

from __future__ import annotations

from kubelite.observability.anomaly.detector import Detector

DEFAULT_BLOCK = 4


class BlockMeanDetector:
    """Scores block means of a series with an inner detector."""

    def __init__(self, inner: Detector, block: int = DEFAULT_BLOCK) -> None:
        self._inner = inner
        self._block = block
        self._sum = 0.0
        self._count = 0

    def update(self, timestamp: float, value: float) -> float:
        self._sum += value
        self._count += 1
        if self._count < self._block:
            return 0.0
        mean = self._sum / self._count
        self._sum = 0.0
        self._count = 0
        return self._inner.update(timestamp, mean)
