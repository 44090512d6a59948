"""The NAB scorer on hand-made cases whose scores can be worked out by hand."""

from __future__ import annotations

import math

import pytest

from kubelite.observability.anomaly.nab_scoring import (
    PROFILES,
    optimise_threshold,
    probation_rows,
    scaled_sigmoid,
    score_at_threshold,
    score_file_rows,
)

STANDARD = PROFILES["standard"]
# 1000 rows: probation is the first 150; one window of width 100 at rows 400..499.
ROWS = 1000
WINDOW = (400, 499)


def _scores(detections: dict[int, float]) -> list[float]:
    scores = [0.0] * ROWS
    for row, score in detections.items():
        scores[row] = score
    return scores


@pytest.mark.parametrize(
    ("rows", "expected"),
    [(100, 15), (1000, 150), (5000, 750), (20000, 750), (1243, 186)],
    ids=["small", "15-percent", "at-cap", "capped", "floored"],
)
def test_probation_is_fifteen_percent_capped_at_750(rows: int, expected: int) -> None:
    assert probation_rows(rows) == expected


@pytest.mark.parametrize(
    ("position", "expected"),
    [(-1.0, 2 / (1 + math.exp(-5)) - 1), (0.0, 0.0), (3.0, 2 / (1 + math.exp(15)) - 1), (3.01, -1.0)],
    ids=["window-start", "window-end", "at-cap", "past-cap"],
)
def test_scaled_sigmoid(position: float, expected: float) -> None:
    assert scaled_sigmoid(position) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("detections", "expected_raw"),
    [
        ({}, -1.0),
        ({400: 1.0}, 1.0),
        # Only the earliest detection in a window counts; later ones add nothing.
        ({400: 1.0, 450: 1.0, 499: 1.0}, 1.0),
        ({499: 1.0}, scaled_sigmoid(-1 / 100) / scaled_sigmoid(-1.0)),
        ({450: 1.0}, scaled_sigmoid(-50 / 100) / scaled_sigmoid(-1.0)),
        # Before the first window a false positive costs the full fp weight.
        ({300: 1.0}, -1.0 - 0.11),
        # Detections in probation are never scored.
        ({100: 1.0}, -1.0),
        # Right after a window a false positive is cheap, far after it costs the full weight.
        ({400: 1.0, 510: 1.0}, 1.0 + 0.11 * scaled_sigmoid(11 / 99)),
        ({400: 1.0, 900: 1.0}, 1.0 - 0.11),
    ],
    ids=[
        "null",
        "earliest",
        "only-first-counts",
        "last-row",
        "mid-window",
        "fp-before-window",
        "probation-ignored",
        "fp-just-after",
        "fp-far-after",
    ],
)
def test_single_file_scores(detections: dict[int, float], expected_raw: float) -> None:
    rows = score_file_rows(_scores(detections), [WINDOW])
    result = optimise_threshold([rows], STANDARD)
    best_raw = max(expected_raw, -1.0)  # the sweep may always choose to detect nothing
    assert result.raw_score == pytest.approx(best_raw)
    assert result.normalised_score == pytest.approx(100 * (best_raw + 1.0) / 2.0)


def test_threshold_sweep_picks_the_best_pooled_threshold() -> None:
    # File A rewards a low threshold (its window is only caught at 0.5); file B punishes it with
    # many false positives at 0.5, so the pooled optimum is the high threshold.
    file_a = score_file_rows(_scores({400: 0.5}), [WINDOW])
    file_b = score_file_rows(_scores({400: 0.9, **{row: 0.5 for row in range(600, 700)}}), [WINDOW])
    result = optimise_threshold([file_a, file_b], STANDARD)
    assert result.threshold == pytest.approx(0.9)
    assert result.true_positive_windows == 1
    assert result.false_negative_windows == 1
    assert result.raw_score == pytest.approx(0.0)
    assert score_at_threshold([file_a, file_b], STANDARD, 0.9) == pytest.approx(result.normalised_score)


@pytest.mark.parametrize("profile_name", sorted(PROFILES), ids=sorted(PROFILES))
def test_perfect_and_null_detectors_normalise_to_100_and_0(profile_name: str) -> None:
    perfect = score_file_rows(_scores({400: 1.0}), [WINDOW])
    null = score_file_rows(_scores({}), [WINDOW])
    assert optimise_threshold([perfect], PROFILES[profile_name]).normalised_score == pytest.approx(100.0)
    assert optimise_threshold([null], PROFILES[profile_name]).normalised_score == pytest.approx(0.0)


def test_window_wholly_in_probation_is_not_counted() -> None:
    rows = score_file_rows(_scores({400: 1.0}), [(10, 20), WINDOW])
    assert rows.window_count == 1
    assert optimise_threshold([rows], STANDARD).normalised_score == pytest.approx(100.0)
