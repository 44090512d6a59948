"""The replay harness: outage rows skipped, CSV columns, and both policies on a seasonal load."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from kubelite.autoscaling.hpa.observations import PodMetrics
from kubelite.autoscaling.hpa.spec import cpu_utilization_hpa
from kubelite.autoscaling.predictive.policy import PredictiveAutoscaler, PredictiveSettings
from kubelite.autoscaling.reactive import ReactiveAutoscaler
from kubelite.autoscaling.replay.simulate import ReplayConfig, replay
from kubelite.autoscaling.replay.trace import LoadTrace, load_trace
from kubelite.clock import FakeClock

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def test_outage_rows_are_skipped_not_zero(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "timestamp_local,requests,seconds_covered,outage\n"
        "1995-07-01 00:00:00,10,60,0\n1995-07-01 00:01:00,0,60,1\n1995-07-01 00:02:00,12,60,0\n"
    )
    trace = load_trace(path, "requests")
    assert list(trace.values) == [10.0, 12.0] and trace.skipped_rows == 1


def _daily_trace(days: int) -> LoadTrace:
    minutes = np.arange(days * 1440, dtype=np.float64)
    load = 600 + 500 * np.sin(2 * math.pi * minutes / 1440) ** 2
    return LoadTrace(1_700_000_000.0 + minutes * 60, load, 60.0, 0)


@pytest.mark.parametrize("policy", ["hpa", "predictive"])
def test_replay_reports_consistent_series(policy: str) -> None:
    trace = _daily_trace(1)
    spec = cpu_utilization_hpa(70, 1, 1000)
    scaler = (
        ReactiveAutoscaler(spec) if policy == "hpa" else PredictiveAutoscaler(spec, PredictiveSettings(120.0))
    )
    result = replay(trace, ReplayConfig(100.0, 120.0), scaler, FakeClock(float(trace.timestamps[0])))
    assert result.ready_replicas.shape == result.load.shape
    assert (result.ready_replicas <= result.desired_replicas + 1000).all()
    violations = int((result.load > result.ready_replicas * 100.0).sum())
    assert result.summary.violation_rows == violations
    assert 0.0 < result.summary.mean_slack < 1.0


def test_predictive_beats_hpa_on_a_smooth_daily_cycle() -> None:
    trace = _daily_trace(3)
    spec = cpu_utilization_hpa(70, 1, 1000)
    config = ReplayConfig(100.0, 120.0)
    hpa = replay(trace, config, ReactiveAutoscaler(spec), FakeClock(float(trace.timestamps[0]))).summary
    predictive = replay(
        trace,
        config,
        PredictiveAutoscaler(spec, PredictiveSettings(120.0)),
        FakeClock(float(trace.timestamps[0])),
    ).summary
    assert predictive.violation_minutes <= hpa.violation_minutes / 2


@pytest.mark.skipif(not (DATA / "load").exists(), reason="evaluation data not present")
def test_nasa_trace_reads_with_outage_rows_skipped() -> None:
    trace = load_trace(DATA / "load" / "nasa_http_1995_requests_per_minute.csv", "requests")
    assert trace.skipped_rows == 2263 and trace.step_seconds == 60.0


def test_foresight_bounds_score_like_a_replay() -> None:
    from kubelite.autoscaling.replay.bounds import foresight_bounds

    load = np.array([150.0, 250.0, 90.0, 400.0, 100.0, 300.0])
    trace = LoadTrace(np.arange(6, dtype=np.float64) * 60, load, 60.0, 0)
    perfect, known = foresight_bounds(trace, 100.0, 1.0, 0.99, 3)
    # ceil(load / 100) pods: 2, 3, 1, 4, 1, 3 -> 14 pod-minutes; slack from rounding only
    assert perfect.violation_minutes == 0 and perfect.replica_hours == pytest.approx(14 / 60)
    expected_slack = np.mean(1 - load / (np.ceil(load / 100) * 100))
    assert perfect.mean_slack == pytest.approx(expected_slack)
    assert known.replica_hours >= perfect.replica_hours


def test_predictive_anticipates_a_daily_step_seen_the_day_before() -> None:
    """Half-hour rows, not aligned to the epoch, with a morning step the HPA always meets late."""
    from kubelite.autoscaling.predictive.forecast import ForecastSettings

    rows = np.arange(8 * 48)
    busy = ((rows % 48) >= 14) & ((rows % 48) < 40)
    load = np.where(busy, 9000.0, 2500.0) + 300 * np.sin(rows)
    trace = LoadTrace(1_700_000_000.0 + rows * 1800.0, load, 1800.0, 0)
    spec = cpu_utilization_hpa(70, 1, 1000)
    config = ReplayConfig(1000.0, 120.0)
    hpa = replay(trace, config, ReactiveAutoscaler(spec), FakeClock(float(trace.timestamps[0]))).summary
    settings = PredictiveSettings(120.0, forecast=ForecastSettings(bucket_seconds=1800.0))
    predictive = replay(
        trace, config, PredictiveAutoscaler(spec, settings), FakeClock(float(trace.timestamps[0]))
    ).summary
    assert hpa.violation_rows == 8  # every morning
    assert predictive.violation_rows <= 2  # only before it has seen a whole day


def test_floor_yardstick_keeps_no_more_than_the_policies_above_it() -> None:
    """`--policy floor` follows the reactive recommendation alone: the HPA (which stabilises it over
    5 minutes) and the predictive autoscaler (which never goes below it) both keep more replicas."""
    from kubelite.cli.autoscale import build_autoscaler

    noise = np.random.default_rng(7).normal(0, 40, 2 * 1440)
    base = _daily_trace(2)
    trace = LoadTrace(base.timestamps, np.maximum(base.values + noise, 0), 60.0, 0)
    config = ReplayConfig(100.0, 120.0)
    summaries = {
        policy: replay(
            trace, config, build_autoscaler(policy, 120.0), FakeClock(float(trace.timestamps[0]))
        ).summary
        for policy in ("floor", "hpa", "predictive")
    }
    floor = summaries["floor"]
    assert floor.replica_hours < summaries["hpa"].replica_hours
    assert floor.replica_hours < summaries["predictive"].replica_hours
    assert floor.violation_minutes > summaries["predictive"].violation_minutes


class _RecordingHpa(ReactiveAutoscaler):
    """The HPA, noting when it synced and the per-pod CPU (milli) it was shown."""

    def __init__(self) -> None:
        super().__init__(cpu_utilization_hpa(70, 1, 1000))
        self.seen: list[tuple[float, int]] = []

    def sync(self, now, scale, pods, observations):  # type: ignore[no-untyped-def]
        metrics = observations[0]
        assert isinstance(metrics, PodMetrics)
        values = [sample.value_milli for sample in metrics.samples.values() if sample.value_milli]
        self.seen.append((now, values[0] if values else 0))
        return super().sync(now, scale, pods, observations)


def test_rows_shorter_than_a_sync_share_one_that_sees_their_mean() -> None:
    """A 5-second trace still syncs every 15 s (not every row), on the mean of the rows since the last sync."""
    rows = np.arange(12)
    load = np.array([100.0, 200.0, 300.0] * 4)  # 5-s rows: each 15-s window averages 200
    trace = LoadTrace(1_700_000_000.0 + rows * 5.0, load, 5.0, 0)
    hpa = _RecordingHpa()
    replay(trace, ReplayConfig(100.0, 120.0), hpa, FakeClock(float(trace.timestamps[0])))
    times = [now - float(trace.timestamps[0]) for now, _ in hpa.seen]
    assert times == [0.0, 15.0, 30.0, 45.0]
    # 2 ready pods throughout (row 0's 100 at 70%, rounded up; new pods need 120 s): the first sync
    # sees row 0 alone (100 / 200), every later one the mean of its three rows (200 / 200).
    assert [milli for _, milli in hpa.seen] == [500, 1000, 1000, 1000]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        pytest.param("1995-07-01 00:01:00,abc", "line 3: load 'abc' is not a number", id="not-a-number"),
        pytest.param("1995-07-01 00:01:00,-4", "line 3: load '-4' must be a finite number >= 0", id="negative"),
        pytest.param("1995-07-01 00:01:00,inf", "must be a finite number", id="infinite"),
        pytest.param("yesterday,4", "line 3: timestamp 'yesterday'", id="bad-timestamp"),
    ],
)
def test_bad_trace_rows_are_named_errors(tmp_path: Path, row: str, message: str) -> None:
    from kubelite.autoscaling.replay.trace import TraceError

    path = tmp_path / "t.csv"
    path.write_text(f"timestamp,requests\n1995-07-01 00:00:00,10\n{row}\n1995-07-01 00:02:00,12\n")
    with pytest.raises(TraceError, match=message):
        load_trace(path, "requests")


def test_nan_and_empty_loads_are_missing_rows(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("timestamp,requests\n0,10\n60,nan\n120,\n180,12\n")
    trace = load_trace(path, "requests")
    assert list(trace.values) == [10.0, 12.0] and trace.skipped_rows == 2


def test_scale_down_tolerance_stops_pod_boundary_flapping() -> None:
    """A forecast wobbling across a pod boundary makes a scale-down and a scale-up per wobble; the
    dead band keeps the replicas, at a few replica-hours' cost. Poisson request counts with a daily
    cycle, where the forecast's margin (not the reactive floor) sets the replicas."""
    minutes = np.arange(2 * 1440)
    mean = 30 * (1 + 0.5 * np.sin(2 * math.pi * minutes / 1440) ** 2)
    load = np.random.default_rng(3).poisson(mean) * 10.0
    trace = LoadTrace(1_700_000_000.0 + minutes * 60.0, load, 60.0, 0)
    spec = cpu_utilization_hpa(70, 1, 1000)
    results = {}
    for tolerance in (0.0, 0.05):
        scaler = PredictiveAutoscaler(spec, PredictiveSettings(120.0, scale_down_tolerance=tolerance))
        results[tolerance] = replay(
            trace, ReplayConfig(100.0, 120.0), scaler, FakeClock(float(trace.timestamps[0]))
        ).summary
    assert results[0.05].scaling_actions < 0.8 * results[0.0].scaling_actions
    assert results[0.05].violation_minutes <= results[0.0].violation_minutes
    assert results[0.05].replica_hours < 1.05 * results[0.0].replica_hours


def test_rows_shorter_than_a_minute_are_scored_per_minute() -> None:
    """'Minutes where the load exceeded the ready pods': a 10-second spike inside a minute whose
    mean the pods carry is a violating row but not a violation minute."""
    load = np.full(18, 100.0)
    load[8] = 250.0  # 2 ready pods serve 200; the second minute's mean is 125
    load[14] = 990.0  # the third minute's mean is 248: a violation minute
    trace = LoadTrace(1_700_000_000.0 + np.arange(18) * 10.0, load, 10.0, 0)
    summary = replay(
        trace, ReplayConfig(100.0, 120.0), ReactiveAutoscaler(cpu_utilization_hpa(70, 1, 1000)),
        FakeClock(float(trace.timestamps[0])),
    ).summary  # fmt: skip
    assert summary.violation_rows == 2
    assert summary.violation_minutes == 1.0
    # the two minutes without a violation: 1 - 100/200 and 1 - 125/200
    assert summary.mean_slack == pytest.approx((0.5 + 0.375) / 2)
