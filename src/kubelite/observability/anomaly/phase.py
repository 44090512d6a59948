"""Time-of-day novelty: is this value level new for this hour of the day?

Most operational metrics follow the day: traffic, CPU and request rates rise and fall with their
users, so a value that is ordinary at noon can be an anomaly at 3 a.m. A context-novelty detector
(`context.py`) sees only the shape of the last few values and misses a daily rhythm that skips a
beat. `PhaseNovelty` adds the clock to the context: each point's key is (hour of the day, value
level), with the level quantised by the position in the running range as in `context.py`, and the
raw score is 1 the first time a key is met, 0 afterwards. It is the "seasonal baseline" of the
detector family in the same currency as the other context scores, so it is averaged into their raw
score before the anomaly likelihood (Ahmad et al. 2017) calibrates it; a series without a daily
rhythm simply fills its table within a few days and stops contributing.

The phase comes from the timestamp (UTC seconds), not from a count of points, so irregular or
missing samples do not shift it. State: a running range and at most `phases x levels` keys.
"""

from __future__ import annotations

from kubelite.observability.anomaly.streaming import RunningRange

SECONDS_PER_DAY = 86_400.0
HOURS_PER_DAY = 24


class PhaseNovelty:
    """Raw score 1 when a value level is seen for the first time at this time of day."""

    def __init__(
        self, levels: int = 6, phases: int = HOURS_PER_DAY, period_seconds: float = SECONDS_PER_DAY
    ) -> None:
        self._levels = levels
        self._phases = phases
        self._period = period_seconds
        self._range = RunningRange()
        self._seen: set[tuple[int, int]] = set()

    def raw_score(self, timestamp: float, value: float) -> float:
        """1.0 if (phase, level) is new, else 0.0; the range learns from `value` first."""
        self._range.observe(value)
        level = min(int(self._range.position(value) * self._levels), self._levels - 1)
        phase = int((timestamp % self._period) / self._period * self._phases)
        key = (phase, level)
        if key in self._seen:
            return 0.0
        self._seen.add(key)
        return 1.0
