"""One HPA sync as a pure function: spec, scale, pods, metric readings and history in; decision out.

It follows `reconcileAutoscaler` and `computeReplicasForMetrics` in kubernetes/pkg/controller/
podautoscaler/horizontal.go: every metric proposes a replica count and the largest wins; a failed
metric blocks scaling when no metric worked or when the others would scale down (scaling down on
partial data could starve the workload); a target at zero replicas is left alone (scaling disabled);
counts outside [min, max] are first brought back in range; otherwise the proposal is normalised
(`behavior`). The decision carries the status and the three conditions (AbleToScale, ScalingActive,
ScalingLimited) for the controller to write, along with the scale to write through `/scale`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kubelite.autoscaling.hpa import replicas as calc
from kubelite.autoscaling.hpa.behavior import (
    ScalingHistory,
    normalize_with_behavior,
    normalize_without_behavior,
    record_scale_event,
)
from kubelite.autoscaling.hpa.observations import (
    ExternalMetricValues,
    MetricFailure,
    MetricFetchFailed,
    MetricObservation,
    MetricStatus,
    ObjectMetricValue,
    PodMetrics,
    PodState,
    ProposalOutcome,
    ReplicaProposal,
)
from kubelite.autoscaling.hpa.spec import ControllerSettings, HPASpec, MetricSpec


@dataclass(frozen=True, slots=True)
class Condition:
    """An HPA status condition."""

    type: str
    status: str
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class ScaleState:
    """The target's `scale` subresource: spec.replicas and status.replicas."""

    spec_replicas: int
    status_replicas: int


@dataclass(frozen=True, slots=True)
class Decision:
    """What one sync decided, ready to be written back."""

    current_replicas: int
    desired_replicas: int
    rescale: bool
    reason: str
    conditions: tuple[Condition, ...]
    current_metrics: tuple[MetricStatus, ...]
    history: ScalingHistory
    """The controller memory after the sync, assuming the rescale (if any) is written."""
    history_if_rescale_fails: ScalingHistory

    def condition(self, condition_type: str) -> Condition | None:
        return next((c for c in self.conditions if c.type == condition_type), None)


def metric_display_name(metric: MetricSpec) -> str:
    """How Kubernetes names a metric in conditions and events."""
    if metric.type in ("Resource", "ContainerResource"):
        suffix = " utilization (percentage of request)" if metric.target.type == "Utilization" else ""
        kind = "resource" if metric.type == "Resource" else f"container resource ({metric.container})"
        return f"{metric.name} {kind}{suffix}"
    if metric.type == "Pods":
        return f"pods metric {metric.name}"
    if metric.type == "Object":
        kind = (metric.described_object or "").split("/", 1)[0]
        return f"{kind} metric {metric.name}"
    return f"external metric {metric.name}"


def _tolerances(spec: HPASpec, settings: ControllerSettings) -> tuple[float, float]:
    down = up = settings.tolerance
    if spec.behavior is not None:
        if spec.behavior.scale_down.tolerance is not None:
            down = spec.behavior.scale_down.tolerance
        if spec.behavior.scale_up.tolerance is not None:
            up = spec.behavior.scale_up.tolerance
    return down, up


def propose_for_metric(
    metric: MetricSpec,
    observation: MetricObservation,
    scale: ScaleState,
    pods: Sequence[PodState],
    now: float,
    settings: ControllerSettings,
    tolerance: tuple[float, float],
) -> ProposalOutcome:
    """computeReplicasForMetric: one metric's proposal, or why it has none."""
    failure_reasons = {
        "Resource": "FailedGetResourceMetric",
        "ContainerResource": "FailedGetContainerResourceMetric",
        "Pods": "FailedGetPodsMetric",
        "Object": "FailedGetObjectMetric",
        "External": "FailedGetExternalMetric",
    }
    reason = failure_reasons[metric.type]
    if isinstance(observation, MetricFetchFailed):
        return MetricFailure(reason, f"unable to get metric {metric.name}: {observation.message}")
    target = metric.target
    current = scale.spec_replicas
    if metric.type in ("Resource", "ContainerResource", "Pods"):
        if not isinstance(observation, PodMetrics):
            return MetricFailure(reason, f"expected per-pod samples for {metric_display_name(metric)}")
        resource = metric.name if metric.type != "Pods" else ""
        if target.type == "Utilization" and target.average_utilization is not None and metric.type != "Pods":
            outcome = calc.resource_utilization_replicas(
                current, target.average_utilization, metric.name, metric.container, pods,
                observation.samples, now, settings, tolerance,
            )  # fmt: skip
            if isinstance(outcome, MetricFailure):
                return outcome
            replicas, utilization, raw = outcome
            status = MetricStatus(
                metric.type, metric.name, average_utilization=utilization, average_value_milli=raw
            )
            return ReplicaProposal(replicas, status, observation.timestamp)
        if target.type == "AverageValue" and target.average_value_milli is not None:
            plain = calc.plain_metric_replicas(
                current,
                target.average_value_milli,
                resource,
                pods,
                observation.samples,
                now,
                settings,
                tolerance,
            )
            if isinstance(plain, MetricFailure):
                return MetricFailure(reason, plain.message)
            status = MetricStatus(metric.type, metric.name, average_value_milli=plain[1])
            return ReplicaProposal(plain[0], status, observation.timestamp)
        return MetricFailure(reason, f"invalid {metric.type} metric source: no valid target was set")
    if isinstance(observation, ObjectMetricValue):
        total, timestamp = observation.value_milli, observation.timestamp
    elif isinstance(observation, ExternalMetricValues):
        total, timestamp = sum(observation.values_milli), observation.timestamp
    else:
        return MetricFailure(reason, f"expected a single value for {metric_display_name(metric)}")
    if target.type == "Value" and target.value_milli is not None:
        counted = calc.usage_ratio_replicas(current, total / target.value_milli, pods, tolerance)
        if isinstance(counted, MetricFailure):
            return MetricFailure(reason, counted.message)
        return ReplicaProposal(counted, MetricStatus(metric.type, metric.name, value_milli=total), timestamp)
    if target.type == "AverageValue" and target.average_value_milli is not None:
        replicas, average = calc.per_pod_total_replicas(
            scale.status_replicas, total, target.average_value_milli, tolerance
        )
        return ReplicaProposal(
            replicas, MetricStatus(metric.type, metric.name, average_value_milli=average), timestamp
        )
    return MetricFailure(
        reason,
        f"invalid {metric.type.lower()} metric source: "
        "neither a value target nor an average value target was set",
    )


