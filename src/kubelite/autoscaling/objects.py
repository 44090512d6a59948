"""Between API objects and the HPA algorithm's typed values: parse once at the boundary.

The live controller reads JSON dicts (an autoscaling/v2 HorizontalPodAutoscaler, the target's
autoscaling/v1 Scale, the target's Pods) and turns them into the frozen values of
`autoscaling.hpa` (`HPASpec`, `ScaleState`, `PodState`); quantities are parsed once, with
`kubelite.api.quantity`, into milli-units as Kubernetes' controller reads them (`MilliValue()`).
In the other direction, a `Decision` becomes the HPA's `status` (currentReplicas, desiredReplicas,
currentMetrics, conditions with lastTransitionTime kept while a condition's status is unchanged,
lastScaleTime). Malformed specs come back as `SpecError` values, not exceptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast, get_args

from kubelite.api.quantity import QuantityError, format_milli, parse_milli
from kubelite.autoscaling.hpa.decide import Condition, Decision
from kubelite.autoscaling.hpa.observations import ConditionStatus, MetricStatus, PodPhase, PodState
from kubelite.autoscaling.hpa.spec import (
    Behavior,
    HPASpec,
    MetricSourceType,
    MetricSpec,
    MetricTarget,
    MetricTargetType,
    ScalingPolicy,
    ScalingRules,
    SelectPolicy,
    default_scale_down,
    default_scale_up,
)

Object = dict[str, Any]
_SOURCE_FIELDS: dict[str, str] = {
    "Resource": "resource",
    "ContainerResource": "containerResource",
    "Pods": "pods",
    "Object": "object",
    "External": "external",
}


@dataclass(frozen=True, slots=True)
class SpecError:
    """Why an HPA spec cannot be used: the ScalingActive=False reason and message."""

    reason: str
    message: str


def parse_time(text: object) -> float | None:
    """An RFC 3339 timestamp as seconds since the epoch, or None."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def format_time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _target(raw: Mapping[str, Any]) -> MetricTarget:
    kind = str(raw.get("type", ""))
    if kind not in get_args(MetricTargetType):
        raise ValueError(f"unknown metric target type {kind!r}")
    value, average = raw.get("value"), raw.get("averageValue")
    utilization = raw.get("averageUtilization")
    return MetricTarget(
        cast(MetricTargetType, kind),
        average_utilization=int(utilization) if utilization is not None else None,
        average_value_milli=parse_milli(average) if average is not None else None,
        value_milli=parse_milli(value) if value is not None else None,
    )


def _metric(raw: Mapping[str, Any]) -> MetricSpec:
    kind = str(raw.get("type", ""))
    if kind not in _SOURCE_FIELDS:
        raise ValueError(f"unknown metric source type {kind!r}")
    source = raw.get(_SOURCE_FIELDS[kind]) or {}
    target = _target(source.get("target") or {})
    source_type = cast(MetricSourceType, kind)
    if kind in ("Resource", "ContainerResource"):
        container = str(source.get("container", "")) if kind == "ContainerResource" else None
        return MetricSpec(source_type, str(source.get("name", "")), target, container=container)
    identifier = source.get("metric") or {}
    described = None
    if kind == "Object":
        reference = source.get("describedObject") or {}
        described = f"{reference.get('kind', '')}/{reference.get('name', '')}"
    return MetricSpec(source_type, str(identifier.get("name", "")), target, described_object=described)


def metric_selector(raw_hpa: Mapping[str, Any], index: int) -> Mapping[str, Any] | None:
    """The label selector of metric `index` (Pods, Object and External metrics may carry one)."""
    metrics = (raw_hpa.get("spec") or {}).get("metrics") or []
    raw = metrics[index] if index < len(metrics) else {}
    source = raw.get(_SOURCE_FIELDS.get(str(raw.get("type", "")), ""), {}) or {}
    selector = (source.get("metric") or {}).get("selector")
    return selector if isinstance(selector, Mapping) else None


def described_object(raw_hpa: Mapping[str, Any], index: int) -> Mapping[str, Any]:
    metrics = (raw_hpa.get("spec") or {}).get("metrics") or []
    raw = metrics[index] if index < len(metrics) else {}
    return cast(Mapping[str, Any], (raw.get("object") or {}).get("describedObject") or {})


def _rules(raw: Mapping[str, Any] | None, default: ScalingRules) -> ScalingRules:
    if not raw:
        return default
    policies = tuple(
        ScalingPolicy(cast(Any, str(p.get("type"))), int(p.get("value", 0)), int(p.get("periodSeconds", 0)))
        for p in raw.get("policies") or []
    )
    window = raw.get("stabilizationWindowSeconds")
    select = str(raw.get("selectPolicy") or "Max")
    if select not in get_args(SelectPolicy):
        raise ValueError(f"unknown selectPolicy {select!r}")
    tolerance = raw.get("tolerance")
    return ScalingRules(
        int(window) if window is not None else default.stabilization_window_seconds,
        cast(SelectPolicy, select),
        policies or default.policies,
        float(parse_milli(tolerance)) / 1000 if tolerance is not None else None,
    )


