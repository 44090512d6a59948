"""The replica calculator: one metric's readings in, one replica count out.

This reimplements kubernetes/pkg/controller/podautoscaler/replica_calculator.go (autoscaling/v2):
`desired = ceil(current x usage/target)`, where ratios within the tolerance keep the current
count, and where pods are first grouped:
- deleted and failed pods are ignored;
- pending pods are unready; for CPU, a pod in its first 5 minutes (the CPU initialisation period)
  whose Ready condition is False, or whose sample predates one metric window after it became ready,
  is unready, and after that period a pod that is not ready and never was (its readiness changed
  within 30 s of its start) is unready;
- pods without a sample are missing.
Unready pods and missing pods are then put back conservatively: on a scale-up they count as using
nothing, on a scale-down missing pods count as using 100% of their request (or the target, if that
is higher), and a change of direction caused by that rebalancing cancels the scale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kubelite.autoscaling.hpa.observations import (
    MetricFailure,
    MetricStatus,
    PodMetricSample,
    PodState,
    ReplicaProposal,
)
from kubelite.autoscaling.hpa.spec import ControllerSettings


@dataclass(frozen=True, slots=True)
class PodGroups:
    """The outcome of Kubernetes' groupPods."""

    ready_count: int
    unready: frozenset[str]
    missing: frozenset[str]
    ignored: frozenset[str]


def group_pods(
    pods: Sequence[PodState],
    samples: Mapping[str, PodMetricSample],
    resource: str,
    now: float,
    settings: ControllerSettings,
) -> PodGroups:
    """Sort pods into ready, unready, missing and ignored, as groupPods does."""
    ready_count = 0
    unready: set[str] = set()
    missing: set[str] = set()
    ignored: set[str] = set()
    for pod in pods:
        if pod.deleting or pod.phase == "Failed":
            ignored.add(pod.name)
            continue
        if pod.phase == "Pending":
            unready.add(pod.name)
            continue
        sample = samples.get(pod.name)
        if sample is None:
            missing.add(pod.name)
            continue
        if resource == "cpu" and _cpu_sample_unready(pod, sample, now, settings):
            unready.add(pod.name)
            continue
        ready_count += 1
    return PodGroups(ready_count, frozenset(unready), frozenset(missing), frozenset(ignored))


def _cpu_sample_unready(
    pod: PodState, sample: PodMetricSample, now: float, settings: ControllerSettings
) -> bool:
    # CPU is noisy while a pod starts (JIT warm-up, caches), so Kubernetes distrusts early samples.
    if pod.ready is None or pod.start_time is None:
        return True
    if pod.start_time + settings.cpu_initialization_period_seconds > now:
        return pod.ready == "False" or sample.timestamp < pod.ready_transition_time + sample.window_seconds
    never_ready = pod.start_time + settings.initial_readiness_delay_seconds > pod.ready_transition_time
    return pod.ready == "False" and never_ready


def pod_requests(
    pods: Sequence[PodState], resource: str, container: str | None
) -> dict[str, int] | MetricFailure:
    """Each pod's request for `resource` (one container's, or the sum over its containers)."""
    requests: dict[str, int] = {}
    for pod in pods:
        total = 0
        for container_name, container_requests in pod.container_requests_milli.items():
            if container is not None and container_name != container:
                continue
            request = container_requests.get(resource)
            if request is None:
                return MetricFailure(
                    "FailedGetResourceMetric",
                    f"missing request for {resource} in container {container_name} of Pod {pod.name}",
                )
            total += request
        requests[pod.name] = total
    return requests


def _utilization_ratio(
    values: Mapping[str, int], requests: Mapping[str, int], target_percent: int
) -> tuple[float, int, int] | None:
    """GetResourceUtilizationRatio: (usage ratio, utilisation %, raw average) or None if no requests."""
    total = requested = entries = 0
    for name, value in values.items():
        request = requests.get(name)
        if request is None:
            continue
        total += value
        requested += request
        entries += 1
    if requested == 0:
        return None
    utilization = (total * 100) // requested  # Kubernetes truncates to a whole percent.
    return utilization / target_percent, utilization, total // entries


def resource_utilization_replicas(
    current_replicas: int,
    target_percent: int,
    resource: str,
    container: str | None,
    pods: Sequence[PodState],
    samples: Mapping[str, PodMetricSample],
    now: float,
    settings: ControllerSettings,
    tolerance: tuple[float, float],
) -> tuple[int, int, int] | MetricFailure:
    """GetResourceReplicas: (replicas, utilisation %, raw average milli) for a Utilization target."""
    failure_reason = "FailedGetContainerResourceMetric" if container else "FailedGetResourceMetric"
    if not pods:
        return MetricFailure(failure_reason, "no pods returned by selector while calculating replica count")
    groups = group_pods(pods, samples, resource, now, settings)
    values = {
        name: sample.value_milli
        for name, sample in samples.items()
        if name not in groups.ignored and name not in groups.unready
    }
    requests = pod_requests(pods, resource, container)
    if isinstance(requests, MetricFailure):
        return MetricFailure(failure_reason, requests.message)
    if not values:
        return MetricFailure(
            failure_reason, "did not receive metrics for targeted pods (pods might be unready)"
        )
    first = _utilization_ratio(values, requests, target_percent)
    if first is None:
        return MetricFailure(failure_reason, "no metrics returned matched known pods")
    usage_ratio, utilization, raw = first
    scale_up_with_unready = bool(groups.unready) and usage_ratio > 1.0
    if not scale_up_with_unready and not groups.missing:
        if _within_directional(usage_ratio, tolerance):
            return current_replicas, utilization, raw
        return math.ceil(usage_ratio * groups.ready_count), utilization, raw
    if groups.missing:
        if usage_ratio < 1.0:
            fallback_percent = max(100, target_percent)
            for name in groups.missing:
                values[name] = requests[name] * fallback_percent // 100
        elif usage_ratio > 1.0:
            for name in groups.missing:
                values[name] = 0
    if scale_up_with_unready:
        for name in groups.unready:
            values[name] = 0
    second = _utilization_ratio(values, requests, target_percent)
    if second is None:
        return MetricFailure(failure_reason, "no metrics returned matched known pods")
    new_ratio = second[0]
    replicas = _rebalanced_replicas(current_replicas, usage_ratio, new_ratio, len(values), tolerance)
    return replicas, utilization, raw


