"""core/v1 Node and node.k8s.io/v1 RuntimeClass.

Agents register and heartbeat Nodes (capacity, allocatable, conditions, addresses); the scheduler
reads allocatable and taints; the node lifecycle controller reads conditions.
"""

from __future__ import annotations

import msgspec

from kubelite.api.models.base import Model, RawObject, ResourceList, Timestamp, TopLevel
from kubelite.api.models.meta import ObjectMeta
from kubelite.api.models.pod import Toleration


class Taint(Model, kw_only=True):
    """Repels pods that do not tolerate it: effect NoSchedule, PreferNoSchedule or NoExecute."""

    key: str = ""
    effect: str = ""
    value: str | None = None
    time_added: Timestamp | None = None


class NodeSpec(Model, kw_only=True):
    pod_cidr: str | None = msgspec.field(default=None, name="podCIDR")
    pod_cidrs: list[str] | None = msgspec.field(default=None, name="podCIDRs")
    provider_id: str | None = msgspec.field(default=None, name="providerID")
    unschedulable: bool | None = None
    taints: list[Taint] | None = None
    config_source: RawObject | None = None
    external_id: str | None = msgspec.field(default=None, name="externalID")


class NodeCondition(Model, kw_only=True):
    """Ready, MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable."""

    type: str = ""
    status: str = ""
    last_heartbeat_time: Timestamp | None = None
    last_transition_time: Timestamp | None = None
    reason: str | None = None
    message: str | None = None


class NodeAddress(Model, kw_only=True):
    type: str = ""
    address: str = ""


class DaemonEndpoint(Model, kw_only=True):
    port: int = msgspec.field(name="Port")


class NodeDaemonEndpoints(Model, kw_only=True):
    kubelet_endpoint: DaemonEndpoint | None = None


class NodeSystemInfo(Model, kw_only=True):
    """Versions and identifiers of a node; all required, as the official clients expect them."""

    machine_id: str = msgspec.field(name="machineID")
    system_uuid: str = msgspec.field(name="systemUUID")
    boot_id: str = msgspec.field(name="bootID")
    kernel_version: str
    os_image: str = msgspec.field(name="osImage")
    container_runtime_version: str
    kubelet_version: str
    kube_proxy_version: str
    operating_system: str
    architecture: str
    swap: RawObject | None = None


class ContainerImage(Model, kw_only=True):
    names: list[str] | None = None
    size_bytes: int | None = None


class NodeStatus(Model, kw_only=True):
    capacity: ResourceList | None = None
    allocatable: ResourceList | None = None
    phase: str | None = None
    conditions: list[NodeCondition] | None = None
    addresses: list[NodeAddress] | None = None
    daemon_endpoints: NodeDaemonEndpoints | None = None
    node_info: NodeSystemInfo | None = None
    images: list[ContainerImage] | None = None
    volumes_in_use: list[str] | None = None
    volumes_attached: list[RawObject] | None = None
    config: RawObject | None = None
    runtime_handlers: list[RawObject] | None = None
    features: RawObject | None = None


class Node(TopLevel, kw_only=True):
    API_VERSION = "v1"
    KIND = "Node"

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: NodeSpec = msgspec.field(default_factory=NodeSpec)
    status: NodeStatus | None = None


class Overhead(Model, kw_only=True):
    pod_fixed: ResourceList | None = None


class Scheduling(Model, kw_only=True):
    node_selector: dict[str, str] | None = None
    tolerations: list[Toleration] | None = None


class RuntimeClass(TopLevel, kw_only=True):
    """Maps runtimeClassName to a handler (kubelite: wasm, oci, process)."""

    API_VERSION = "node.k8s.io/v1"
    KIND = "RuntimeClass"

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    handler: str = ""
    overhead: Overhead | None = None
    scheduling: Scheduling | None = None
