"""A pod's resource requests and limits as integers, and its QoS class, computed as Kubernetes does.

Quantity strings from the models are parsed once here (`kubelite.api.quantity.parse_resource`:
cpu in millicores, everything else in whole units). The pod-level rule follows
k8s.io/component-helpers/resource PodRequests: containers and restartable init containers
(sidecars) run together and are summed; each ordinary init container runs alone alongside the
sidecars started before it; the pod needs the larger of the two; then pod overhead is added.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from kubelite.api.models.container import Container
from kubelite.api.models.pod import PodSpec
from kubelite.api.quantity import parse_resource

QOSClass = Literal["Guaranteed", "Burstable", "BestEffort"]

_QOS_RESOURCES = ("cpu", "memory")


def parse_resource_list(resources: Mapping[str, str] | None) -> dict[str, int]:
    """Parse a ResourceList into base units; raises QuantityError on an invalid quantity."""
    return {name: parse_resource(name, value) for name, value in (resources or {}).items()}


def container_requests(container: Container) -> dict[str, int]:
    """A container's requests; as in Kubernetes, a resource with only a limit requests its limit."""
    resources = container.resources
    if resources is None:
        return {}
    requested = parse_resource_list(resources.limits)
    requested.update(parse_resource_list(resources.requests))
    return requested


def container_limits(container: Container) -> dict[str, int]:
    return parse_resource_list(container.resources.limits if container.resources else None)


def _add_into(total: dict[str, int], extra: Mapping[str, int]) -> None:
    for name, value in extra.items():
        total[name] = total.get(name, 0) + value


def _max_into(total: dict[str, int], extra: Mapping[str, int]) -> None:
    for name, value in extra.items():
        total[name] = max(total.get(name, 0), value)


def _is_sidecar(container: Container) -> bool:
    return container.restart_policy == "Always"


def _pod_level(spec: PodSpec, limits: bool) -> dict[str, int]:
    amounts = container_limits if limits else container_requests
    total: dict[str, int] = {}
    for container in spec.containers:
        _add_into(total, amounts(container))
    sidecars_so_far: dict[str, int] = {}
    init_peak: dict[str, int] = {}
    for container in spec.init_containers or []:
        own = amounts(container)
        if _is_sidecar(container):
            _add_into(sidecars_so_far, own)
            _add_into(total, own)
            _max_into(init_peak, sidecars_so_far)
        else:
            running_alone = dict(sidecars_so_far)
            _add_into(running_alone, own)
            _max_into(init_peak, running_alone)
    _max_into(total, init_peak)
    if spec.overhead:
        _add_into(total, parse_resource_list(spec.overhead))
    return total


def pod_requests(spec: PodSpec) -> dict[str, int]:
    """The pod's effective requests in base units, the amount the scheduler reserves on a node."""
    return _pod_level(spec, limits=False)


def pod_limits(spec: PodSpec) -> dict[str, int]:
    """The pod's effective limits in base units (resources without a limit are absent)."""
    return _pod_level(spec, limits=True)


def qos_class(spec: PodSpec) -> QOSClass:
    """Guaranteed, Burstable or BestEffort, from cpu and memory requests and limits of all containers."""
    containers = [*(spec.init_containers or []), *spec.containers]
    any_set = False
    guaranteed = True
    for container in containers:
        requests = container_requests(container)
        limits = container_limits(container)
        if any(requests.get(name) or limits.get(name) for name in _QOS_RESOURCES):
            any_set = True
        for name in _QOS_RESOURCES:
            if name not in limits or requests.get(name) != limits[name]:
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
