"""The scheduler's Prometheus metrics, on a registry passed in (never the process-global one), so a
simulator can run several schedulers in one process.

Names follow kube-scheduler's: `scheduler_schedule_attempts_total{result,profile}` (result is
scheduled | unschedulable | error), `scheduler_scheduling_attempt_duration_seconds` (one
scheduling cycle), `scheduler_e2e_scheduling_duration_seconds` (first seen in the queue to binding
persisted) and `scheduler_pending_pods{queue}` (active | backoff | unschedulable | gated).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

AttemptResult = Literal["scheduled", "unschedulable", "error"]
_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class SchedulerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.attempts = Counter(
            "scheduler_schedule_attempts",
            "Scheduling attempts by result.",
            ["result", "profile"],
            registry=self.registry,
        )
        self.attempt_duration = Histogram(
            "scheduler_scheduling_attempt_duration_seconds",
            "Duration of one scheduling cycle (filter, score, reserve, assume).",
            ["result", "profile"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.e2e_duration = Histogram(
            "scheduler_e2e_scheduling_duration_seconds",
            "From the pod entering the queue to its binding being persisted.",
            ["profile"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.pending = Gauge(
            "scheduler_pending_pods", "Pods waiting in each queue.", ["queue"], registry=self.registry
        )

        self._attempt_children: dict[tuple[str, str], tuple[Counter, Histogram]] = {}
        self._e2e_children: dict[str, Histogram] = {}

    def attempt(self, result: AttemptResult, profile: str, seconds: float) -> None:
        children = self._attempt_children.get((result, profile))
        if children is None:
            children = (self.attempts.labels(result, profile), self.attempt_duration.labels(result, profile))
            self._attempt_children[(result, profile)] = children
        children[0].inc()
        children[1].observe(seconds)

    def bound(self, profile: str, seconds: float) -> None:
        child = self._e2e_children.get(profile)
        if child is None:
            child = self._e2e_children[profile] = self.e2e_duration.labels(profile)
        child.observe(seconds)

    def queue_sizes(self, sizes: Mapping[str, int]) -> None:
        for queue, size in sizes.items():
            if queue != "in-flight":
                self.pending.labels(queue).set(size)
