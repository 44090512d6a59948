"""Score normalisation helpers shared by Score plugins (kube-scheduler's helper.DefaultNormalizeScore)."""

from __future__ import annotations

import numpy as np

from kubelite.scheduler.framework.interface import MAX_NODE_SCORE, BoolArray, ScoreArray


def normalize(scores: ScoreArray, feasible: BoolArray) -> ScoreArray:
    """kube-scheduler's DefaultNormalizeScore: scale so the best feasible row gets MAX_NODE_SCORE."""
    highest = int(scores[feasible].max()) if feasible.any() else 0
    if highest == 0:
        return np.zeros_like(scores)
    return scores * MAX_NODE_SCORE // highest


def reverse_normalize(scores: ScoreArray, feasible: BoolArray) -> ScoreArray:
    """DefaultNormalizeScore with reverse=true: fewer is better."""
    highest = int(scores[feasible].max()) if feasible.any() else 0
    if highest == 0:
        return np.full_like(scores, MAX_NODE_SCORE)
    return MAX_NODE_SCORE - scores * MAX_NODE_SCORE // highest
