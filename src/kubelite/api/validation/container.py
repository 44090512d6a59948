"""Validation of containers: names, images, ports, environment, resources, probes and mounts.

Mirrors pkg/apis/core/validation's validateContainers: each rule reports a FieldError on the
exact field path ("spec.containers[0].resources.requests[cpu]").
"""

from __future__ import annotations

from collections.abc import Iterable

from kubelite.api.models.base import ResourceList
from kubelite.api.models.container import Container, ContainerPort, Probe
from kubelite.api.names import (
    is_dns1123_label,
    is_env_var_name,
    is_qualified_name,
    is_valid_port_name,
    is_valid_port_number,
)
from kubelite.api.quantity import QuantityError, format_milli, parse_resource
from kubelite.api.validation.errors import FieldError, duplicate, invalid, not_found, not_supported, required

PROTOCOLS = ("SCTP", "TCP", "UDP")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
TERMINATION_MESSAGE_POLICIES = ("FallbackToLogsOnError", "File")
_STANDARD_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage", "pods", "storage"})


def validate_resource_name(name: str, field: str) -> list[FieldError]:
    """A standard resource (cpu, memory, ...) or a domain-qualified extended resource."""
    if name in _STANDARD_RESOURCES or name.startswith("hugepages-"):
        return []
    problems = is_qualified_name(name)
    if not problems and "/" not in name:
        problems = ["must be a standard resource type or fully qualified"]
    return [invalid(field, name, problem) for problem in problems]


def validate_resource_list(
    resources: ResourceList | None, field: str
) -> tuple[list[FieldError], dict[str, int]]:
    """Check every name and quantity; returns the errors and the quantities that parsed."""
    errors: list[FieldError] = []
    parsed: dict[str, int] = {}
    for name, quantity in (resources or {}).items():
        path = f"{field}[{name}]"
        errors.extend(validate_resource_name(name, path))
        try:
            value = parse_resource(name, quantity)
        except QuantityError as error:
            errors.append(invalid(path, quantity, str(error)))
            continue
        if value < 0:
            errors.append(invalid(path, quantity, "must be greater than or equal to 0"))
            continue
        parsed[name] = value
    return errors, parsed


def _validate_resources(container: Container, field: str) -> list[FieldError]:
    if container.resources is None:
        return []
    raw_limits = container.resources.limits or {}
    raw_requests = container.resources.requests or {}
    limit_errors, limits = validate_resource_list(raw_limits, f"{field}.limits")
    request_errors, requests = validate_resource_list(raw_requests, f"{field}.requests")
    errors = limit_errors + request_errors
    for name, request in requests.items():
        limit = limits.get(name)
        if limit is not None and request > limit:
            shown = format_milli(limit) if name == "cpu" else raw_limits[name]
            detail = f"must be less than or equal to {name} limit of {shown}"
            errors.append(invalid(f"{field}.requests[{name}]", raw_requests[name], detail))
    return errors


def _validate_port(port: ContainerPort, field: str) -> list[FieldError]:
    errors = [
        invalid(f"{field}.containerPort", port.container_port, p)
        for p in is_valid_port_number(port.container_port)
    ]
    if port.host_port is not None and port.host_port != 0:
        errors.extend(
            invalid(f"{field}.hostPort", port.host_port, p) for p in is_valid_port_number(port.host_port)
        )
    if port.name is not None:
        errors.extend(invalid(f"{field}.name", port.name, p) for p in is_valid_port_name(port.name))
    if port.protocol is None:
        errors.append(required(f"{field}.protocol"))
    elif port.protocol not in PROTOCOLS:
        errors.append(not_supported(f"{field}.protocol", port.protocol, PROTOCOLS))
    return errors