def hpa_spec(obj: Mapping[str, Any]) -> HPASpec | SpecError:
    """The typed spec of an autoscaling/v2 HPA object (the CPU 80% default when metrics are unset)."""
    spec = obj.get("spec") or {}
    try:
        metrics = tuple(_metric(raw) for raw in spec.get("metrics") or [])
        if not metrics:
            # autoscaling/v2 defaulting: no metrics means CPU utilisation at 80%.
            metrics = (MetricSpec("Resource", "cpu", MetricTarget("Utilization", average_utilization=80)),)
        raw_behavior = spec.get("behavior")
        behavior = None
        if raw_behavior:
            behavior = Behavior(
                _rules(raw_behavior.get("scaleUp"), default_scale_up()),
                _rules(raw_behavior.get("scaleDown"), default_scale_down()),
            )
        minimum = spec.get("minReplicas")
        return HPASpec(
            max_replicas=int(spec.get("maxReplicas", 0)),
            metrics=metrics,
            min_replicas=1 if minimum is None else int(minimum),
            behavior=behavior,
        )
    except (ValueError, TypeError, QuantityError) as error:
        return SpecError("InvalidMetricSourceType", f"the HPA spec could not be read: {error}")


def pod_state(pod: Mapping[str, Any]) -> PodState:
    """The parts of a Pod the replica calculator reads."""
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    phase = str(status.get("phase") or "Pending")
    ready: str | None = None
    transition = 0.0
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Ready":
            ready = str(condition.get("status"))
            transition = parse_time(condition.get("lastTransitionTime")) or 0.0
    requests: dict[str, dict[str, int]] = {}
    for container in spec.get("containers") or []:
        wanted = (container.get("resources") or {}).get("requests") or {}
        parsed: dict[str, int] = {}
        for resource, quantity in wanted.items():
            try:
                parsed[str(resource)] = parse_milli(quantity)
            except QuantityError:
                continue  # admission validates requests; an unreadable one counts as unset
        requests[str(container.get("name", ""))] = parsed
    return PodState(
        name=str(meta.get("name", "")),
        phase=cast(PodPhase, phase if phase in get_args(PodPhase) else "Unknown"),
        start_time=parse_time(status.get("startTime")),
        ready=cast(ConditionStatus, ready) if ready in get_args(ConditionStatus) else None,
        ready_transition_time=transition,
        container_requests_milli=requests,
        deleting=bool(meta.get("deletionTimestamp")),
    )


def condition_entry(condition: Condition, previous_status: Mapping[str, Any], now: float) -> Object:
    """One status condition; lastTransitionTime moves only when the condition's status changes."""
    old = next((c for c in previous_status.get("conditions") or [] if c.get("type") == condition.type), None)
    unchanged = old is not None and old.get("status") == condition.status
    return {
        "type": condition.type,
        "status": condition.status,
        "lastTransitionTime": old.get("lastTransitionTime") if unchanged and old else format_time(now),
        "reason": condition.reason,
        "message": condition.message,
    }


def status_with_condition(
    previous: Mapping[str, Any] | None, current: int, condition: Condition, now: float
) -> Object:
    """The status after a sync that reached no decision: one condition set, the rest kept."""
    previous = previous or {}
    status = dict(previous)
    kept = [c for c in previous.get("conditions") or [] if c.get("type") != condition.type]
    status["conditions"] = [*kept, condition_entry(condition, previous, now)]
    status["currentReplicas"] = current
    status["desiredReplicas"] = int(previous.get("desiredReplicas", current))
    return status


def _metric_status(status: MetricStatus) -> Object:
    current: Object = {}
    if status.average_utilization is not None:
        current["averageUtilization"] = status.average_utilization
    if status.average_value_milli is not None:
        current["averageValue"] = format_milli(status.average_value_milli)
    if status.value_milli is not None:
        current["value"] = format_milli(status.value_milli)
    field = _SOURCE_FIELDS.get(status.type, "resource")
    if status.type in ("Resource", "ContainerResource"):
        return {"type": status.type, field: {"name": status.name, "current": current}}
    return {"type": status.type, field: {"metric": {"name": status.name}, "current": current}}


def hpa_status(
    decision: Decision,
    previous: Mapping[str, Any] | None,
    now: float,
    *,
    scaled: bool,
    observed_generation: int | None,
) -> Object:
    """The HPA's new `status`; `scaled` says the `/scale` write of this sync succeeded."""
    previous = previous or {}
    conditions = [condition_entry(c, previous, now) for c in decision.conditions]
    status: Object = {
        "currentReplicas": decision.current_replicas,
        "desiredReplicas": decision.desired_replicas,
        "currentMetrics": [_metric_status(s) for s in decision.current_metrics] or None,
        "conditions": conditions,
    }
    if observed_generation is not None:
        status["observedGeneration"] = observed_generation
    if scaled:
        status["lastScaleTime"] = format_time(now)
    elif previous.get("lastScaleTime"):
        status["lastScaleTime"] = previous["lastScaleTime"]
    return status
