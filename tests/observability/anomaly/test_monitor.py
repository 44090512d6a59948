"""The per-series monitor: one detector per series, threshold crossings and episode de-duplication."""

from __future__ import annotations

import pytest

from kubelite.clock import FakeClock
from kubelite.observability.anomaly.monitor import AnomalyMonitor, MetricSample, MonitorSettings, SeriesKey

POD_MEMORY = SeriesKey("memory", "Pod", "default", "web-1")
NODE_CPU = SeriesKey("cpu", "Node", "", "node-a")


class ScriptedDetector:
    """Returns the sample value as the score, so each test states its scores directly."""

    def update(self, timestamp: float, value: float) -> float:
        return value


def _monitor(clock: FakeClock, quiet: float = 600.0) -> AnomalyMonitor:
    return AnomalyMonitor(clock, MonitorSettings(threshold=0.5, quiet_seconds=quiet), ScriptedDetector)


@pytest.mark.parametrize(
    ("scores", "expected_actions"),
    [
        ([0.1, 0.2, 0.3], [None, None, None]),
        ([0.1, 0.9, 0.1], [None, "create", None]),
        ([0.9, 0.8, 0.2, 0.7], ["create", "increment", None, "increment"]),
        ([0.5], ["create"]),
    ],
    ids=["quiet", "single-crossing", "repeats-in-episode", "at-threshold"],
)
def test_crossings_create_then_increment(scores: list[float], expected_actions: list[str | None]) -> None:
    clock = FakeClock()
    monitor = _monitor(clock)
    actions = []
    for index, score in enumerate(scores):
        clock.advance(15)
        observation = monitor.observe(MetricSample(POD_MEMORY, float(index), score))
        assert observation is not None
        actions.append(observation.alert.action if observation.alert else None)
    assert actions == expected_actions


def test_counts_rise_within_an_episode_and_restart_after_the_quiet_period() -> None:
    clock = FakeClock()
    monitor = _monitor(clock, quiet=600.0)
    counts = []
    for index, (advance, score) in enumerate([(15, 0.9), (15, 0.9), (15, 0.9), (601, 0.9), (15, 0.9)]):
        clock.advance(advance)
        observation = monitor.observe(MetricSample(NODE_CPU, float(index), score))
        assert observation is not None and observation.alert is not None
        counts.append((observation.alert.action, observation.alert.count))
    assert counts == [("create", 1), ("increment", 2), ("increment", 3), ("create", 1), ("increment", 2)]


def test_series_are_independent_and_repeated_timestamps_are_skipped() -> None:
    clock = FakeClock()
    monitor = _monitor(clock)
    first = monitor.observe(MetricSample(POD_MEMORY, 100.0, 0.9))
    repeat = monitor.observe(MetricSample(POD_MEMORY, 100.0, 0.9))
    other = monitor.observe(MetricSample(NODE_CPU, 100.0, 0.9))
    assert first is not None and first.alert is not None and first.alert.action == "create"
    assert repeat is None
    assert other is not None and other.alert is not None and other.alert.action == "create"
    assert monitor.series_count == 2


def test_stale_series_are_forgotten() -> None:
    clock = FakeClock()
    monitor = AnomalyMonitor(clock, MonitorSettings(stale_seconds=60.0), ScriptedDetector)
    monitor.observe(MetricSample(POD_MEMORY, 1.0, 0.0))
    clock.advance(30)
    monitor.observe(MetricSample(NODE_CPU, 1.0, 0.0))
    clock.advance(45)
    assert monitor.forget_stale() == [POD_MEMORY]
    assert monitor.series_count == 1


def test_default_detector_is_the_registered_ensemble() -> None:
    clock = FakeClock()
    monitor = AnomalyMonitor(clock)
    observation = monitor.observe(MetricSample(NODE_CPU, 1.0, 42.0))
    assert observation is not None and 0.0 <= observation.score <= 1.0
