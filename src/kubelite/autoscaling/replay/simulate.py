"""Replay a load trace through an autoscaler in virtual time, and score the outcome.

The model is the one in docs/autoscaling.md:
- the offered load during trace row i is `scale x value[i]`, constant over the row's step;
- the autoscaler syncs every `sync_seconds` (15 s, the HPA default), so a one-minute row gets four
  syncs (at :00, :15, :30, :45), a 30-minute row gets 120, and rows shorter than that share a sync,
  which sees their mean load; between rows separated by a gap in the trace (missing data) no sync
  happens and the deployment stays as it was;
- every pod requests 1000m of CPU and serves `capacity_per_pod` load units at 100% utilisation;
  the per-pod CPU reading is load / (ready pods x R), spread evenly over the ready pods;
- a pod created at a sync becomes Ready `startup_seconds` later; its readiness is seen at the
  first sync at or after that instant; a scale-down removes starting pods first, then the newest
  ready pods, as a ReplicaSet does;
- a row's `ready_replicas` is the fewest pods that were ready during the row, and the row is a
  violation when load > ready x R. Rows shorter than a minute are scored per minute: the minute's
  mean load against the fewest pods ready in it (`violation_rows` still counts rows).
  Replica-hours count every pod that exists, starting or ready, because a starting pod is already
  paid for.
The same `Autoscaler.sync` a live controller calls is called here, with a `FakeClock` for time.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kubelite.autoscaling.hpa.decide import ScaleState
from kubelite.autoscaling.hpa.observations import PodMetrics, PodMetricSample, PodState
from kubelite.autoscaling.reactive import Autoscaler
from kubelite.autoscaling.replay.trace import LoadTrace
from kubelite.clock import FakeClock

REQUEST_MILLI = 1000
_REQUESTS = {"app": {"cpu": REQUEST_MILLI}}


@dataclass(frozen=True, slots=True)
class ReplayConfig:
    """The replayed service."""

    capacity_per_pod: float
    startup_seconds: float
    scale: float = 1.0
    sync_seconds: float = 15.0


@dataclass(frozen=True, slots=True)
class ReplaySummary:
    """The quality figures of one replay."""

    violation_minutes: float
    replica_hours: float
    mean_slack: float
    scaling_actions: int
    rows: int
    skipped_rows: int
    violation_rows: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "violation_minutes": round(self.violation_minutes, 2),
            "replica_hours": round(self.replica_hours, 2),
            "mean_slack": round(self.mean_slack, 4),
            "scaling_actions": self.scaling_actions,
            "rows": self.rows,
            "skipped_rows": self.skipped_rows,
            "violation_rows": self.violation_rows,
        }


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """Per-row series and the summary."""

    timestamps: npt.NDArray[np.float64]
    load: npt.NDArray[np.float64]
    ready_replicas: npt.NDArray[np.int64]
    desired_replicas: npt.NDArray[np.int64]
    summary: ReplaySummary


class _Pod:
    """A simulated pod: its two observable states, before and after it becomes Ready."""

    __slots__ = ("name", "ready_at", "ready_state", "starting_state")

    def __init__(self, name: str, created: float, ready_at: float) -> None:
        self.name = name
        self.ready_at = ready_at
        self.starting_state = PodState(name, "Running", created, "False", created, _REQUESTS)
        self.ready_state = PodState(name, "Running", created, "True", ready_at, _REQUESTS)


def replay(trace: LoadTrace, config: ReplayConfig, autoscaler: Autoscaler, clock: FakeClock) -> ReplayResult:
    """Run `autoscaler` over `trace`; `clock` must start at the trace's first timestamp."""
    capacity = config.capacity_per_pod
    loads = trace.values * config.scale
    rows = len(trace)
    names = (f"replay-{index}" for index in itertools.count())
    first = float(trace.timestamps[0])
    # Start in steady state: enough ready pods for the first row at a 70% utilisation.
    initial = max(1, math.ceil(loads[0] / (0.7 * capacity)))
    pods = [_Pod(next(names), first - config.startup_seconds - 1, first - 1) for _ in range(initial)]
    ready_series = np.zeros(rows, dtype=np.int64)
    desired_series = np.zeros(rows, dtype=np.int64)
    pod_seconds = 0.0
    actions = 0
    next_sync = first
    # Rows shorter than a sync period are averaged, as a metrics window would: a sync sees the mean
    # load of the rows that began since the previous sync (or of its own row, in a long row).
    unseen_load, unseen_rows = 0.0, 0
    # The ready count only changes at a resize or when a starting pod's time comes, so rows without a
    # sync (many, in a per-second trace) reuse it instead of walking the pods.
    ready_now, readiness_changes_at = _readiness(pods, first)
    for row in range(rows):
        row_start = float(trace.timestamps[row])
        row_end = row_start + trace.step_seconds
        if row + 1 < rows:
            row_end = min(row_end, float(trace.timestamps[row + 1]))
        load = float(loads[row])
        if next_sync < row_start - 1e-9:  # a gap (missing data): no syncs happened in it
            next_sync = row_start
        unseen_load, unseen_rows = unseen_load + load, unseen_rows + 1
        if row_start >= readiness_changes_at:  # a starting pod became ready since the last count
            ready_now, readiness_changes_at = _readiness(pods, row_start)
        fewest_ready = ready_now
        segment_start = row_start
        while next_sync < row_end - 1e-9:
            now = next_sync
            next_sync += config.sync_seconds
            if now > clock.now():
                clock.advance(now - clock.now())
            pod_seconds += len(pods) * (now - segment_start)
            segment_start = now
            seen = unseen_load / unseen_rows if unseen_rows else load
            unseen_load, unseen_rows = 0.0, 0
            ready, _ = _readiness(pods, now)
            per_pod = round(REQUEST_MILLI * seen / (ready * capacity)) if ready else 0
            serving = PodMetricSample(per_pod, now, config.sync_seconds)
            idle = PodMetricSample(0, now, config.sync_seconds)
            states = [pod.ready_state if pod.ready_at <= now else pod.starting_state for pod in pods]
            samples = {pod.name: serving if pod.ready_at <= now else idle for pod in pods}
            scale = ScaleState(len(pods), len(pods))
            decision = autoscaler.sync(now, scale, states, [PodMetrics(samples, now)])
            if decision.rescale:
                actions += 1
                pods = _resize(pods, decision.desired_replicas, now, config.startup_seconds, names)
            ready_now, readiness_changes_at = _readiness(pods, now)
            fewest_ready = min(fewest_ready, ready_now)
        pod_seconds += len(pods) * (row_end - segment_start)
        ready_series[row] = fewest_ready
        desired_series[row] = len(pods)
    minute_loads, minute_ready, minute_weight = _per_minute(trace, loads, ready_series)
    violation_rows = int((loads > ready_series * capacity).sum())
    summary = _summarise(
        minute_loads, minute_ready, minute_weight, capacity, pod_seconds, actions, trace, violation_rows
    )
    return ReplayResult(trace.timestamps, loads, ready_series, desired_series, summary)


