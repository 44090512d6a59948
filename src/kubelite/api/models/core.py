"""core/v1 kinds besides Pod and Node: Namespace, Event, ConfigMap, Secret, Service, Endpoints,
ServiceAccount.

Controllers write Events and Endpoints; the agent mounts ConfigMaps and Secrets; Services select
pods by label.
"""

from __future__ import annotations

import msgspec

from kubelite.api.models.base import IntOrString, Model, RawObject, Timestamp, TopLevel
from kubelite.api.models.container import LocalObjectReference
from kubelite.api.models.meta import Condition, ObjectMeta


class ObjectReference(Model, kw_only=True):
    """A reference to any object, as in an Event's involvedObject or an endpoint's targetRef."""

    kind: str | None = None
    namespace: str | None = None
    name: str | None = None
    uid: str | None = None
    api_version: str | None = None
    resource_version: str | None = None
    field_path: str | None = None


class NamespaceSpec(Model, kw_only=True):
    finalizers: list[str] | None = None


class NamespaceStatus(Model, kw_only=True):
    phase: str | None = None
    conditions: list[RawObject] | None = None


class Namespace(TopLevel, kw_only=True):
    API_VERSION = "v1"
    KIND = "Namespace"

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: NamespaceSpec | None = None
    status: NamespaceStatus | None = None


class EventSource(Model, kw_only=True):
    component: str | None = None
    host: str | None = None


class EventSeries(Model, kw_only=True):
    count: int | None = None
    last_observed_time: Timestamp | None = None


class Event(TopLevel, kw_only=True):
    """A core/v1 Event: something that happened to involvedObject."""

    API_VERSION = "v1"
    KIND = "Event"

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    involved_object: ObjectReference = msgspec.field(default_factory=ObjectReference)
    reason: str | None = None
    message: str | None = None
    source: EventSource | None = None
    first_timestamp: Timestamp | None = None
    last_timestamp: Timestamp | None = None
    count: int | None = None
    type: str | None = None
    event_time: Timestamp | None = None
    series: EventSeries | None = None
    action: str | None = None
    related: ObjectReference | None = None
    reporting_component: str | None = None
    reporting_instance: str | None = None


class ConfigMap(TopLevel, kw_only=True):
    API_VERSION = "v1"
    KIND = "ConfigMap"

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    data: dict[str, str] | None = None
    binary_data: dict[str, str] | None = None
    immutable: bool | None = None


class Secret(TopLevel, kw_only=True):
    """A Secret; `data` values are base64 strings, `stringData` is write-only plain text."""

    API_VERSION = "v1"
    KIND = "Secret"

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    data: dict[str, str] | None = None
    string_data: dict[str, str] | None = None
    type: str | None = None
    immutable: bool | None = None


class ServicePort(Model, kw_only=True):
    port: int
    name: str | None = None
    protocol: str | None = None
    app_protocol: str | None = None
    target_port: IntOrString | None = None
    node_port: int | None = None


class ServiceSpec(Model, kw_only=True):
    ports: list[ServicePort] | None = None
    selector: dict[str, str] | None = None
    cluster_ip: str | None = msgspec.field(default=None, name="clusterIP")
    cluster_ips: list[str] | None = msgspec.field(default=None, name="clusterIPs")
    type: str | None = None
    external_ips: list[str] | None = msgspec.field(default=None, name="externalIPs")
    session_affinity: str | None = None
    session_affinity_config: RawObject | None = None
    load_balancer_ip: str | None = msgspec.field(default=None, name="loadBalancerIP")
    load_balancer_source_ranges: list[str] | None = None
    load_balancer_class: str | None = None
    allocate_load_balancer_node_ports: bool | None = None
    external_name: str | None = None
    external_traffic_policy: str | None = None
    internal_traffic_policy: str | None = None
    health_check_node_port: int | None = None
    publish_not_ready_addresses: bool | None = None
    ip_families: list[str] | None = msgspec.field(default=None, name="ipFamilies")
    ip_family_policy: str | None = msgspec.field(default=None, name="ipFamilyPolicy")
    traffic_distribution: str | None = None


class LoadBalancerIngress(Model, kw_only=True):
    ip: str | None = None
    hostname: str | None = None
    ip_mode: str | None = None
    ports: list[RawObject] | None = None


class LoadBalancerStatus(Model, kw_only=True):
    ingress: list[LoadBalancerIngress] | None = None


class ServiceStatus(Model, kw_only=True):
    load_balancer: LoadBalancerStatus | None = None
    conditions: list[Condition] | None = None


class Service(TopLevel, kw_only=True):
    API_VERSION = "v1"
    KIND = "Service"

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: ServiceSpec = msgspec.field(default_factory=ServiceSpec)
    status: ServiceStatus | None = None


class EndpointAddress(Model, kw_only=True):
    ip: str = ""
    hostname: str | None = None
    node_name: str | None = None
    target_ref: ObjectReference | None = None


class EndpointPort(Model, kw_only=True):
    port: int
    name: str | None = None
    protocol: str | None = None
    app_protocol: str | None = None


class EndpointSubset(Model, kw_only=True):
    addresses: list[EndpointAddress] | None = None
    not_ready_addresses: list[EndpointAddress] | None = None
    ports: list[EndpointPort] | None = None


class Endpoints(TopLevel, kw_only=True):
    API_VERSION = "v1"
    KIND = "Endpoints"

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    subsets: list[EndpointSubset] | None = None


class ServiceAccount(TopLevel, kw_only=True):
    API_VERSION = "v1"
    KIND = "ServiceAccount"

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    secrets: list[ObjectReference] | None = None
    image_pull_secrets: list[LocalObjectReference] | None = None
    automount_service_account_token: bool | None = None