def decide(
    spec: HPASpec,
    scale: ScaleState,
    pods: Sequence[PodState],
    observations: Sequence[MetricObservation],
    history: ScalingHistory,
    now: float,
    settings: ControllerSettings | None = None,
) -> Decision:
    """reconcileAutoscaler, minus the I/O: `observations[i]` is the reading for `spec.metrics[i]`."""
    settings = settings or ControllerSettings()
    current = scale.spec_replicas
    conditions: dict[str, Condition] = {
        "AbleToScale": Condition(
            "AbleToScale",
            "True",
            "SucceededGetScale",
            "the HPA controller was able to get the target's current scale",
        )
    }
    statuses: list[MetricStatus] = []
    desired = 0
    reason = ""
    if current == 0 and spec.min_replicas != 0:
        conditions["ScalingActive"] = Condition(
            "ScalingActive",
            "False",
            "ScalingDisabled",
            "scaling is disabled since the replica count of the target is zero",
        )
        return _finish(current, current, False, "", conditions, statuses, history, history)
    if current > spec.max_replicas:
        desired, reason = spec.max_replicas, "Current number of replicas above Spec.MaxReplicas"
    elif current < spec.min_replicas:
        desired, reason = spec.min_replicas, "Current number of replicas below Spec.MinReplicas"
    else:
        tolerance = _tolerances(spec, settings)
        best = 0
        best_name = ""
        first_failure: MetricFailure | None = None
        failures = 0
        for metric, observation in zip(spec.metrics, observations, strict=True):
            outcome = propose_for_metric(metric, observation, scale, pods, now, settings, tolerance)
            if isinstance(outcome, MetricFailure):
                failures += 1
                first_failure = first_failure or outcome
                continue
            statuses.append(outcome.status)
            if best == 0 or outcome.replicas > best:
                best, best_name = outcome.replicas, metric_display_name(metric)
        if first_failure is not None and (failures >= len(spec.metrics) or best < current):
            conditions["ScalingActive"] = Condition(
                "ScalingActive", "False", first_failure.reason,
                f"the HPA was unable to compute the replica count: {first_failure.message}",
            )  # fmt: skip
            return _finish(current, None, False, "", conditions, statuses, history, history)
        conditions["ScalingActive"] = Condition(
            "ScalingActive", "True", "ValidMetricFound",
            f"the HPA was able to successfully calculate a replica count from {best_name}",
        )  # fmt: skip
        desired = best
        if desired > current:
            reason = f"{best_name} above target"
        elif desired < current:
            reason = "All metrics below target"
        if spec.behavior is None:
            normalized = normalize_without_behavior(
                history, current, desired, spec.min_replicas, spec.max_replicas,
                settings.downscale_stabilization_seconds, now,
            )  # fmt: skip
        else:
            normalized = normalize_with_behavior(
                history, spec.behavior, current, desired, spec.min_replicas, spec.max_replicas,
                settings.downscale_stabilization_seconds, now,
            )  # fmt: skip
        history = normalized.history
        desired = normalized.replicas
        conditions["AbleToScale"] = Condition(
            "AbleToScale", "True", normalized.able_to_scale_reason, normalized.able_to_scale_message
        )
        conditions["ScalingLimited"] = Condition(
            "ScalingLimited", "True" if normalized.limited else "False",
            normalized.limited_reason, normalized.limited_message,
        )  # fmt: skip
    rescale = desired != current
    after = record_scale_event(history, spec.behavior, current, desired, now) if rescale else history
    if rescale:
        conditions["AbleToScale"] = Condition(
            "AbleToScale",
            "True",
            "SucceededRescale",
            f"the HPA controller was able to update the target scale to {desired}",
        )
    return _finish(current, desired, rescale, reason, conditions, statuses, after, history)


def _finish(
    current: int,
    desired: int | None,
    rescale: bool,
    reason: str,
    conditions: dict[str, Condition],
    statuses: list[MetricStatus],
    history: ScalingHistory,
    history_if_rescale_fails: ScalingHistory,
) -> Decision:
    # desired None means "keep the previous status.desiredReplicas": the metrics failed.
    return Decision(
        current_replicas=current,
        desired_replicas=current if desired is None else desired,
        rescale=rescale,
        reason=reason,
        conditions=tuple(conditions.values()),
        current_metrics=tuple(statuses),
        history=history,
        history_if_rescale_fails=history_if_rescale_fails,
    )
