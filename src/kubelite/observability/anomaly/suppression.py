"""Onset filtering: report an anomaly when it starts, not again for as long as it lasts.

NAB, like an operator's pager, rewards only the first detection of each anomaly window and charges
every further detection outside the window as a false positive. A raw detector, however, stays
excited for a while after a change. `OnsetFilter` passes a score through only when it exceeds every
score it has passed or held back in the last `hold` points, and reports 0 otherwise; it also stays
silent during a fixed `warm_up`, while the inner detector is still learning what normal looks like.
This is the same reasoning as the suppression step of ARTime (Hawkins' NAB entry, 2021) and the
"only report the first detection" advice of Lavin & Ahmad 2015, applied as a detector-agnostic
wrapper. State: a ring buffer of `hold` floats.
"""

from __future__ import annotations

from kubelite.observability.anomaly.detector import Detector


class OnsetFilter:
    """Wraps a detector so each excursion scores once, at its start."""

    def __init__(self, inner: Detector, hold: int = 200, warm_up: int = 150) -> None:
        self._inner = inner
        self._recent = [0.0] * hold
        self._warm_up = warm_up
        self._count = 0

    def update(self, timestamp: float, value: float) -> float:
        score = self._inner.update(timestamp, value)
        if self._count < self._warm_up:
            score = 0.0
        recent = self._recent
        slot = self._count % len(recent)
        self._count += 1
        # The scan over `hold` floats is a C-level max(); cheaper than maintaining a monotonic deque
        # in Python for the hold lengths used here.
        is_onset = score > max(recent)
        recent[slot] = score
        return score if is_onset else 0.0
