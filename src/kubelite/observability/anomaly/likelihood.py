"""Numenta's anomaly likelihood: how unusual the recent raw anomaly scores are for this series.

After Ahmad, Lavin, Purdy & Agha 2017, "Unsupervised real-time anomaly detection for streaming data"
(Neurocomputing 262), section 3.3. A detector's raw score (prediction error, novelty) is noisy and
its scale differs from series to series, so instead of thresholding it directly we model the raw
scores of the last `long_window` points as a Gaussian and ask how far the mean of the last
`short_window` raw scores lies in its upper tail:

    L_t = 1 - Q((mean_short - mean_long) / std_long)

The reported score is NAB's log transform of L_t, log(1 - L_t) / log(1e-10) clipped to [0, 1], which
spreads the region near L_t = 1 so that a single corpus-wide threshold can separate it.

State: one ring buffer of `long_window` floats with running sums, so memory is bounded and each
update costs O(1).
"""

from __future__ import annotations

import math

_LOG_EPSILON = math.log(1e-10)
# A floor on the long-run deviation, so a perfectly flat raw score does not make every blip infinite.
_MIN_STD = 1e-4


class AnomalyLikelihood:
    """Turns a stream of raw scores in [0, 1] into log-likelihood scores in [0, 1]."""

    def __init__(self, long_window: int = 1000, short_window: int = 10, learning_points: int = 100) -> None:
        self._long = [0.0] * long_window
        self._short = [0.0] * short_window
        self._long_sum = 0.0
        self._long_square_sum = 0.0
        self._short_sum = 0.0
        self._count = 0
        self._learning_points = learning_points

    def update(self, raw_score: float) -> float:
        """Add one raw score and return the log-likelihood that the recent scores are abnormal."""
        long_slot = self._count % len(self._long)
        short_slot = self._count % len(self._short)
        old = self._long[long_slot]
        self._long_sum += raw_score - old
        self._long_square_sum += raw_score * raw_score - old * old
        self._long[long_slot] = raw_score
        self._short_sum += raw_score - self._short[short_slot]
        self._short[short_slot] = raw_score
        self._count += 1
        if self._count < self._learning_points:
            return 0.0
        size = min(self._count, len(self._long))
        mean = self._long_sum / size
        variance = max(self._long_square_sum / size - mean * mean, 0.0)
        std = max(math.sqrt(variance), _MIN_STD)
        short_mean = self._short_sum / min(self._count, len(self._short))
        z = (short_mean - mean) / std
        tail = 0.5 * math.erfc(z / math.sqrt(2.0))
        if tail <= 1e-10:
            return 1.0
        return min(1.0, max(0.0, math.log(tail) / _LOG_EPSILON))
