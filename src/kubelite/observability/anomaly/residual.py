"""Prediction residual: how far a value falls from a smoothed forecast, on the series' own scale.

The simplest strong baselines on NAB score a point by its distance from a short-memory forecast
(the Windowed Gaussian and Skyline detectors of Lavin & Ahmad 2015 are variants). Here the forecast
is an exponentially weighted moving average, the residual is scaled by the running range, and the
`AnomalyLikelihood` layer (Ahmad et al. 2017) judges whether recent residuals are unusually large
for this series, which is what makes one corpus-wide threshold work across series of any noise level.

State: a handful of floats.
"""

from __future__ import annotations

from kubelite.observability.anomaly.likelihood import AnomalyLikelihood
from kubelite.observability.anomaly.streaming import RunningRange


class ResidualDetector:
    """Scores the surprise of each value against an exponentially smoothed forecast."""

    NAME = "residual"

    def __init__(self, smoothing: float = 0.1) -> None:
        self._smoothing = smoothing
        self._forecast: float | None = None
        self._range = RunningRange()
        self._likelihood = AnomalyLikelihood()

    def raw_score(self, value: float) -> float:
        """The scaled distance from the forecast, in [0, 1]."""
        self._range.observe(value)
        if self._forecast is None:
            self._forecast = value
            return 0.0
        error = min(1.0, abs(value - self._forecast) / self._range.span)
        self._forecast += self._smoothing * (value - self._forecast)
        return error

    def update(self, timestamp: float, value: float) -> float:
        return self._likelihood.update(self.raw_score(value))
