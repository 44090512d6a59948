"""An online load forecaster: level and damped trend, daily and weekly shape, and its own error.

Readings arrive at every sync and are averaged into fixed buckets (60 s live; a replayed trace's
row length when that is coarser, since its load is constant over a row). Smoothing rates are per
minute and windows in seconds, so they mean the same at any bucket size. Each finished bucket
updates:
- in square-root space (request counts are near-Poisson, so the noise scales like sqrt(load)),
  a level and a damped trend (Holt's linear method with damping, Gardner & McKenzie 1985); the
  level is slow (minute counts are noisy) and the trend slower still (a burst is not a ramp);
- a history of the smoothed level, from which the daily and weekly shape is read as the change the
  load made over the same stretch of time one day and one week earlier (the seasonal differencing
  behind Taylor's double-seasonal Holt-Winters, 2003, and the periodic component Crane's EHPA
  finds with its FFT; a week-old reference is trusted more, as in AWS predictive scaling);
- the error of the forecast it made `horizon` buckets earlier for this bucket.
The forecast is the peak over the buckets from now to (now + lead), as a point value and an upper
value: the point plus the empirical quantile of the recent errors, so the safety margin widens
after surprises and narrows when the load is regular (the recent-error sizing of Google
Autopilot's recommenders, Rzadca et al. 2020).
Everything is O(1) per bucket except the quantile's sorted window, which is kept by insertion
(a bounded list, so one bucket costs a short memmove rather than a sort).
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass

DAY_SECONDS = 86_400.0
WEEK_SECONDS = 7 * DAY_SECONDS


@dataclass(frozen=True, slots=True)
class ForecastSettings:
    """Tuning of the forecaster; the defaults are the ones documented in docs/autoscaling.md.

    Rates are per minute and windows are in seconds, so the same settings hold whatever the bucket:
    with `bucket_seconds` at the resolution of the data (60 s for live metrics read every 15 s, the
    row length of a coarser trace), a bucket of m minutes uses the weight 1 - (1 - rate)^m.
    """

    bucket_seconds: float = 60.0
    level_alpha: float = 0.1
    """Per-minute weight of new readings in the level: low, because minute counts are noisy (bursts
    are caught by the reactive floor and by the error margin)."""
    trend_beta: float = 0.03
    """Per-minute weight of the newest level change in the trend: low, so a burst is not read as a ramp."""
    trend_damping: float = 0.9
    """Per-minute damping of the trend, so that a ramp is not extrapolated for ever."""
    season_smoothing_seconds: float = 900.0
    """Averaged on each side when reading the day- or week-old shape (noise suppression)."""
    weekly_weight: float = 0.6
    """Share of the weekly reference in the seasonal change once a week of history exists."""
    error_window_seconds: float = 2 * DAY_SECONDS
    """Recent errors over this span size the safety margin."""
    error_quantile: float = 0.98
    minimum_errors: int = 30
    """Until this many errors are known, the margin is `initial_margin` (in square-root units)."""
    initial_margin: float = 10.0


@dataclass(frozen=True, slots=True)
class Forecast:
    """The forecast load at a horizon: the point value and the upper (safety) value."""

    point: float
    upper: float
    horizon_seconds: float
    margin: float
    """The relative safety margin: upper / point - 1."""


class SeasonalForecaster:
    """Forecasts a non-negative load series observed at irregular instants."""

    def __init__(self, horizon_seconds: float, settings: ForecastSettings | None = None) -> None:
        self.settings = settings or ForecastSettings()
        bucket_seconds = self.settings.bucket_seconds
        self.horizon_buckets = max(1, math.ceil(horizon_seconds / bucket_seconds))
        minutes = bucket_seconds / 60.0
        self._alpha = 1 - (1 - self.settings.level_alpha) ** minutes
        self._beta = 1 - (1 - self.settings.trend_beta) ** minutes
        self._phi: float = self.settings.trend_damping**minutes
        self._smoothing = round(self.settings.season_smoothing_seconds / bucket_seconds)
        self._error_window = max(
            self.settings.minimum_errors, round(self.settings.error_window_seconds / bucket_seconds)
        )
        self._bucket: int | None = None
        # Buckets start at the first reading, so that they line up with the rows of a coarse trace
        # (a 30-minute trace need not start on a multiple of 30 minutes since the epoch).
        self._origin: float | None = None
        self._bucket_sum = 0.0
        self._bucket_count = 0
        self._level: float | None = None
        self._trend = 0.0
        # Smoothed level per bucket index, for the seasonal look-back (a week and a bit).
        history_length = int(WEEK_SECONDS / bucket_seconds) + 4 * self._smoothing + 4
        self._history: dict[int, float] = {}
        self._history_order: deque[int] = deque()
        self._history_length = history_length
        self._predictions: dict[int, float] = {}
        self._errors: deque[float] = deque()
        self._sorted_errors: list[float] = []
        self._season_cache: dict[tuple[int, int], float] = {}
        self._margin: float | None = None

    @staticmethod
    def _transform(value: float) -> float:
        # Square root: request counts are roughly Poisson, so their noise grows like sqrt(load); in
        # this space the error is about the same at night and at the peak, and one quantile fits both.
        return math.sqrt(max(value, 0.0))

    @staticmethod
    def _inverse(value: float) -> float:
        return max(value, 0.0) ** 2

    def observe(self, timestamp: float, value: float) -> None:
        """Add one reading; finishing a bucket updates the model."""
        if self._origin is None:
            self._origin = timestamp
        bucket = self._bucket_of(timestamp)
        if self._bucket is not None and bucket != self._bucket and self._bucket_count:
            self._finish_bucket(self._bucket, self._bucket_sum / self._bucket_count)
            self._bucket_sum = 0.0
            self._bucket_count = 0
        self._bucket = bucket
        self._bucket_sum += value
        self._bucket_count += 1

    def _bucket_of(self, timestamp: float) -> int:
        # A hair of tolerance: readings at a row's start must not fall into the previous bucket.
        origin = self._origin if self._origin is not None else 0.0
        return math.floor((timestamp - origin) / self.settings.bucket_seconds + 1e-9)

    def _finish_bucket(self, bucket: int, value: float) -> None:
        observed = self._transform(value)
        predicted = self._predictions.pop(bucket, None)
        if predicted is not None:
            self._record_error(observed - predicted)
        # Predictions for buckets that never finished (gaps in the data) must not pile up.
        for stale in [key for key in self._predictions if key < bucket]:
            del self._predictions[stale]
        if self._level is None:
            self._level = observed
        else:
            alpha, beta, phi = self._alpha, self._beta, self._phi
            previous = self._level
            self._level = alpha * observed + (1 - alpha) * (previous + phi * self._trend)
            self._trend = beta * (self._level - previous) + (1 - beta) * phi * self._trend
        self._history[bucket] = self._level
        self._history_order.append(bucket)
        while len(self._history_order) > self._history_length:
            del self._history[self._history_order.popleft()]
        self._predictions[bucket + self.horizon_buckets] = self._point_value(bucket, self.horizon_buckets)

    def _smoothed(self, bucket: int) -> float | None:
        width = self._smoothing
        values = [self._history[b] for b in range(bucket - width, bucket + width + 1) if b in self._history]
        return sum(values) / len(values) if len(values) > width else None

    def _seasonal_change(self, bucket: int, ahead: int) -> float:
        """How the load changed over the next `ahead` buckets, one day and one week ago."""
        cached = self._season_cache.get((bucket, ahead))
        if cached is not None:
            return cached
        if len(self._season_cache) > 64:
            self._season_cache.clear()
        changes: list[tuple[float, float]] = []
        for period, weight in (
            (DAY_SECONDS, 1 - self.settings.weekly_weight),
            (WEEK_SECONDS, self.settings.weekly_weight),
        ):
            lag = round(period / self.settings.bucket_seconds)
            then = self._smoothed(bucket - lag)
            later = self._smoothed(bucket - lag + ahead)
            if then is not None and later is not None:
                changes.append((later - then, weight))
        total_weight = sum(weight for _, weight in changes)
        change = sum(c * w for c, w in changes) / total_weight if total_weight > 0 else 0.0
        self._season_cache[(bucket, ahead)] = change
        return change

    def _point_value(self, bucket: int, ahead: int) -> float:
        assert self._level is not None  # called only after the first bucket
        damped_steps = sum(self._phi**step for step in range(1, ahead + 1))
        return self._level + damped_steps * self._trend + self._seasonal_change(bucket, ahead)

    def _record_error(self, error: float) -> None:
        self._errors.append(error)
        bisect.insort(self._sorted_errors, error)
        if len(self._errors) > self._error_window:
            oldest = self._errors.popleft()
            del self._sorted_errors[bisect.bisect_left(self._sorted_errors, oldest)]
        self._margin = None

    def margin(self) -> float:
        """The safety margin (square-root units): a high quantile of the recent forecast errors."""
        if len(self._errors) < self.settings.minimum_errors:
            return self.settings.initial_margin
        if self._margin is None:  # recomputed once per finished bucket, not at every sync
            ordered = self._sorted_errors
            index = min(len(ordered) - 1, int(self.settings.error_quantile * len(ordered)))
            self._margin = max(0.0, ordered[index])
        return self._margin

    def forecast(self, now: float, lead_seconds: float) -> Forecast | None:
        """The highest load forecast over the buckets up to the one containing now + lead (None
        before any data); the margin is the one learnt at the full horizon, the widest."""
        if self._bucket is None or self._bucket_count == 0:
            return None
        level, trend = self._level, self._trend
        partial = self._transform(self._bucket_sum / self._bucket_count)
        if level is None:
            level = partial
        else:
            # The bucket in progress already says something: fold it in provisionally.
            level = self._alpha * partial + (1 - self._alpha) * (level + self._phi * trend)
        last = self._bucket_of(now + lead_seconds) - self._bucket
        # The peak over the whole path from this bucket to the horizon: a replica removed now is
        # missed at every bucket until a new one could be ready, so the highest forecast counts.
        point_value = max(
            level
            + sum(self._phi**step for step in range(1, ahead + 1)) * trend
            + self._seasonal_change(self._bucket, ahead)
            for ahead in range(0, max(0, last) + 1)
        )
        margin = self.margin()
        point = self._inverse(point_value)
        upper = self._inverse(point_value + margin)
        return Forecast(point, upper, lead_seconds, upper / point - 1 if point > 0 else 0.0)
