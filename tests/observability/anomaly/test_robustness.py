"""Held-out threshold checks: leave one category out, and odd/even files."""

from __future__ import annotations

import pytest

from kubelite.observability.anomaly.nab_corpus import LabelledFile, Series
from kubelite.observability.anomaly.nab_scoring import score_file_rows
from kubelite.observability.anomaly.robustness import held_out_scores

ROWS = 400
WINDOW = (300, 339)


def _file(category: str, index: int) -> LabelledFile:
    series = Series([float(row) for row in range(ROWS)], [0.0] * ROWS)
    return LabelledFile(f"{category}/file{index}.csv", category, series, [WINDOW])


def _scores(hit_row: int | None, false_alarm_row: int | None) -> list[float]:
    scores = [0.0] * ROWS
    if hit_row is not None:
        scores[hit_row] = 0.9
    if false_alarm_row is not None:
        scores[false_alarm_row] = 0.5
    return scores


def test_a_perfect_detector_scores_100_on_every_split() -> None:
    corpus = [_file(category, index) for category in ("alpha", "beta") for index in range(2)]
    scored = [score_file_rows(_scores(WINDOW[0], None), labelled.windows) for labelled in corpus]
    results = held_out_scores(corpus, scored)
    assert [result.split for result in results] == [
        "without alpha",
        "without beta",
        "tune even, score odd",
        "tune odd, score even",
    ]
    assert all(result.tuned_elsewhere == pytest.approx(100.0) for result in results)
    assert all(result.own_best == pytest.approx(100.0) for result in results)


def test_a_threshold_tuned_elsewhere_can_cost_the_held_out_files() -> None:
    # In "alpha" the true detections score only 0.5, below a false alarm level that "beta" teaches
    # the tuner to ignore; held out, alpha loses its windows, while its own best keeps them.
    alpha = [_file("alpha", index) for index in range(2)]
    beta = [_file("beta", index) for index in range(2)]
    alpha_scores = [[0.0] * ROWS for _ in alpha]
    for scores in alpha_scores:
        scores[WINDOW[0]] = 0.5
    beta_scores = [_scores(WINDOW[0], false_alarm_row=200) for _ in beta]
    corpus = alpha + beta
    scored = [
        score_file_rows(scores, labelled.windows)
        for labelled, scores in zip(corpus, alpha_scores + beta_scores, strict=True)
    ]
    without_alpha = held_out_scores(corpus, scored)[0]
    assert without_alpha.split == "without alpha"
    assert without_alpha.tuned_elsewhere == pytest.approx(0.0)
    assert without_alpha.own_best == pytest.approx(100.0)
