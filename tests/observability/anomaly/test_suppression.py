"""The onset filter reports each excursion once, at its peak, as soon as the score stops rising."""

from __future__ import annotations

import pytest

from kubelite.observability.anomaly.suppression import OnsetFilter


class ScriptedScores:
    """A stand-in detector that replays fixed scores."""

    def __init__(self, scores: list[float]) -> None:
        self._scores = iter(scores)

    def update(self, timestamp: float, value: float) -> float:
        return next(self._scores)


def _filtered(scores: list[float], hold: int, max_delay: int) -> list[float]:
    onset = OnsetFilter(ScriptedScores(scores), hold=hold, warm_up=0, max_delay=max_delay)
    return [onset.update(float(index), 0.0) for index in range(len(scores))]


CASES = [
    # (scores, hold, max_delay, expected output)
    ([0, 0, 0.3, 0.5, 0.8, 0.2, 0, 0], 5, 10, [0, 0, 0, 0, 0, 0.8, 0, 0]),
    ([0, 0, 0.3, 0.5, 0.8, 0.9, 0, 0], 5, 2, [0, 0, 0, 0, 0.8, 0, 0.9, 0]),
    ([0, 0, 0.3, 0.5, 0.8, 0.2, 0, 0], 5, 0, [0, 0, 0.3, 0.5, 0.8, 0, 0, 0]),
    # A second, higher excursion after the report starts a new one.
    ([0, 0.4, 0.1, 0, 0.9, 0, 0, 0], 5, 10, [0, 0, 0.4, 0, 0, 0.9, 0, 0]),
    # A lower one inside the hold window is part of the same episode.
    ([0, 0.9, 0, 0, 0.5, 0, 0, 0], 5, 10, [0, 0, 0.9, 0, 0, 0, 0, 0]),
    # ... but is reported once the hold window has forgotten the first.
    ([0, 0.9, 0, 0, 0, 0.5, 0, 0], 3, 10, [0, 0, 0.9, 0, 0, 0, 0.5, 0]),
]


@pytest.mark.parametrize(
    ("scores", "hold", "max_delay", "expected"),
    CASES,
    ids=[
        "peak-when-falling",
        "capped-wait",
        "no-delay-reports-rises",
        "new-higher-excursion",
        "held",
        "hold-expired",
    ],
)
def test_each_excursion_is_reported_once(
    scores: list[float], hold: int, max_delay: int, expected: list[float]
) -> None:
    assert _filtered(scores, hold, max_delay) == pytest.approx(expected)


def test_warm_up_is_silent() -> None:
    onset = OnsetFilter(ScriptedScores([1.0] * 10), hold=3, warm_up=5, max_delay=0)
    assert [onset.update(float(index), 0.0) for index in range(10)] == [0.0] * 5 + [1.0] + [0.0] * 4