def _readiness(pods: list[_Pod], now: float) -> tuple[int, float]:
    """The pods ready at `now`, and when the next starting pod becomes ready (inf if none)."""
    pending = [pod.ready_at for pod in pods if pod.ready_at > now]
    return len(pods) - len(pending), min(pending, default=math.inf)


def _resize(pods: list[_Pod], desired: int, now: float, startup: float, names: Iterator[str]) -> list[_Pod]:
    if desired > len(pods):
        return pods + [_Pod(next(names), now, now + startup) for _ in range(desired - len(pods))]
    # A ReplicaSet deletes not-ready pods before ready ones, and newer pods before older ones.
    ranked = sorted(pods, key=lambda pod: (pod.ready_at > now, pod.ready_at), reverse=True)
    keep = {id(pod) for pod in ranked[len(pods) - desired :]}
    return [pod for pod in pods if id(pod) in keep]


def _per_minute(
    trace: LoadTrace, loads: npt.NDArray[np.float64], ready: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The rows as scored: each row of a minute or longer stands for its own minutes; rows shorter
    than a minute are pooled per minute (their mean load against the fewest pods ready in it), since
    the figures are "minutes where the load exceeded what the ready pods serve". Returns the loads,
    the ready counts and the minutes each scored unit stands for."""
    if trace.step_seconds >= 60.0:
        return loads, ready, np.full(loads.shape, trace.step_seconds / 60.0)
    minute = np.floor((trace.timestamps - trace.timestamps[0]) / 60.0).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, minute[1:] != minute[:-1]])
    counts = np.diff(np.r_[starts, minute.shape[0]])
    mean_loads = np.add.reduceat(loads, starts) / counts
    fewest_ready = np.minimum.reduceat(ready, starts)
    return mean_loads, fewest_ready, np.ones(starts.shape)


def _summarise(
    loads: npt.NDArray[np.float64],
    ready: npt.NDArray[np.int64],
    minutes: npt.NDArray[np.float64],
    capacity: float,
    pod_seconds: float,
    actions: int,
    trace: LoadTrace,
    violation_rows: int,
) -> ReplaySummary:
    served = ready.astype(np.float64) * capacity
    violations = loads > served
    ok = ~violations & (served > 0)
    slack = 1.0 - loads[ok] / served[ok]
    return ReplaySummary(
        violation_minutes=float(minutes[violations].sum()),
        replica_hours=pod_seconds / 3600.0,
        mean_slack=float(slack.mean()) if slack.size else 0.0,
        scaling_actions=actions,
        rows=len(trace),
        skipped_rows=trace.skipped_rows,
        violation_rows=violation_rows,
    )
