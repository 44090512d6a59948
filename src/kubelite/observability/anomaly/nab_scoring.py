"""Scoring anomaly detectors by the rules of the Numenta Anomaly Benchmark (NAB v1.1).

Reimplemented from the rules in Lavin & Ahmad 2015, "Evaluating Real-time Anomaly Detection
Algorithms: the Numenta Anomaly Benchmark" (arXiv:1510.03336), and checked against the behaviour of
numenta/NAB's sweeper:

1. The first min(floor(15% of rows), 750) rows of each file are probation: they are never scored,
   but windows still open and close during them.
2. Every row gets a *sweep score*: inside a window [L, R] of width W rows, row i earns
   S(-(R - i + 1) / W) * tp / S(-1), so the earliest detection earns the full tp weight; outside a
   window it earns fp * S(|R_prev - i| / (W_prev - 1)) after the most recent window (S is -1 once the
   argument passes 3), or -fp before the first window.
3. Scores are pooled over the whole corpus and swept over every distinct anomaly score as a
   threshold (a row detects when its score is at or above the threshold). Each window counts its
   best, that is earliest, detection, or -fn if it has none; every detection outside a window adds
   its (negative) sweep score. The threshold with the highest pooled total wins.
4. The total is normalised as 100 * (S - S_null) / (S_perfect - S_null), with perfect = tp per
   window and null = -fn per window.

Data flow: `score_file_rows` turns one file's labels and detector output into `ScoredRows`;
`optimise_threshold` pools the rows of many files for one `CostProfile` and returns a `CorpusScore`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

PROBATION_FRACTION = 0.15
PROBATION_CAP_ROWS = 750
# Rows that are not inside any window are tagged with this window index.
OUTSIDE_WINDOW = -1


@dataclass(frozen=True)
class CostProfile:
    """The weights of one NAB application profile."""

    name: str
    true_positive_weight: float
    false_negative_weight: float
    false_positive_weight: float


PROFILES: dict[str, CostProfile] = {
    "standard": CostProfile("standard", 1.0, 1.0, 0.11),
    "reward_low_FP_rate": CostProfile("reward_low_FP_rate", 1.0, 1.0, 0.22),
    "reward_low_FN_rate": CostProfile("reward_low_FN_rate", 1.0, 2.0, 0.11),
}


def scaled_sigmoid(relative_position: float) -> float:
    """NAB's S(y) = 2 / (1 + exp(5y)) - 1, clamped to -1 once y passes 3 (far after a window)."""
    if relative_position > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * relative_position)) - 1.0


def probation_rows(row_count: int) -> int:
    """How many leading rows of a file are never scored."""
    return int(min(math.floor(PROBATION_FRACTION * row_count), PROBATION_FRACTION * 5000))


@dataclass(frozen=True)
class ScoredRows:
    """One file's scorable rows: anomaly score, unweighted sweep score and window index per row.

    The sweep score is unweighted (S(...) / S(-1) inside windows, S(...) outside) so that one
    `ScoredRows` serves every profile; `window_count` counts the windows with a scorable row.
    """

    anomaly_scores: npt.NDArray[np.float64]
    sweep_scores: npt.NDArray[np.float64]
    window_index: npt.NDArray[np.int64]
    window_count: int


def score_file_rows(anomaly_scores: Sequence[float], windows: Sequence[tuple[int, int]]) -> ScoredRows:
    """Assign every non-probation row its sweep score and window, given windows as row ranges.

    `windows` are inclusive (first_row, last_row) pairs in time order, as NAB's label timestamps
    resolve to rows. Windows lying wholly in probation are dropped, as NAB drops them.
    """
    row_count = len(anomaly_scores)
    sweep = np.empty(row_count, dtype=np.float64)
    window_of_row = np.full(row_count, OUTSIDE_WINDOW, dtype=np.int64)
    full_true_positive = scaled_sigmoid(-1.0)
    previous_right: int | None = None
    previous_width = 0.0
    window_cursor = 0
    row = 0
    while row < row_count:
        if window_cursor < len(windows) and row == windows[window_cursor][0]:
            left, right = windows[window_cursor]
            width = float(right - left + 1)
            for inside in range(left, min(right, row_count - 1) + 1):
                sweep[inside] = scaled_sigmoid(-(right - inside + 1) / width) / full_true_positive
                window_of_row[inside] = window_cursor
            previous_right, previous_width = right, width
            window_cursor += 1
            row = right + 1
            continue
        if previous_right is None:
            sweep[row] = -1.0
        else:
            # A one-row window would divide by zero in NAB too; treat it as far behind at once.
            distance = abs(previous_right - row) / (previous_width - 1.0) if previous_width > 1 else 4.0
            sweep[row] = scaled_sigmoid(distance)
        row += 1
    start = probation_rows(row_count)
    scorable_windows = window_of_row[start:]
    # A window lying wholly in probation has no scorable row, so NAB neither rewards nor charges it;
    # renumber the windows that remain so they stay dense.
    surviving = np.unique(scorable_windows[scorable_windows >= 0])
    renumber = np.full(len(windows) + 1, OUTSIDE_WINDOW, dtype=np.int64)
    renumber[surviving] = np.arange(len(surviving))
    return ScoredRows(
        anomaly_scores=np.asarray(anomaly_scores, dtype=np.float64)[start:],
        sweep_scores=sweep[start:],
        window_index=renumber[scorable_windows],
        window_count=len(surviving),
    )


