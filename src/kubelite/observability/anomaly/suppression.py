"""Onset reporting: report each excursion of a score once, at its start, with its peak.

NAB, like an operator's pager, rewards only the first detection of each anomaly window and charges
every further detection outside the window as a false positive. A raw detector, however, stays
excited for a while after a change, and its calibrated score usually climbs over a few points (the
anomaly likelihood averages the last 10 raw scores), so a plain "report when the score rises" rule
reports one excursion several times in a row.

`OnsetFilter` therefore works in two steps:

1. An excursion *starts* when the score exceeds every score of the last `hold` points.
2. The filter gathers the excursion's peak over the next `delay` points and reports that peak once,
   `delay` points after the start; every other point reports 0. Rises during the gathering are part
   of the same excursion; a later rise above everything in the hold window starts a new one.

Reporting the peak rather than the first value keeps the output independent of the threshold that
is applied to it later: at any threshold, an excursion is reported at most once. The cost is a fixed
latency of `delay` points (20 minutes at NAB's 5-minute sampling), a small fraction of an anomaly
window. The filter also stays silent during a fixed `warm_up`, while the inner detector is still
learning what normal looks like. This is the reasoning of ARTime's suppression step (Hampton 2021)
and of the "report only the first detection" advice of Lavin & Ahmad 2015, as a detector-agnostic
wrapper. State: a ring buffer of `hold` floats and the pending peak.
"""

from __future__ import annotations

from kubelite.observability.anomaly.detector import Detector

DEFAULT_HOLD = 150
DEFAULT_DELAY = 4
DEFAULT_WARM_UP = 150


class OnsetFilter:
    """Wraps a detector so each excursion scores once, shortly after its start, at its peak."""

    def __init__(
        self,
        inner: Detector,
        hold: int = DEFAULT_HOLD,
        warm_up: int = DEFAULT_WARM_UP,
        delay: int = DEFAULT_DELAY,
    ) -> None:
        self._inner = inner
        self._recent = [0.0] * hold
        self._warm_up = warm_up
        self._delay = delay
        self._count = 0
        # Points left to gather before the pending excursion is reported; -1 when none is pending.
        self._pending = -1
        self._peak = 0.0

    def update(self, timestamp: float, value: float) -> float:
        score = self._inner.update(timestamp, value)
        if self._count < self._warm_up:
            score = 0.0
        recent = self._recent
        slot = self._count % len(recent)
        self._count += 1
        reported = 0.0
        if self._pending >= 0:
            self._peak = max(self._peak, score)
            self._pending -= 1
            if self._pending < 0:
                reported = self._peak
        # The scan over `hold` floats is a C-level max(); cheaper than maintaining a monotonic deque
        # in Python for the hold lengths used here.
        elif score > max(recent):
            if self._delay == 0:
                reported = score
            else:
                self._pending = self._delay - 1
                self._peak = score
        recent[slot] = score
        return reported
