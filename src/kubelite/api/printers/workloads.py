"""Table rows for the workload kinds: Deployment, ReplicaSet and HorizontalPodAutoscaler.

Columns and cell formats follow pkg/printers/internalversion/printers.go (printDeployment,
printReplicaSet, printHorizontalPodAutoscaler with formatHPAMetrics).
"""

from __future__ import annotations

from typing import Any

from kubelite.api.labels import format_label_selector
from kubelite.api.printers.common import (
    AGE_COLUMN,
    NAME_COLUMN,
    JSONObject,
    age_of,
    column,
    dicts,
    get,
    name_of,
)


def _containers_and_images(template_spec: Any) -> tuple[str, str]:
    containers = dicts(get(template_spec, "containers"))
    names = ",".join(str(c.get("name", "")) for c in containers)
    images = ",".join(str(c.get("image", "")) for c in containers)
    return names, images


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


_WORKLOAD_WIDE = [
    column("Containers", description="Names of each container in the template.", wide=True),
    column("Images", description="Images referenced by each container in the template.", wide=True),
    column("Selector", description="Label selector for pods.", wide=True),
]

DEPLOYMENT_COLUMNS = [
    NAME_COLUMN,
    column("Ready", description="Number of the pod with ready state"),
    column(
        "Up-to-date",
        description=(
            "Total number of non-terminated pods targeted by this deployment that have the desired "
            "template spec."
        ),
    ),
    column(
        "Available",
        description=(
            "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."
        ),
    ),
    AGE_COLUMN,
    *_WORKLOAD_WIDE,
]


def deployment_row(obj: JSONObject, now: float) -> list[Any]:
    containers, images = _containers_and_images(get(obj, "spec", "template", "spec"))
    desired = get(obj, "spec", "replicas")
    return [
        name_of(obj),
        f"{_int(get(obj, 'status', 'readyReplicas'))}/{_int(desired) if desired is not None else 1}",
        _int(get(obj, "status", "updatedReplicas")),
        _int(get(obj, "status", "availableReplicas")),
        age_of(obj, now),
        containers,
        images,
        format_label_selector(get(obj, "spec", "selector")),
    ]


REPLICASET_COLUMNS = [
    NAME_COLUMN,
    column("Desired", "integer", "Number of desired pods."),
    column("Current", "integer", "Number of actual replicas."),
    column("Ready", "integer", "Number of ready replicas."),
    AGE_COLUMN,
    *_WORKLOAD_WIDE,
]


def replicaset_row(obj: JSONObject, now: float) -> list[Any]:
    containers, images = _containers_and_images(get(obj, "spec", "template", "spec"))
    desired = get(obj, "spec", "replicas")
    return [
        name_of(obj),
        _int(desired) if desired is not None else 1,
        _int(get(obj, "status", "replicas")),
        _int(get(obj, "status", "readyReplicas")),
        age_of(obj, now),
        containers,
        images,
        format_label_selector(get(obj, "spec", "selector")),
    ]


HPA_COLUMNS = [
    NAME_COLUMN,
    column(
        "Reference",
        description=(
            "reference to scaled resource; horizontal pod autoscaler will learn the current resource "
            "consumption and will set the desired number of pods by using its Scale subresource."
        ),
    ),
    column(
        "Targets",
        description=(
            "metrics contains the specifications for which to use to calculate the desired replica "
            "count (the maximum replica count across all metrics will be used)."
        ),
    ),
    column(
        "MinPods",
        description=(
            "minReplicas is the lower limit for the number of replicas to which the autoscaler can "
            "scale down."
        ),
    ),
    column(
        "MaxPods",
        "integer",
        "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.",
    ),
    column(
        "Replicas",
        "integer",
        (
            "currentReplicas is current number of replicas of pods managed by this autoscaler, as last "
            "seen by the autoscaler."
        ),
    ),
    AGE_COLUMN,
]


_METRIC_SOURCE_KEYS = {
    "Resource": "resource",
    "ContainerResource": "containerResource",
    "Pods": "pods",
    "Object": "object",
    "External": "external",
}


def _metric_target(spec: JSONObject, status: JSONObject | None) -> str:
    """One "name: current/target" pair, as formatHPAMetrics prints it."""
    key = _METRIC_SOURCE_KEYS.get(str(spec.get("type")), "")
    source: JSONObject = get(spec, key) or {}
    target: JSONObject = get(source, "target") or {}
    current: JSONObject = get(status, key, "current") or {}
    name = str(source.get("name") or get(source, "metric", "name") or "")
    if target.get("averageUtilization") is not None:
        utilization = current.get("averageUtilization")
        shown = f"{utilization}%" if utilization is not None else "<unknown>"
        return f"{name}: {shown}/{target['averageUtilization']}%"
    wanted = target.get("averageValue") or target.get("value") or "<unknown>"
    observed = current.get("averageValue") or current.get("value") or "<unknown>"
    return f"{name}: {observed}/{wanted}"


def hpa_row(obj: JSONObject, now: float) -> list[Any]:
    reference = get(obj, "spec", "scaleTargetRef") or {}
    metrics = dicts(get(obj, "spec", "metrics"))
    statuses = dicts(get(obj, "status", "currentMetrics"))
    targets = [_metric_target(m, statuses[i] if i < len(statuses) else None) for i, m in enumerate(metrics)]
    text = ", ".join(targets[:2]) + (f" + {len(targets) - 2} more..." if len(targets) > 2 else "")
    min_replicas = get(obj, "spec", "minReplicas")
    return [
        name_of(obj),
        f"{reference.get('kind', '')}/{reference.get('name', '')}",
        text or "<none>",
        str(min_replicas) if min_replicas is not None else "<unset>",
        _int(get(obj, "spec", "maxReplicas")),
        _int(get(obj, "status", "currentReplicas")),
        age_of(obj, now),
    ]
