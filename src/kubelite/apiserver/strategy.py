"""Per-kind rules the registry applies around every write, as Kubernetes' registry strategies do.

- what a create resets (a new Pod starts Pending with its QoS class; Deployments, ReplicaSets,
  Services and HPAs start with an empty status; a Namespace starts Active with the `kubernetes`
  finalizer);
- which kinds split status into a subresource (then the main endpoint ignores status changes and
  the status endpoint ignores everything else);
- when `metadata.generation` moves (only when the desired state, not metadata or status, changes).
"""

from __future__ import annotations

import base64
from typing import Any

import msgspec

from kubelite.api.models.pod import PodSpec
from kubelite.api.pod_resources import qos_class
from kubelite.api.quantity import QuantityError
from kubelite.api.resources import ResourceType

from .objects import clone_object, without_server_fields

_STATUS_CLEARED_ON_CREATE = frozenset(
    {"deployments.apps", "replicasets.apps", "horizontalpodautoscalers.autoscaling", "services"}
)


# An empty status as Kubernetes serialises it: fields without `omitempty` still appear as zeros.
_EMPTY_STATUS: dict[str, dict[str, Any]] = {
    "replicasets.apps": {"replicas": 0},
    "horizontalpodautoscalers.autoscaling": {"desiredReplicas": 0},
    "services": {"loadBalancer": {}},
}


def convert_input(resource: ResourceType, obj: dict[str, Any]) -> None:
    """Input-only fields folded into stored ones, as Kubernetes' v1 conversion does.

    A Secret's `stringData` is written into `data` (base64), overriding keys of the same name,
    and is never stored or returned.
    """
    if resource.key == "secrets" and "stringData" in obj:
        string_data = obj.pop("stringData")
        if isinstance(string_data, dict):
            data = obj.get("data") if isinstance(obj.get("data"), dict) else {}
            assert isinstance(data, dict)
            for key, value in string_data.items():
                if isinstance(value, str):
                    data[key] = base64.b64encode(value.encode()).decode()
            obj["data"] = data


def has_status_subresource(resource: ResourceType) -> bool:
    return "status" in resource.subresources


def prepare_for_create(resource: ResourceType, obj: dict[str, Any]) -> None:
    """Reset what a client may not set on creation."""
    if resource.key == "pods":
        obj["status"] = {"phase": "Pending", "qosClass": pod_qos_class(obj)}
    elif resource.key == "namespaces":
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
        assert isinstance(spec, dict)
        spec.setdefault("finalizers", ["kubernetes"])
        obj["spec"] = spec
        obj["status"] = {"phase": "Active"}
    elif resource.key in _STATUS_CLEARED_ON_CREATE:
        obj["status"] = dict(_EMPTY_STATUS.get(resource.key, {}))


def merge_for_update(
    resource: ResourceType, new: dict[str, Any], current: dict[str, Any], subresource: str
) -> dict[str, Any]:
    """The object to store for an update of the main resource or of its status."""
    if subresource == "binding":
        return new  # a server-side mutation of the whole pod, already checked by the binding handler
    if subresource == "status":
        # Only status moves, plus annotations (Kubernetes' status strategies keep the spec and
        # labels but let controllers record annotations such as a Deployment's revision).
        merged = clone_object(current)
        merged["status"] = new.get("status", {})
        annotations = new.get("metadata", {}).get("annotations") if isinstance(new.get("metadata"), dict) else None
        if isinstance(annotations, dict):
            merged["metadata"]["annotations"] = annotations
        return merged
    if has_status_subresource(resource) and resource.key != "nodes":
        # Status is written only through /status; the main endpoint keeps what is stored.
        if "status" in current:
            new["status"] = current["status"]
        else:
            new.pop("status", None)
    return new


def next_generation(new: dict[str, Any], current: dict[str, Any] | None) -> int:
    """1 on creation; +1 whenever the desired state (everything but metadata and status) changes."""
    if current is None:
        return 1
    generation = current.get("metadata", {}).get("generation", 1)
    generation = generation if isinstance(generation, int) else 1
    if without_server_fields(new) != without_server_fields(current):
        return generation + 1
    return generation


def pod_qos_class(pod: dict[str, Any]) -> str:
    """Guaranteed, Burstable or BestEffort; an unreadable spec is left for validation to reject."""
    try:
        spec = msgspec.convert(pod.get("spec") or {}, PodSpec, from_attributes=False)
        return qos_class(spec)
    except (msgspec.ValidationError, QuantityError, TypeError, ValueError):
        return "BestEffort"
