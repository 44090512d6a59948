"""What the HPA reads before it decides: pods, metric samples, and the per-metric outcome.

A live controller fills these from its pod informer and from metrics.k8s.io, custom.metrics.k8s.io
and external.metrics.k8s.io; the trace replay fills them from a simulated deployment. Either way
the decision code only sees these plain values, so it is pure and replayable. Values are in
milli-units, the way Kubernetes' controller reads quantities.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

PodPhase = Literal["Pending", "Running", "Succeeded", "Failed", "Unknown"]
ConditionStatus = Literal["True", "False", "Unknown"]


@dataclass(frozen=True, slots=True)
class PodState:
    """The parts of a pod the replica calculator reads."""

    name: str
    phase: PodPhase
    start_time: float | None
    """status.startTime (seconds since the epoch), None before the kubelet starts the pod."""
    ready: ConditionStatus | None
    """The Ready condition's status, None when the pod has no Ready condition yet."""
    ready_transition_time: float
    """The Ready condition's lastTransitionTime."""
    container_requests_milli: Mapping[str, Mapping[str, int]]
    """container name -> resource name -> request in milli-units; a missing resource means no request."""
    deleting: bool = False
    """metadata.deletionTimestamp is set."""


@dataclass(frozen=True, slots=True)
class PodMetricSample:
    """One pod's reading from metrics.k8s.io (or a per-pod custom metric)."""

    value_milli: int
    timestamp: float
    window_seconds: float


@dataclass(frozen=True, slots=True)
class PodMetrics:
    """Per-pod samples for a Resource, ContainerResource or Pods metric."""

    samples: Mapping[str, PodMetricSample]
    timestamp: float


@dataclass(frozen=True, slots=True)
class ObjectMetricValue:
    """The value of an Object metric (one number describing one object)."""

    value_milli: int
    timestamp: float


@dataclass(frozen=True, slots=True)
class ExternalMetricValues:
    """The series an External metric selector matched; the HPA sums them."""

    values_milli: tuple[int, ...]
    timestamp: float


@dataclass(frozen=True, slots=True)
class MetricFetchFailed:
    """The metrics API could not answer for this metric."""

    message: str


MetricObservation = PodMetrics | ObjectMetricValue | ExternalMetricValues | MetricFetchFailed


@dataclass(frozen=True, slots=True)
class MetricStatus:
    """One entry of `status.currentMetrics`."""

    type: str
    name: str
    average_utilization: int | None = None
    average_value_milli: int | None = None
    value_milli: int | None = None


@dataclass(frozen=True, slots=True)
class ReplicaProposal:
    """A metric's replica count, with what the metric currently reads."""

    replicas: int
    status: MetricStatus
    timestamp: float


@dataclass(frozen=True, slots=True)
class MetricFailure:
    """Why a metric produced no replica count: the ScalingActive reason and message."""

    reason: str
    message: str


ProposalOutcome = ReplicaProposal | MetricFailure