@dataclass(frozen=True)
class CorpusScore:
    """The result of sweeping one profile's threshold over a pooled corpus."""

    profile: str
    threshold: float
    raw_score: float
    normalised_score: float
    true_positive_windows: int
    false_negative_windows: int
    false_positive_rows: int


def _pool(
    files: Sequence[ScoredRows],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64], int]:
    scores, sweeps, windows = [], [], []
    window_offset = 0
    for scored in files:
        scores.append(scored.anomaly_scores)
        sweeps.append(scored.sweep_scores)
        shifted = np.where(scored.window_index >= 0, scored.window_index + window_offset, OUTSIDE_WINDOW)
        windows.append(shifted)
        window_offset += scored.window_count
    return np.concatenate(scores), np.concatenate(sweeps), np.concatenate(windows), window_offset


def optimise_threshold(files: Sequence[ScoredRows], profile: CostProfile) -> CorpusScore:
    """Sweep every distinct anomaly score as the corpus-wide threshold and keep the best."""
    scores, sweeps, windows, window_count = _pool(files)
    order = np.argsort(-scores, kind="stable")
    scores, sweeps, windows = scores[order], sweeps[order], windows[order]
    outside = windows == OUTSIDE_WINDOW
    false_positive_total = np.cumsum(np.where(outside, sweeps * profile.false_positive_weight, 0.0))
    # Each window starts at -fn and improves to its best detection so far; record the improvements.
    window_gain = np.zeros(len(scores), dtype=np.float64)
    window_best = [-profile.false_negative_weight] * window_count
    window_detected = np.zeros(len(scores), dtype=np.int64)
    for position in np.flatnonzero(~outside).tolist():
        window = int(windows[position])
        candidate = float(sweeps[position]) * profile.true_positive_weight
        if window_best[window] == -profile.false_negative_weight:
            window_detected[position] = 1
        if candidate > window_best[window]:
            window_gain[position] = candidate - window_best[window]
            window_best[window] = candidate
    totals = -profile.false_negative_weight * window_count + false_positive_total + np.cumsum(window_gain)
    # Only the last row of each run of equal scores is a real threshold (ties detect together).
    last_of_run = np.ones(len(scores), dtype=bool)
    last_of_run[:-1] = scores[:-1] != scores[1:]
    candidates = np.flatnonzero(last_of_run)
    null_score = -profile.false_negative_weight * window_count
    best_position = -1
    best_total = null_score
    if len(candidates):
        pick = int(candidates[int(np.argmax(totals[candidates]))])
        if totals[pick] > best_total:
            best_position, best_total = pick, float(totals[pick])
    threshold = float(scores[best_position]) if best_position >= 0 else 1.1
    detected_windows = int(np.sum(window_detected[: best_position + 1]))
    perfect_score = profile.true_positive_weight * window_count
    span = perfect_score - null_score
    return CorpusScore(
        profile=profile.name,
        threshold=threshold,
        raw_score=best_total,
        normalised_score=100.0 * (best_total - null_score) / span if span else 0.0,
        true_positive_windows=detected_windows,
        false_negative_windows=window_count - detected_windows,
        false_positive_rows=int(np.sum(outside[: best_position + 1])),
    )


def score_at_threshold(files: Sequence[ScoredRows], profile: CostProfile, threshold: float) -> float:
    """The normalised score of a fixed threshold (for scoring held-out files with a tuned one)."""
    total = 0.0
    window_count = 0
    for scored in files:
        detected = scored.anomaly_scores >= threshold
        outside = scored.window_index == OUTSIDE_WINDOW
        total += float(np.sum(scored.sweep_scores[detected & outside])) * profile.false_positive_weight
        for window in range(scored.window_count):
            hits = detected & (scored.window_index == window)
            if np.any(hits):
                total += float(np.max(scored.sweep_scores[hits])) * profile.true_positive_weight
            else:
                total -= profile.false_negative_weight
        window_count += scored.window_count
    null_score = -profile.false_negative_weight * window_count
    span = profile.true_positive_weight * window_count - null_score
    return 100.0 * (total - null_score) / span if span else 0.0
