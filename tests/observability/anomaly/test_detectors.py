"""Every registered detector is online, bounded in [0, 1], deterministic and cheap."""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

import pytest

from kubelite.observability.anomaly.evaluation import run_detector
from kubelite.observability.anomaly.nab_corpus import Series, read_series
from kubelite.observability.anomaly.registry import DETECTOR_FACTORIES, make_detector

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "nab" / "data"
NAMES = sorted(DETECTOR_FACTORIES)


def _synthetic_series(points: int = 3000, seed: int = 7) -> Series:
    rng = random.Random(seed)
    values = [
        10 * math.sin(2 * math.pi * index / 288) + rng.gauss(0, 1) + (25 if 2000 <= index < 2050 else 0)
        for index in range(points)
    ]
    return Series([1.4e9 + 300.0 * index for index in range(points)], values)


@pytest.mark.parametrize("name", NAMES, ids=NAMES)
def test_scores_of_a_prefix_equal_the_prefix_of_the_scores(name: str) -> None:
    # No look-ahead: scoring a truncated series gives exactly the full run's first rows.
    series = _synthetic_series()
    full = run_detector(make_detector(name), series)
    cut = 2020
    truncated = run_detector(make_detector(name), Series(series.timestamps[:cut], series.values[:cut]))
    assert truncated == full[:cut]


@pytest.mark.parametrize("name", NAMES, ids=NAMES)
def test_scores_stay_in_the_unit_interval_and_flag_the_level_shift(name: str) -> None:
    scores = run_detector(make_detector(name), _synthetic_series())
    assert all(0.0 <= score <= 1.0 for score in scores)
    before, during = max(scores[1000:1990]), max(scores[2000:2060])
    assert during > before


@pytest.mark.parametrize("name", NAMES, ids=NAMES)
def test_detectors_are_deterministic_on_real_data(name: str) -> None:
    _, series = read_series(DATA / "realKnownCause" / "rogue_agent_key_hold.csv")
    assert run_detector(make_detector(name), series) == run_detector(make_detector(name), series)


@pytest.mark.parametrize("name", NAMES, ids=NAMES)
def test_cost_stays_within_budget(name: str) -> None:
    # The budget is 20 us per point amortised; CPU time is immune to other jobs, but allow slack for
    # a slower CI machine.
    series = _synthetic_series(points=20_000)
    detector = make_detector(name)
    started = time.process_time()
    run_detector(detector, series)
    microseconds_per_point = 1e6 * (time.process_time() - started) / len(series.values)
    assert microseconds_per_point < 60.0


def _daily_square_wave_missing_one_peak(days: int = 10, missing_day: int = 8) -> Series:
    """Five-minute points, 80 from 10:00 to 18:00 UTC and 20 otherwise, except on `missing_day`."""
    rng = random.Random(11)
    step, per_day = 300.0, 288
    midnight = 1.4e9 - (1.4e9 % 86_400)
    timestamps, values = [], []
    for index in range(per_day * days):
        day, slot = divmod(index, per_day)
        peak = 10 <= slot * step / 3600 < 18 and day != missing_day
        timestamps.append(midnight + step * index)
        values.append((80.0 if peak else 20.0) + rng.gauss(0, 2))
    return Series(timestamps, values)


@pytest.mark.parametrize("name", ["ensemble", "novelty", "novelty-spatial"], ids=str)
def test_a_day_without_its_peak_is_flagged(name: str) -> None:
    # A shape detector sees nothing new on a flat day; the time-of-day context does.
    scores = run_detector(make_detector(name), _daily_square_wave_missing_one_peak())
    per_day = 288
    ordinary_days = max(scores[3 * per_day : 8 * per_day])
    missing_peak = max(scores[8 * per_day + 120 : 8 * per_day + 216])
    assert missing_peak > 0.3 > ordinary_days


def test_the_ensemble_flags_a_metric_that_stops_moving() -> None:
    # Bursty traffic with idle gaps of up to 30 points, then an idle stretch of 200 points.
    rng = random.Random(5)
    values: list[float] = []
    while len(values) < 3000:
        values.extend(rng.uniform(10, 100) for _ in range(rng.randint(5, 20)))
        values.extend([0.0] * rng.randint(10, 30))
    values = values[:3000] + [0.0] * 200 + [rng.uniform(10, 100) for _ in range(100)]
    series = Series([1.4e9 + 300.0 * index for index in range(len(values))], values)
    scores = run_detector(make_detector("ensemble"), series)
    assert max(scores[3000:3200]) == 1.0 > 0.3 > max(scores[1000:3000])
