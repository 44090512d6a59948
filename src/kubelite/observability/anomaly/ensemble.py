"""The default detector: multi-scale context novelty plus spatial jumps and flatlines, reported at onset.

Data flow per point:

1. `MultiResolutionNovelty`: three `ContextNoveltyDetector` raw scores at quantisation
   resolutions 6, 10 and 16 (no single bucket width decides what a "new pattern" is: a coarse grid
   ignores noise and sees level shifts, a fine one sees subtle changes of shape) and one
   `PhaseNovelty` raw score (is this level established for this hour of the day?) are averaged with equal
   weights and judged by Numenta's anomaly likelihood (Ahmad et al. 2017). Averaging raw scores
   before the likelihood scored better than averaging likelihoods and costs one likelihood instead
   of four.
2. The same on means of 4-point blocks (`BlockMeanDetector`), so slower changes become patterns;
   the two time scales are combined by `max` of their calibrated (likelihood) scores.
3. `SpatialAnomalyOverride`: a value 5% of the span beyond the range seen so far scores 1.0, as in
   Numenta's NAB detector; `FlatlineRecordOverride`: a run of identical values longer than any
   before scores 1.0 (the same rule for duration).
4. `OnsetFilter`: each excursion is reported once, with its peak, shortly after it starts.

State: six bounded context tables, two time-of-day tables, two likelihood windows, the running
range and one hold buffer.
"""

from __future__ import annotations

from kubelite.observability.anomaly.context import ContextNoveltyDetector
from kubelite.observability.anomaly.detector import Detector
from kubelite.observability.anomaly.downsample import BlockMeanDetector
from kubelite.observability.anomaly.flatline import FlatlineRecordOverride
from kubelite.observability.anomaly.likelihood import AnomalyLikelihood
from kubelite.observability.anomaly.phase import PhaseNovelty
from kubelite.observability.anomaly.spatial import SpatialAnomalyOverride
from kubelite.observability.anomaly.suppression import DEFAULT_HOLD, OnsetFilter

RESOLUTIONS = (6, 10, 16)


class MultiResolutionNovelty:
    """The likelihood of the mean raw novelty over several resolutions and the time of day."""

    NAME = "novelty"

    def __init__(self, resolutions: tuple[int, ...] = RESOLUTIONS) -> None:
        self._detectors = [
            ContextNoveltyDetector(levels=levels, use_likelihood=False) for levels in resolutions
        ]
        self._phase = PhaseNovelty(levels=min(resolutions))
        self._likelihood = AnomalyLikelihood()

    def update(self, timestamp: float, value: float) -> float:
        novelty = sum(detector.raw_score(value) for detector in self._detectors)
        novelty += self._phase.raw_score(timestamp, value)
        return self._likelihood.update(novelty / (len(self._detectors) + 1))


class MaxOfDetectors:
    """Combines calibrated detectors by taking the largest score at each point."""

    def __init__(self, members: list[Detector]) -> None:
        self._members = members

    def update(self, timestamp: float, value: float) -> float:
        return max([member.update(timestamp, value) for member in self._members])


class EnsembleDetector:
    """Two-scale context novelty, spatial jumps and flatline records, reported at onset."""

    NAME = "ensemble"

    def __init__(
        self, resolutions: tuple[int, ...] = RESOLUTIONS, hold: int = DEFAULT_HOLD, block: int = 4
    ) -> None:
        fine = MultiResolutionNovelty(resolutions)
        coarse = BlockMeanDetector(MultiResolutionNovelty(resolutions), block)
        two_scales = MaxOfDetectors([fine, coarse])
        self._pipeline = OnsetFilter(FlatlineRecordOverride(SpatialAnomalyOverride(two_scales)), hold=hold)

    def update(self, timestamp: float, value: float) -> float:
        return self._pipeline.update(timestamp, value)
