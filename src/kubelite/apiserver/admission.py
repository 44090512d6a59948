"""The admission chain every write passes before it reaches the store.

Order, as in Kubernetes: mutating plugins (defaults, then the built-in mutators below), then
validation. A failure at any step raises an `ApiError` and nothing is written.

Built-in mutators:
- DefaultTolerationSeconds: pods tolerate `not-ready` and `unreachable` NoExecute taints for
  `default_toleration_seconds` (300 s by default), so they are evicted from a lost node only after
  that long.
- Priority: a pod's `priorityClassName` resolves to its integer `priority` (the global default
  class, or 0, when absent); an unknown class is refused.
- Service cluster IPs are allocated from the service CIDR.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from kubelite.api import FieldError, default_object, validate_object
from kubelite.api.resources import PRIORITY_CLASSES, SERVICES, ResourceType

from . import errors

Operation = Literal["create", "update"]
ObjectLookup = Callable[[ResourceType, str | None, str], dict[str, Any] | None]
ObjectLister = Callable[[ResourceType], list[dict[str, Any]]]

NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
SYSTEM_PRIORITY_CLASSES = {"system-cluster-critical": 2_000_000_000, "system-node-critical": 2_000_001_000}


@dataclass(frozen=True, slots=True)
class AdmissionSettings:
    default_toleration_seconds: int = 300
    service_cidr: str = "10.96.0.0/12"


def to_causes(field_errors: list[FieldError]) -> list[errors.Cause]:
    return [errors.Cause(error.type, error.message, error.field) for error in field_errors]


class Admission:
    """Mutates and validates objects on create and update."""

    def __init__(self, settings: AdmissionSettings, lookup: ObjectLookup, lister: ObjectLister) -> None:
        self._settings = settings
        self._lookup = lookup
        self._lister = lister
        network = ipaddress.ip_network(settings.service_cidr)
        self._service_network = network
        self._next_service_ip = 10

    async def admit(
        self, resource: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None, operation: Operation
    ) -> None:
        default_object(resource, obj)
        if resource.key == "pods" and operation == "create":
            self._default_tolerations(obj)
            self._resolve_priority(obj)
        if resource.key == "services" and operation == "create":
            self._allocate_cluster_ip(obj)
        field_errors = validate_object(resource, obj, old)
        if field_errors:
            name = (
                str(obj.get("metadata", {}).get("name", "")) if isinstance(obj.get("metadata"), dict) else ""
            )
            raise errors.invalid(resource.kind, resource.group, name, to_causes(field_errors))

    def _default_tolerations(self, pod: dict[str, Any]) -> None:
        spec = pod.get("spec")
        if not isinstance(spec, dict):
            return
        tolerations = spec.get("tolerations")
        if tolerations is None:
            tolerations = []
        if not isinstance(tolerations, list):
            return
        for key in (NOT_READY_TAINT, UNREACHABLE_TAINT):
            covered = any(
                isinstance(t, dict)
                and (t.get("key") == key or (not t.get("key") and t.get("operator") == "Exists"))
                and t.get("effect") in (None, "", "NoExecute")
                for t in tolerations
            )
            if not covered:
                tolerations.append(
                    {
                        "key": key,
                        "operator": "Exists",
                        "effect": "NoExecute",
                        "tolerationSeconds": self._settings.default_toleration_seconds,
                    }
                )
        spec["tolerations"] = tolerations

    def _resolve_priority(self, pod: dict[str, Any]) -> None:
        spec = pod.get("spec")
        if not isinstance(spec, dict):
            return
        class_name = spec.get("priorityClassName")
        if isinstance(class_name, str) and class_name:
            if class_name in SYSTEM_PRIORITY_CLASSES:
                value = SYSTEM_PRIORITY_CLASSES[class_name]
            else:
                found = self._lookup(PRIORITY_CLASSES, None, class_name)
                if found is None:
                    raise errors.forbidden(
                        f'pods "{pod.get("metadata", {}).get("name", "")}" is forbidden: no PriorityClass with name {class_name} was found'
                    )
                value = int(found.get("value", 0))
                if found.get("preemptionPolicy") and "preemptionPolicy" not in spec:
                    spec["preemptionPolicy"] = found["preemptionPolicy"]
            if "priority" in spec and spec["priority"] != value:
                raise errors.forbidden(
                    "the integer value of priority must not be provided in pod spec; priority admission controller computed it from the given PriorityClass name"
                )
            spec["priority"] = value
            return
        default = next((pc for pc in self._lister(PRIORITY_CLASSES) if pc.get("globalDefault")), None)
        if default is not None:
            spec["priorityClassName"] = default.get("metadata", {}).get("name")
            spec["priority"] = int(default.get("value", 0))
        else:
            spec.setdefault("priority", 0)

    def _allocate_cluster_ip(self, service: dict[str, Any]) -> None:
        spec = service.get("spec")
        if not isinstance(spec, dict) or spec.get("type") == "ExternalName":
            return
        if spec.get("clusterIP") in (None, ""):
            used = {s.get("spec", {}).get("clusterIP") for s in self._lister(SERVICES)}
            while True:
                address = str(self._service_network.network_address + self._next_service_ip)
                self._next_service_ip += 1
                if address not in used:
                    break
            spec["clusterIP"] = address
            spec["clusterIPs"] = [address]
