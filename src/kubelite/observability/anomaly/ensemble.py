"""The default detector: multi-resolution context novelty, judged by likelihood, reported at onset.

Three `ContextNoveltyDetector` raw scores at quantisation resolutions 6, 10 and 16 are averaged, so
that no single bucket width decides what counts as "a new pattern": a coarse grid ignores noise and
sees level shifts, a fine one sees subtle changes of shape. The average goes through Numenta's
anomaly likelihood (Ahmad et al. 2017) and then the `OnsetFilter`, so each excursion is reported
once, when it starts. Averaging raw scores before the likelihood, rather than averaging likelihoods,
scored better on the development corpus and costs one likelihood instead of three.

State: three bounded context tables, one likelihood window and one hold buffer.
"""

from __future__ import annotations

from kubelite.observability.anomaly.context import ContextNoveltyDetector
from kubelite.observability.anomaly.likelihood import AnomalyLikelihood
from kubelite.observability.anomaly.suppression import OnsetFilter

RESOLUTIONS = (6, 10, 16)


class _MultiResolutionNovelty:
    """The likelihood of the mean raw novelty over several quantisation resolutions."""

    def __init__(self, resolutions: tuple[int, ...]) -> None:
        self._detectors = [
            ContextNoveltyDetector(levels=levels, use_likelihood=False) for levels in resolutions
        ]
        self._likelihood = AnomalyLikelihood()

    def update(self, timestamp: float, value: float) -> float:
        raw = sum(detector.raw_score(value) for detector in self._detectors) / len(self._detectors)
        return self._likelihood.update(raw)


class EnsembleDetector:
    """Multi-resolution context novelty with anomaly likelihood and onset reporting."""

    NAME = "ensemble"

    def __init__(self, resolutions: tuple[int, ...] = RESOLUTIONS, hold: int = 200) -> None:
        self._pipeline = OnsetFilter(_MultiResolutionNovelty(resolutions), hold=hold)

    def update(self, timestamp: float, value: float) -> float:
        return self._pipeline.update(timestamp, value)
