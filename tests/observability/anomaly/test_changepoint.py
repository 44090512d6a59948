"""Bayesian online change points: surprise peaks at a shift, and the state stays bounded."""

from __future__ import annotations

import random

import pytest

from kubelite.observability.anomaly.changepoint import BayesianChangePoint


def _shifted(
    seed: int, before: float, after: float, spread_before: float, spread_after: float
) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(before, spread_before) for _ in range(300)] + [
        rng.gauss(after, spread_after) for _ in range(100)
    ]


@pytest.mark.parametrize(
    ("before", "after", "spread_before", "spread_after"),
    [(10.0, 14.0, 1.0, 1.0), (10.0, 10.0, 0.2, 3.0)],
    ids=["level-shift", "variance-shift"],
)
def test_the_shift_is_the_most_surprising_point(
    before: float, after: float, spread_before: float, spread_after: float
) -> None:
    detector = BayesianChangePoint(use_likelihood=False)
    # A fixed range, so the surprise does not move with a widening range.
    detector.raw_score(before - 20.0)
    detector.raw_score(before + 20.0)
    raw = [detector.raw_score(value) for value in _shifted(3, before, after, spread_before, spread_after)]
    settled = max(raw[50:300])
    assert max(raw[300:310]) > settled


def test_run_lengths_are_truncated() -> None:
    detector = BayesianChangePoint(max_run_length=50, use_likelihood=False)
    for value in _shifted(5, 1.0, 2.0, 0.1, 0.1):
        score = detector.raw_score(value)
        assert 0.0 <= score <= 1.0
    assert detector.run_length_hypotheses == 50