def validate_probe(probe: Probe | None, field: str, liveness_or_startup: bool) -> list[FieldError]:
    if probe is None:
        return []
    errors: list[FieldError] = []
    handlers = [
        name for name in ("exec", "http_get", "tcp_socket", "grpc") if getattr(probe, name) is not None
    ]
    if not handlers:
        errors.append(required(field, "must specify a handler type"))
    elif len(handlers) > 1:
        errors.append(invalid(field, handlers, "may not specify more than 1 handler type"))
    for name, value in (
        ("initialDelaySeconds", probe.initial_delay_seconds),
        ("timeoutSeconds", probe.timeout_seconds),
        ("periodSeconds", probe.period_seconds),
        ("successThreshold", probe.success_threshold),
        ("failureThreshold", probe.failure_threshold),
    ):
        if value is not None and value < 0:
            errors.append(invalid(f"{field}.{name}", value, "must be greater than or equal to 0"))
    if liveness_or_startup and probe.success_threshold not in (None, 1):
        errors.append(invalid(f"{field}.successThreshold", probe.success_threshold, "must be 1"))
    if probe.http_get is not None:
        errors.extend(_validate_port_reference(probe.http_get.port, f"{field}.httpGet.port"))
    if probe.tcp_socket is not None:
        errors.extend(_validate_port_reference(probe.tcp_socket.port, f"{field}.tcpSocket.port"))
    return errors


def _validate_port_reference(port: int | str, field: str) -> list[FieldError]:
    """An IntOrString port: a number in range or an IANA service name."""
    problems = is_valid_port_number(port) if isinstance(port, int) else is_valid_port_name(port)
    return [invalid(field, port, problem) for problem in problems]


def validate_container(
    container: Container, field: str, volume_names: set[str], ephemeral: bool
) -> list[FieldError]:
    errors: list[FieldError] = []
    if not container.name:
        errors.append(required(f"{field}.name"))
    else:
        errors.extend(invalid(f"{field}.name", container.name, p) for p in is_dns1123_label(container.name))
    if not container.image or not container.image.strip():
        errors.append(required(f"{field}.image"))
    if container.image_pull_policy is None:
        errors.append(required(f"{field}.imagePullPolicy"))
    elif container.image_pull_policy not in PULL_POLICIES:
        errors.append(not_supported(f"{field}.imagePullPolicy", container.image_pull_policy, PULL_POLICIES))
    policy = container.termination_message_policy
    if policy is not None and policy not in TERMINATION_MESSAGE_POLICIES:
        errors.append(
            not_supported(f"{field}.terminationMessagePolicy", policy, TERMINATION_MESSAGE_POLICIES)
        )
    port_names: set[str] = set()
    for index, port in enumerate(container.ports or []):
        errors.extend(_validate_port(port, f"{field}.ports[{index}]"))
        if port.name:
            if port.name in port_names:
                errors.append(duplicate(f"{field}.ports[{index}].name", port.name))
            port_names.add(port.name)
    for index, env in enumerate(container.env or []):
        if not env.name:
            errors.append(required(f"{field}.env[{index}].name"))
        else:
            errors.extend(
                invalid(f"{field}.env[{index}].name", env.name, p) for p in is_env_var_name(env.name)
            )
        if env.value and env.value_from is not None:
            detail = "may not be specified when `value` is not empty"
            errors.append(invalid(f"{field}.env[{index}].valueFrom", "", detail))
    errors.extend(_validate_resources(container, f"{field}.resources"))
    mount_paths: set[str] = set()
    for index, mount in enumerate(container.volume_mounts or []):
        path = f"{field}.volumeMounts[{index}]"
        if not mount.name:
            errors.append(required(f"{path}.name"))
        elif mount.name not in volume_names:
            errors.append(not_found(f"{path}.name", mount.name))
        if not mount.mount_path:
            errors.append(required(f"{path}.mountPath"))
        elif mount.mount_path in mount_paths:
            errors.append(invalid(f"{path}.mountPath", mount.mount_path, "must be unique"))
        mount_paths.add(mount.mount_path)
    if not ephemeral:
        errors.extend(validate_probe(container.liveness_probe, f"{field}.livenessProbe", True))
        errors.extend(validate_probe(container.readiness_probe, f"{field}.readinessProbe", False))
        errors.extend(validate_probe(container.startup_probe, f"{field}.startupProbe", True))
    return errors


def validate_container_list(
    containers: Iterable[tuple[str, Container]],
    volume_names: set[str],
    seen_names: set[str],
    ephemeral: bool = False,
) -> list[FieldError]:
    """Validate (path, container) pairs; names must be unique across all of a pod's container lists."""
    errors: list[FieldError] = []
    for field, container in containers:
        errors.extend(validate_container(container, field, volume_names, ephemeral))
        if container.name:
            if container.name in seen_names:
                errors.append(duplicate(f"{field}.name", container.name))
            seen_names.add(container.name)
    return errors
