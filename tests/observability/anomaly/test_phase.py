"""Time-of-day novelty flags a level that is not established for its hour, for as long as it is not."""

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


def test_every_point_of_a_first_day_scores_and_a_second_day_establishes_the_level() -> None:
    novelty = PhaseNovelty(levels=6)
    for stamp, level in _daily_square_wave(days=3):
        novelty.raw_score(stamp, level)
    noon_day_3 = 3 * 24 * HOUR + 12 * HOUR
    first_day = [novelty.raw_score(noon_day_3 + minutes * 60.0, 20.0) for minutes in (0, 20, 40)]
    second_day = novelty.raw_score(noon_day_3 + 24 * HOUR, 20.0)
    assert (first_day, second_day) == ([1.0, 1.0, 1.0], 0.0)


def test_a_stricter_rule_needs_more_days() -> None:
    novelty = PhaseNovelty(levels=6, established_after_days=3)
    novelty.raw_score(6 * HOUR, 0.0)
    novelty.raw_score(7 * HOUR, 100.0)
    scores = [novelty.raw_score(day * 24 * HOUR, 50.0) for day in range(1, 5)]
    assert scores == [1.0, 1.0, 0.0, 0.0]
