"""Per-series anomaly decisions for live metrics: one detector per series, threshold crossings, alerts.

This is the pure core of the in-cluster anomaly detector (the I/O loop lives in
`kubelite.observability.anomaly_component`). Data flow: a `MetricSample` (series key, timestamp,
value) -> the series' own `Detector` (created on first sight by name from `registry`) -> a score in
[0, 1] -> `AnomalyMonitor.observe` returns an `Observation`: the score and, when the score is at or
above the threshold, an `Alert` saying whether to *create* a new Event or *increment* the one already
raised for this episode.

De-duplication follows the Kubernetes event correlator (client-go `tools/record`), which folds
repeats of the same event into one object with a rising `count` for as long as they keep coming:
an episode starts at a crossing and lasts until `quiet_seconds` pass without another crossing; the
crossings inside it increment the same Event. Time comes from the injected `Clock`. Series that have
not reported for `stale_seconds` are dropped, so the state stays bounded as pods come and go.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from kubelite.clock import Clock
from kubelite.observability.anomaly.detector import Detector
from kubelite.observability.anomaly.registry import DEFAULT_DETECTOR, make_detector

ObjectKind = Literal["Node", "Pod", ""]
AlertAction = Literal["create", "increment"]

# The ensemble's pooled NAB threshold (standard profile) on the development corpus, rounded; one
# threshold serves every series because scores are likelihood-calibrated per series.
DEFAULT_THRESHOLD = 0.30
# Kubernetes' event correlator aggregates similar events within ten minutes.
DEFAULT_QUIET_SECONDS = 600.0
DEFAULT_STALE_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class SeriesKey:
    """Which metric of which object: `metric` names the measurement (e.g. `cpu`, `memory`)."""

    metric: str
    object_kind: ObjectKind
    namespace: str
    name: str

    @property
    def series(self) -> str:
        """A readable identifier, e.g. `pod/default/web-1/memory`."""
        parts = [self.object_kind.lower() or "series", self.namespace, self.name, self.metric]
        return "/".join(part for part in parts if part)


@dataclass(frozen=True, slots=True)
class MetricSample:
    """One value of one series at one time (epoch seconds)."""

    key: SeriesKey
    timestamp: float
    value: float


@dataclass(frozen=True, slots=True)
class Alert:
    """Raise (`create`) or repeat (`increment`) the Event of an anomaly episode."""

    key: SeriesKey
    action: AlertAction
    score: float
    value: float
    count: int
    first_seen: float
    last_seen: float


@dataclass(frozen=True, slots=True)
class Observation:
    """The score of one sample and the alert it caused, if any."""

    key: SeriesKey
    score: float
    alert: Alert | None


@dataclass
class _SeriesState:
    detector: Detector
    last_sample_time: float
    last_timestamp: float | None = None
    episode_count: int = 0
    episode_first: float = 0.0
    episode_last: float = float("-inf")


@dataclass(frozen=True)
class MonitorSettings:
    """How the monitor scores and alerts."""

    detector: str = DEFAULT_DETECTOR
    """The registered detector kind built for every series."""
    threshold: float = DEFAULT_THRESHOLD
    """A score at or above this is an anomaly."""
    quiet_seconds: float = DEFAULT_QUIET_SECONDS
    """An episode ends after this long without a crossing; the next crossing raises a new Event."""
    stale_seconds: float = DEFAULT_STALE_SECONDS
    """Series silent for this long are forgotten."""


class AnomalyMonitor:
    """Keeps one detector per series and turns threshold crossings into de-duplicated alerts."""

    def __init__(
        self,
        clock: Clock,
        settings: MonitorSettings = MonitorSettings(),
        detector_factory: Callable[[], Detector] | None = None,
    ) -> None:
        self._clock = clock
        self._settings = settings
        self._factory = detector_factory or (lambda: make_detector(settings.detector))
        self._series: dict[SeriesKey, _SeriesState] = {}

    @property
    def series_count(self) -> int:
        return len(self._series)

    def observe(self, sample: MetricSample) -> Observation | None:
        """Score one sample; None when it repeats a timestamp already seen for its series."""
        now = self._clock.now()
        state = self._series.get(sample.key)
        if state is None:
            state = _SeriesState(self._factory(), now)
            self._series[sample.key] = state
        # A metrics endpoint polled faster than it refreshes returns the same sample again; feeding
        # it twice would teach the detector a flat line that is not there.
        if state.last_timestamp is not None and sample.timestamp <= state.last_timestamp:
            return None
        state.last_timestamp = sample.timestamp
        state.last_sample_time = now
        score = state.detector.update(sample.timestamp, sample.value)
        if score < self._settings.threshold:
            return Observation(sample.key, score, None)
        in_episode = now - state.episode_last <= self._settings.quiet_seconds
        if in_episode:
            state.episode_count += 1
            action: AlertAction = "increment"
        else:
            state.episode_count = 1
            state.episode_first = now
            action = "create"
        state.episode_last = now
        alert = Alert(sample.key, action, score, sample.value, state.episode_count, state.episode_first, now)
        return Observation(sample.key, score, alert)

    def forget_stale(self) -> list[SeriesKey]:
        """Drop series that have not reported for `stale_seconds`; return their keys."""
        cutoff = self._clock.now() - self._settings.stale_seconds
        stale = [key for key, state in self._series.items() if state.last_sample_time < cutoff]
        for key in stale:
            del self._series[key]
        return stale
