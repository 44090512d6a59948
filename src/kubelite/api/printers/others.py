"""Table rows for the core and cluster kinds other than pods and nodes, with Kubernetes' columns.

Each printer is (column definitions, row function); see pkg/printers/internalversion/printers.go.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubelite.api.labels import format_labels
from kubelite.api.printers.common import (
    AGE_COLUMN,
    NAME_COLUMN,
    JSONObject,
    age_of,
    age_since,
    column,
    dicts,
    get,
    name_of,
    or_none,
)

Row = Callable[[JSONObject, float], list[Any]]
_MAX_ENDPOINTS = 3


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


NAMESPACE_COLUMNS = [NAME_COLUMN, column("Status", description="The status of the namespace"), AGE_COLUMN]


def namespace_row(obj: JSONObject, now: float) -> list[Any]:
    return [name_of(obj), str(get(obj, "status", "phase") or ""), age_of(obj, now)]


EVENT_COLUMNS = [
    column("Last Seen", description="Time when last event from this series has been observed"),
    column(
        "Type", description="Type of this event (Normal, Warning), new types could be added in the future."
    ),
    column(
        "Reason",
        description=(
            "This should be a short, machine understandable string that gives the reason for the "
            "transition into the object's current status."
        ),
    ),
    column("Object", description="The object that this event is about."),
    column(
        "Subobject", description="The subobject (field path) of the object this event is about.", wide=True
    ),
    column("Source", description="The component reporting this event.", wide=True),
    column("Message", description="A human-readable description of the status of this operation."),
    column("First Seen", description="The time at which the event was first recorded.", wide=True),
    column("Count", description="The number of times this event has occurred.", wide=True),
    column("Name", description="The name of the event.", wide=True, format_="name"),
]


def event_row(obj: JSONObject, now: float) -> list[Any]:
    first = get(obj, "firstTimestamp") or get(obj, "eventTime")
    last = get(obj, "series", "lastObservedTime") or get(obj, "lastTimestamp") or first
    involved = get(obj, "involvedObject") or {}
    source = get(obj, "source", "component") or get(obj, "reportingComponent") or ""
    host = get(obj, "source", "host")
    count = get(obj, "series", "count") or get(obj, "count") or 1
    return [
        age_since(last, now),
        str(get(obj, "type") or ""),
        str(get(obj, "reason") or ""),
        f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
        str(involved.get("fieldPath") or ""),
        f"{source}, {host}" if host else str(source),
        str(get(obj, "message") or "").strip(),
        age_since(first, now),
        str(count),
        name_of(obj),
    ]


CONFIG_MAP_COLUMNS = [
    NAME_COLUMN,
    column("Data", description="Data contains the configuration data."),
    AGE_COLUMN,
]


def config_map_row(obj: JSONObject, now: float) -> list[Any]:
    count = len(get(obj, "data") or {}) + len(get(obj, "binaryData") or {})
    return [name_of(obj), count, age_of(obj, now)]


SECRET_COLUMNS = [
    NAME_COLUMN,
    column("Type", description="Used to facilitate programmatic handling of secret data."),
    column("Data", description="Data contains the secret data."),
    AGE_COLUMN,
]


def secret_row(obj: JSONObject, now: float) -> list[Any]:
    return [name_of(obj), str(get(obj, "type") or "Opaque"), len(get(obj, "data") or {}), age_of(obj, now)]


SERVICE_COLUMNS = [
    NAME_COLUMN,
    column("Type", description="type determines how the Service is exposed."),
    column("Cluster-IP", description="clusterIP is the IP address of the service."),
    column(
        "External-IP",
        description=(
            "externalIPs is a list of IP addresses for which nodes in the cluster will also accept "
            "traffic for this service."
        ),
    ),
    column("Port(s)", description="The list of ports that are exposed by this service."),
    AGE_COLUMN,
    column(
        "Selector",
        description="Route service traffic to pods with label keys and values matching this selector.",
        wide=True,
    ),
]


def _external_ip(obj: JSONObject) -> str:
    service_type = get(obj, "spec", "type") or "ClusterIP"
    external = [str(ip) for ip in get(obj, "spec", "externalIPs") or []]
    if service_type == "ExternalName":
        return str(get(obj, "spec", "externalName") or "<none>")
    if service_type == "LoadBalancer":
        ingress = dicts(get(obj, "status", "loadBalancer", "ingress"))
        addresses = [
            str(i.get("ip") or i.get("hostname")) for i in ingress if i.get("ip") or i.get("hostname")
        ]
        addresses += external
        return ",".join(addresses) if addresses else "<pending>"
    return ",".join(external) if external else "<none>"


def _service_ports(obj: JSONObject) -> str:
    parts = []
    for port in dicts(get(obj, "spec", "ports")):
        protocol = port.get("protocol") or "TCP"
        if port.get("nodePort"):
            parts.append(f"{port.get('port')}:{port['nodePort']}/{protocol}")
        else:
            parts.append(f"{port.get('port')}/{protocol}")
    return ",".join(parts) if parts else "<none>"


def service_row(obj: JSONObject, now: float) -> list[Any]:
    selector = get(obj, "spec", "selector")
    return [
        name_of(obj),
        str(get(obj, "spec", "type") or "ClusterIP"),
        or_none(get(obj, "spec", "clusterIP")),
        _external_ip(obj),
        _service_ports(obj),
        age_of(obj, now),
        format_labels(selector if isinstance(selector, dict) else None),
    ]


ENDPOINTS_COLUMNS = [
    NAME_COLUMN,
    column("Endpoints", description="Endpoints is the list of endpoints in the service."),
    AGE_COLUMN,
]


def endpoints_row(obj: JSONObject, now: float) -> list[Any]:
    endpoints: list[str] = []
    total = 0
    for subset in dicts(get(obj, "subsets")):
        ports = [p.get("port") for p in dicts(subset.get("ports"))] or [None]
        for address in dicts(subset.get("addresses")):
            for port in ports:
                total += 1
                if len(endpoints) < _MAX_ENDPOINTS:
                    endpoints.append(
                        f"{address.get('ip')}:{port}" if port is not None else str(address.get("ip"))
                    )
    text = ",".join(endpoints) or "<none>"
    if total > _MAX_ENDPOINTS:
        text += f" + {total - _MAX_ENDPOINTS} more..."
    return [name_of(obj), text, age_of(obj, now)]


SERVICE_ACCOUNT_COLUMNS = [
    NAME_COLUMN,
    column(
        "Secrets",
        description=(
            "Secrets is a list of the secrets in the same namespace that pods running using this "
            "ServiceAccount are allowed to use."
        ),
    ),
    AGE_COLUMN,
]


def service_account_row(obj: JSONObject, now: float) -> list[Any]:
    return [name_of(obj), len(get(obj, "secrets") or []), age_of(obj, now)]


LEASE_COLUMNS = [
    NAME_COLUMN,
    column("Holder", description="holderIdentity contains the identity of the holder of a current lease."),
    AGE_COLUMN,
]


def lease_row(obj: JSONObject, now: float) -> list[Any]:
    return [name_of(obj), str(get(obj, "spec", "holderIdentity") or ""), age_of(obj, now)]


PRIORITY_CLASS_COLUMNS = [
    NAME_COLUMN,
    column("Value", "integer", "value represents the integer value of this priority class."),
    column(
        "Global-Default",
        "boolean",
        (
            "globalDefault specifies whether this PriorityClass should be considered as the default "
            "priority for pods that do not have any priority class."
        ),
    ),
    AGE_COLUMN,
    column(
        "PreemptionPolicy",
        description="preemptionPolicy is the Policy for preempting pods with lower priority.",
    ),
]


def priority_class_row(obj: JSONObject, now: float) -> list[Any]:
    return [
        name_of(obj),
        _int(get(obj, "value")),
        get(obj, "globalDefault") is True,
        age_of(obj, now),
        str(get(obj, "preemptionPolicy") or ""),
    ]


RUNTIME_CLASS_COLUMNS = [
    NAME_COLUMN,
    column(
        "Handler",
        description=(
            "handler specifies the underlying runtime and configuration that the CRI implementation "
            "will use to handle pods of this class."
        ),
    ),
    AGE_COLUMN,
]


def runtime_class_row(obj: JSONObject, now: float) -> list[Any]:
    return [name_of(obj), str(get(obj, "handler") or ""), age_of(obj, now)]
