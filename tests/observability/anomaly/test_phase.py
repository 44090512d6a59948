"""Time-of-day novelty flags a level that is new for its hour, and only the first time."""

from __future__ import annotations

import pytest

from kubelite.observability.anomaly.phase import PhaseNovelty

HOUR = 3600.0


def _daily_square_wave(days: int) -> list[tuple[float, float]]:
    """Hourly points: 80 from 08:00 to 18:00, 20 otherwise."""
    return [(hour * HOUR, 80.0 if 8 <= hour % 24 < 18 else 20.0) for hour in range(days * 24)]


@pytest.mark.parametrize(
    ("hour_of_day", "value", "expected"),
    [(12, 80.0, 0.0), (3, 20.0, 0.0), (12, 20.0, 1.0), (3, 80.0, 1.0)],
    ids=["usual-noon", "usual-night", "low-at-noon", "high-at-night"],
)
def test_a_level_new_for_its_hour_scores_one(hour_of_day: int, value: float, expected: float) -> None:
    novelty = PhaseNovelty(levels=6)
    for stamp, level in _daily_square_wave(days=3):
        novelty.raw_score(stamp, level)
    assert novelty.raw_score((3 * 24 + hour_of_day) * HOUR, value) == expected


def test_the_same_surprise_scores_only_once() -> None:
    novelty = PhaseNovelty(levels=6)
    for stamp, level in _daily_square_wave(days=3):
        novelty.raw_score(stamp, level)
    first = novelty.raw_score(3 * 24 * HOUR + 12 * HOUR, 20.0)
    again = novelty.raw_score(4 * 24 * HOUR + 12 * HOUR, 20.0)
    assert (first, again) == (1.0, 0.0)
