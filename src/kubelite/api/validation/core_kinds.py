"""Validation of the non-pod core kinds and the small cluster kinds: Namespace, Node, ConfigMap,
Secret, Service, Endpoints, Event, Lease, PriorityClass and RuntimeClass.

Each function takes the decoded new object and, on update, the old one, and returns FieldErrors
worded as pkg/apis/core/validation (and the scheduling, node and coordination groups) word them.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re

from kubelite.api.models.cluster import Lease, PriorityClass
from kubelite.api.models.core import ConfigMap, Endpoints, Event, Namespace, Secret, Service
from kubelite.api.models.node import Node, RuntimeClass
from kubelite.api.names import (
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_label_value,
    is_valid_port_name,
    is_valid_port_number,
    max_len_error,
    regex_error,
)
from kubelite.api.validation.container import PROTOCOLS
from kubelite.api.validation.errors import (
    FieldError,
    duplicate,
    forbidden,
    invalid,
    not_supported,
    required,
    too_long,
)
from kubelite.api.validation.meta import validate_finalizers, validate_labels
from kubelite.api.validation.pod import TAINT_EFFECTS

MAX_SECRET_SIZE = 1024 * 1024
CONFIG_KEY_FORMAT = "[-._a-zA-Z0-9]+"
_CONFIG_KEY = re.compile(f"^{CONFIG_KEY_FORMAT}$")
SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
SESSION_AFFINITIES = ("ClientIP", "None")
TRAFFIC_POLICIES = ("Cluster", "Local")
_IMMUTABLE_WHEN_SET = "field is immutable when `immutable` is set"
_SECRET_REQUIRED_KEYS = {
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
}
HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000
SYSTEM_PRIORITY_CLASSES = frozenset({"system-node-critical", "system-cluster-critical"})


def is_config_key(key: str) -> list[str]:
    problems = []
    if len(key) > 253:
        problems.append(max_len_error(253))
    if not _CONFIG_KEY.match(key):
        message = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
        problems.append(regex_error(message, CONFIG_KEY_FORMAT, "key.name", "KEY_NAME", "key-name"))
    if key == ".":
        problems.append("must not be '.'")
    elif key == "..":
        problems.append("must not be '..'")
    elif key.startswith(".."):
        problems.append("must not start with '..'")
    return problems


def _keys(data: dict[str, str] | None, field: str) -> list[FieldError]:
    return [invalid(f"{field}[{key}]", key, problem) for key in data or {} for problem in is_config_key(key)]


def validate_namespace(namespace: Namespace) -> list[FieldError]:
    return validate_finalizers(namespace.spec.finalizers if namespace.spec else None, "spec.finalizers")


def validate_node(node: Node) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for index, taint in enumerate(node.spec.taints or []):
        path = f"spec.taints[{index}]"
        if not taint.key:
            errors.append(required(f"{path}.key"))
        else:
            errors.extend(invalid(f"{path}.key", taint.key, p) for p in is_qualified_name(taint.key))
        if taint.value:
            errors.extend(invalid(f"{path}.value", taint.value, p) for p in is_valid_label_value(taint.value))
        if taint.effect not in TAINT_EFFECTS:
            errors.append(not_supported(f"{path}.effect", taint.effect, TAINT_EFFECTS))
        if (taint.key, taint.effect) in seen:
            errors.append(duplicate(path, f"{taint.key}:{taint.effect}"))
        seen.add((taint.key, taint.effect))
    for index, cidr in enumerate(node.spec.pod_cidrs or ([node.spec.pod_cidr] if node.spec.pod_cidr else [])):
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            errors.append(
                invalid(f"spec.podCIDRs[{index}]", cidr, "must be a valid CIDR value, (e.g. 10.9.8.0/24)")
            )
    return errors


def validate_config_map(config_map: ConfigMap, old: ConfigMap | None) -> list[FieldError]:
    errors = _keys(config_map.data, "data") + _keys(config_map.binary_data, "binaryData")
    for key in set(config_map.data or {}) & set(config_map.binary_data or {}):
        errors.append(invalid(f"data[{key}]", key, "duplicate of key present in binaryData"))
    size = sum(len(k) + len(v) for k, v in (config_map.data or {}).items())
    size += sum(len(k) + len(v) for k, v in (config_map.binary_data or {}).items())
    if size > MAX_SECRET_SIZE:
        errors.append(too_long("", MAX_SECRET_SIZE))
    if old is not None and old.immutable:
        if config_map.immutable is not True:
            errors.append(forbidden("immutable", _IMMUTABLE_WHEN_SET))
        if config_map.data != old.data:
            errors.append(forbidden("data", _IMMUTABLE_WHEN_SET))
        if config_map.binary_data != old.binary_data:
            errors.append(forbidden("binaryData", _IMMUTABLE_WHEN_SET))
    return errors


def validate_secret(secret: Secret, old: Secret | None) -> list[FieldError]:
    errors = _keys(secret.data, "data") + _keys(secret.string_data, "stringData")
    size = 0
    for key, value in (secret.data or {}).items():
        try:
            size += len(key) + len(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            errors.append(invalid(f"data[{key}]", "<secret contents redacted>", "must be base64-encoded"))
    if size > MAX_SECRET_SIZE:
        errors.append(too_long("data", MAX_SECRET_SIZE))
    present = set(secret.data or {}) | set(secret.string_data or {})
    secret_type = secret.type or "Opaque"
    for key in _SECRET_REQUIRED_KEYS.get(secret_type, ()):
        if key not in present:
            errors.append(required(f"data[{key}]"))
    if secret_type == "kubernetes.io/basic-auth" and not present & {"username", "password"}:
        errors.append(required("data[username]"))
    if secret_type == "kubernetes.io/service-account-token":
        annotations = secret.metadata.annotations or {}
        if not annotations.get("kubernetes.io/service-account.name"):
            errors.append(required("metadata.annotations[kubernetes.io/service-account.name]"))
    if old is not None:
        if (secret.type or "Opaque") != (old.type or "Opaque"):
            errors.append(invalid("type", secret.type, "field is immutable"))
        if old.immutable:
            if secret.immutable is not True:
                errors.append(forbidden("immutable", _IMMUTABLE_WHEN_SET))
            if secret.data != old.data or secret.string_data:
                errors.append(forbidden("data", _IMMUTABLE_WHEN_SET))
    return errors


def _port_or_name(value: int | str, field: str) -> list[FieldError]:
    problems = is_valid_port_number(value) if isinstance(value, int) else is_valid_port_name(value)
    return [invalid(field, value, problem) for problem in problems]


def validate_service(service: Service, old: Service | None) -> list[FieldError]:
    spec = service.spec
    errors: list[FieldError] = []
    service_type = spec.type or "ClusterIP"
    if service_type not in SERVICE_TYPES:
        errors.append(not_supported("spec.type", service_type, SERVICE_TYPES))
    if service_type == "ExternalName":
        if not spec.external_name:
            errors.append(required("spec.externalName"))
        else:
            name = spec.external_name.removesuffix(".")
            errors.extend(
                invalid("spec.externalName", spec.external_name, p) for p in is_dns1123_subdomain(name)
            )
    elif not spec.ports and spec.cluster_ip != "None":
        errors.append(required("spec.ports"))
    ports = spec.ports or []
    names: set[str] = set()
    endpoints: set[tuple[int, str]] = set()
    for index, port in enumerate(ports):
        path = f"spec.ports[{index}]"
        if not port.name:
            if len(ports) > 1:
                errors.append(required(f"{path}.name"))
        else:
            errors.extend(invalid(f"{path}.name", port.name, p) for p in is_dns1123_label(port.name))
            if port.name in names:
                errors.append(duplicate(f"{path}.name", port.name))
            names.add(port.name)
        errors.extend(invalid(f"{path}.port", port.port, p) for p in is_valid_port_number(port.port))
        protocol = port.protocol or "TCP"
        if protocol not in PROTOCOLS:
            errors.append(not_supported(f"{path}.protocol", protocol, PROTOCOLS))
        if port.target_port is not None:
            errors.extend(_port_or_name(port.target_port, f"{path}.targetPort"))
        if port.node_port and service_type not in ("NodePort", "LoadBalancer"):
            errors.append(forbidden(f"{path}.nodePort", f"may not be used when `type` is '{service_type}'"))
        if (port.port, protocol) in endpoints:
            errors.append(duplicate(path, {"port": port.port, "protocol": protocol}))
        endpoints.add((port.port, protocol))
    if spec.session_affinity is not None and spec.session_affinity not in SESSION_AFFINITIES:
        errors.append(not_supported("spec.sessionAffinity", spec.session_affinity, SESSION_AFFINITIES))
    for field, policy in (
        ("spec.externalTrafficPolicy", spec.external_traffic_policy),
        ("spec.internalTrafficPolicy", spec.internal_traffic_policy),
    ):
        if policy is not None and policy not in TRAFFIC_POLICIES:
            errors.append(not_supported(field, policy, TRAFFIC_POLICIES))
    errors.extend(validate_labels(spec.selector, "spec.selector"))
    if spec.cluster_ip and spec.cluster_ip != "None":
        try:
            ipaddress.ip_address(spec.cluster_ip)
        except ValueError:
            errors.append(invalid("spec.clusterIP", spec.cluster_ip, "must be a valid IP address"))
    if old is not None and old.spec.cluster_ip and spec.cluster_ip and spec.cluster_ip != old.spec.cluster_ip:
        errors.append(invalid("spec.clusterIP", spec.cluster_ip, "field is immutable"))
    return errors


def validate_endpoints(endpoints: Endpoints) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, subset in enumerate(endpoints.subsets or []):
        base = f"subsets[{index}]"
        for kind, addresses in (
            ("addresses", subset.addresses),
            ("notReadyAddresses", subset.not_ready_addresses),
        ):
            for position, address in enumerate(addresses or []):
                try:
                    ipaddress.ip_address(address.ip)
                except ValueError:
                    path = f"{base}.{kind}[{position}].ip"
                    errors.append(invalid(path, address.ip, "must be a valid IP address"))
        ports = subset.ports or []
        for position, port in enumerate(ports):
            path = f"{base}.ports[{position}]"
            if len(ports) > 1 and not port.name:
                errors.append(required(f"{path}.name"))
            errors.extend(invalid(f"{path}.port", port.port, p) for p in is_valid_port_number(port.port))
            if port.protocol is not None and port.protocol not in PROTOCOLS:
                errors.append(not_supported(f"{path}.protocol", port.protocol, PROTOCOLS))
    return errors


def validate_event(event: Event) -> list[FieldError]:
    involved = event.involved_object.namespace
    if involved and event.metadata.namespace and involved != event.metadata.namespace:
        return [invalid("involvedObject.namespace", involved, "does not match event.namespace")]
    return []


def validate_lease(lease: Lease) -> list[FieldError]:
    errors: list[FieldError] = []
    if lease.spec is None:
        return errors
    duration = lease.spec.lease_duration_seconds
    if duration is not None and duration <= 0:
        errors.append(invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"))
    transitions = lease.spec.lease_transitions
    if transitions is not None and transitions < 0:
        errors.append(invalid("spec.leaseTransitions", transitions, "must be greater than or equal to 0"))
    return errors


def validate_priority_class(priority_class: PriorityClass, old: PriorityClass | None) -> list[FieldError]:
    errors: list[FieldError] = []
    name = priority_class.metadata.name or ""
    if name.startswith("system-") and name not in SYSTEM_PRIORITY_CLASSES:
        errors.append(forbidden("metadata.name", "priority class names with 'system-' prefix are reserved"))
    if priority_class.value > HIGHEST_USER_DEFINABLE_PRIORITY and name not in SYSTEM_PRIORITY_CLASSES:
        detail = f"maximum allowed value of a user defined priority is {HIGHEST_USER_DEFINABLE_PRIORITY}"
        errors.append(forbidden("value", detail))
    policy = priority_class.preemption_policy
    if policy is not None and policy not in ("Never", "PreemptLowerPriority"):
        errors.append(not_supported("preemptionPolicy", policy, ("Never", "PreemptLowerPriority")))
    if old is not None:
        if priority_class.value != old.value:
            errors.append(forbidden("value", "may not be changed in an update."))
        if policy != old.preemption_policy:
            errors.append(invalid("preemptionPolicy", policy, "field is immutable"))
    return errors


def validate_runtime_class(runtime_class: RuntimeClass, old: RuntimeClass | None) -> list[FieldError]:
    errors: list[FieldError] = []
    if not runtime_class.handler:
        errors.append(required("handler"))
    else:
        errors.extend(
            invalid("handler", runtime_class.handler, p) for p in is_dns1123_label(runtime_class.handler)
        )
    if old is not None and runtime_class.handler != old.handler:
        errors.append(invalid("handler", runtime_class.handler, "field is immutable"))
    return errors
