"""Onset reporting: report each excursion of a score once, at its start, with its peak.

NAB, like an operator's pager, rewards only the first detection of each anomaly window and charges
every further detection outside the window as a false positive. A raw detector, however, stays
excited for a while after a change, and its calibrated score usually climbs over a few points (the
anomaly likelihood averages the last 10 raw scores), so a plain "report when the score rises" rule
reports one excursion several times in a row.

`OnsetFilter` therefore works in two steps:

1. An excursion *starts* when the score exceeds every score of the last `hold` points.
2. The filter follows the excursion while its score keeps rising and reports the peak once, at the
   first point where the score no longer rises (or after `max_delay` points); every other point
   reports 0. A later rise above everything in the hold window starts a new excursion.

Reporting the peak rather than the first value keeps the output independent of the threshold that
is applied to it later: at any threshold, an excursion is reported at most once. The cost is a short
latency, one point for a single jump and at most `max_delay` points for a slow climb (typically two
to five points, 10-25 minutes at NAB's 5-minute sampling), a small fraction of an anomaly window.
The filter also stays silent during a fixed `warm_up`, while the inner detector is still learning
what normal looks like. This is the reasoning of ARTime's suppression step (Hampton 2021) and of
the "report only the first detection" advice of Lavin & Ahmad 2015, as a detector-agnostic wrapper.
State: a ring buffer of `hold` floats and the pending peak.
"""

from __future__ import annotations

from kubelite.observability.anomaly.detector import Detector

DEFAULT_HOLD = 150
# A cap on the wait for a peak; the likelihood's 10-point short window bounds a natural climb.
DEFAULT_MAX_DELAY = 10
DEFAULT_WARM_UP = 150


class OnsetFilter:
    """Wraps a detector so each excursion scores once, at its peak, shortly after its start."""

    def __init__(
        self,
        inner: Detector,
        hold: int = DEFAULT_HOLD,
        warm_up: int = DEFAULT_WARM_UP,
        max_delay: int = DEFAULT_MAX_DELAY,
    ) -> None:
        self._inner = inner
        self._recent = [0.0] * hold
        self._warm_up = warm_up
        self._max_delay = max_delay
        self._count = 0
        # Points since the pending excursion started; -1 when none is pending.
        self._pending_age = -1
        self._peak = 0.0

    def update(self, timestamp: float, value: float) -> float:
        score = self._inner.update(timestamp, value)
        if self._count < self._warm_up:
            score = 0.0
        recent = self._recent
        slot = self._count % len(recent)
        self._count += 1
        reported = 0.0
        if self._pending_age >= 0:
            self._pending_age += 1
            still_rising = score > self._peak
            if still_rising:
                self._peak = score
            if not still_rising or self._pending_age >= self._max_delay:
                reported = self._peak
                self._pending_age = -1
        # The scan over `hold` floats is a C-level max(); cheaper than maintaining a monotonic deque
        # in Python for the hold lengths used here.
        elif score > max(recent):
            if self._max_delay == 0:
                reported = score
            else:
                self._pending_age = 0
                self._peak = score
        recent[slot] = score
        return reported
