"""Time-of-day novelty: is this value level established for this hour of the day?

Most operational metrics follow the day: traffic, CPU and request rates rise and fall with their
users, so a value that is ordinary at noon can be an anomaly at 3 a.m. A context-novelty detector
(`context.py`) sees only the shape of the last few values and misses a daily rhythm that skips a
beat. `PhaseNovelty` adds the clock to the context: each point's key is (hour of the day, value
level), with the level quantised by the position in the running range as in `context.py`. A key
becomes *established* once it has occurred on `established_after_days` different days (two by
default: a daily habit is one that repeats, while a single day might be the anomaly itself); the raw
score is 1 for a point whose key is not yet established and 0 otherwise. So a day whose evening
peak never comes scores 1 for every point of the missing peak, not only for the first one.

It is the "seasonal baseline" of the detector family in the same currency as the other context
scores, so it is averaged into their raw score before the anomaly likelihood (Ahmad et al. 2017)
calibrates it; a series without a daily rhythm establishes its keys within a few days and stops
contributing. The phase comes from the timestamp (UTC seconds), not from a count of points, so
irregular or missing samples do not shift it. State: at most `phases x levels` keys, each with the
last day it was seen and the number of days it was seen on.
"""

from __future__ import annotations

from kubelite.observability.anomaly.streaming import RunningRange

SECONDS_PER_DAY = 86_400.0
HOURS_PER_DAY = 24
ESTABLISHED_AFTER_DAYS = 2


class PhaseNovelty:
    """Raw score 1 while a value level has not yet occurred at this time of day on enough days."""

    def __init__(
        self,
        levels: int = 6,
        phases: int = HOURS_PER_DAY,
        period_seconds: float = SECONDS_PER_DAY,
        established_after_days: int = ESTABLISHED_AFTER_DAYS,
    ) -> None:
        self._levels = levels
        self._phases = phases
        self._period = period_seconds
        self._established_after = established_after_days
        self._range = RunningRange()
        # (phase, level) -> [last period index it was seen in, number of periods it was seen in]
        self._days_seen: dict[tuple[int, int], list[int]] = {}

    def raw_score(self, timestamp: float, value: float) -> float:
        """1.0 if (phase, level) is not yet established, else 0.0; learns from the point first."""
        self._range.observe(value)
        level = min(int(self._range.position(value) * self._levels), self._levels - 1)
        phase = int((timestamp % self._period) / self._period * self._phases)
        day = int(timestamp // self._period)
        record = self._days_seen.get((phase, level))
        if record is None:
            self._days_seen[(phase, level)] = [day, 1]
            return 1.0
        if record[1] >= self._established_after:
            return 0.0
        if day != record[0]:
            record[0] = day
            record[1] += 1
        return 1.0 if record[1] < self._established_after else 0.0