def _within_directional(ratio: float, tolerance: tuple[float, float]) -> bool:
    """Tolerance check with separate scale-down / scale-up tolerances (equal by default)."""
    # Same float arithmetic as Kubernetes' `math.Abs(1.0-usageRatio) <= tolerance`, so that ratios
    # exactly on the edge (1.1 is 0.10000000000000009 away from 1.0) resolve the same way.
    down, up = tolerance
    distance = 1.0 - ratio
    return -distance <= up if distance < 0 else distance <= down


def _rebalanced_replicas(
    current: int, usage_ratio: float, new_ratio: float, counted: int, tolerance: tuple[float, float]
) -> int:
    # A rebalancing that lands inside the tolerance or flips the direction must not scale at all.
    if (
        _within_directional(new_ratio, tolerance)
        or (usage_ratio < 1.0 and new_ratio > 1.0)
        or (usage_ratio > 1.0 and new_ratio < 1.0)
    ):
        return current
    replicas = math.ceil(new_ratio * counted)
    if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
        return current
    return replicas


def plain_metric_replicas(
    current_replicas: int,
    target_milli: int,
    resource: str,
    pods: Sequence[PodState],
    samples: Mapping[str, PodMetricSample],
    now: float,
    settings: ControllerSettings,
    tolerance: tuple[float, float],
) -> tuple[int, int] | MetricFailure:
    """calcPlainMetricReplicas: (replicas, average milli) for AverageValue targets on per-pod metrics."""
    if not pods:
        return MetricFailure(
            "FailedGetPodsMetric", "no pods returned by selector while calculating replica count"
        )
    groups = group_pods(pods, samples, resource, now, settings)
    values = {
        name: sample.value_milli
        for name, sample in samples.items()
        if name not in groups.ignored and name not in groups.unready
    }
    if not values:
        return MetricFailure(
            "FailedGetPodsMetric", "did not receive metrics for targeted pods (pods might be unready)"
        )
    usage = sum(values.values()) // len(values)
    usage_ratio = usage / target_milli
    scale_up_with_unready = bool(groups.unready) and usage_ratio > 1.0
    if not scale_up_with_unready and not groups.missing:
        if _within_directional(usage_ratio, tolerance):
            return current_replicas, usage
        return math.ceil(usage_ratio * groups.ready_count), usage
    if groups.missing:
        if usage_ratio < 1.0:
            for name in groups.missing:
                values[name] = target_milli
        elif usage_ratio > 1.0:
            for name in groups.missing:
                values[name] = 0
    if scale_up_with_unready:
        for name in groups.unready:
            values[name] = 0
    new_ratio = (sum(values.values()) // len(values)) / target_milli
    return _rebalanced_replicas(current_replicas, usage_ratio, new_ratio, len(values), tolerance), usage


def ready_pod_count(pods: Sequence[PodState]) -> int:
    """getReadyPodsCount: running pods whose Ready condition is True."""
    return sum(1 for pod in pods if pod.phase == "Running" and pod.ready == "True")


def usage_ratio_replicas(
    current_replicas: int, usage_ratio: float, pods: Sequence[PodState], tolerance: tuple[float, float]
) -> int | MetricFailure:
    """getUsageRatioReplicaCount, used by Object and External metrics with a Value target."""
    if current_replicas == 0:
        # Scale from zero (HPAScaleToZero): ready pods do not exist, so the ratio alone decides.
        return math.ceil(usage_ratio)
    if _within_directional(usage_ratio, tolerance):
        return current_replicas
    if not pods:
        return MetricFailure(
            "FailedGetObjectMetric",
            "unable to calculate ready pods: no pods returned by selector while calculating replica count",
        )
    return math.ceil(usage_ratio * ready_pod_count(pods))


def per_pod_total_replicas(
    status_replicas: int, total_milli: int, target_average_milli: int, tolerance: tuple[float, float]
) -> tuple[int, int]:
    """Object and External metrics with an AverageValue target: (replicas, per-pod average milli)."""
    replicas = status_replicas
    usage_ratio = total_milli / (target_average_milli * replicas) if replicas else math.inf
    if not _within_directional(usage_ratio, tolerance):
        replicas = math.ceil(total_milli / target_average_milli)
    average = math.ceil(total_milli / status_replicas) if status_replicas else total_milli
    return replicas, average


def proposal_for_utilization(
    replicas: int, utilization: int, raw: int, kind: str, name: str, timestamp: float
) -> ReplicaProposal:
    status = MetricStatus(kind, name, average_utilization=utilization, average_value_milli=raw)
    return ReplicaProposal(replicas, status, timestamp)
