"""core/v1 Pod: volumes, scheduling constraints (affinity, tolerations, spread), PodSpec and PodStatus.

The scheduler reads the spec's constraints, the agent runs the containers and writes the status,
and controllers stamp pods out of a PodTemplateSpec. Volume sources other than the common local
ones are kept as raw dicts under their Kubernetes names so that they round-trip.
"""

from __future__ import annotations

import msgspec

from kubelite.api.models.base import Model, RawObject, ResourceList, Timestamp, TopLevel
from kubelite.api.models.container import Container, ContainerStatus, LocalObjectReference
from kubelite.api.models.meta import LabelSelector, ObjectMeta


class KeyToPath(Model, kw_only=True):
    key: str = ""
    path: str = ""
    mode: int | None = None


class EmptyDirVolumeSource(Model, kw_only=True):
    medium: str | None = None
    size_limit: str | None = None


class HostPathVolumeSource(Model, kw_only=True):
    path: str = ""
    type: str | None = None


class ConfigMapVolumeSource(Model, kw_only=True):
    name: str | None = None
    items: list[KeyToPath] | None = None
    default_mode: int | None = None
    optional: bool | None = None


class SecretVolumeSource(Model, kw_only=True):
    secret_name: str | None = None
    items: list[KeyToPath] | None = None
    default_mode: int | None = None
    optional: bool | None = None


class PersistentVolumeClaimVolumeSource(Model, kw_only=True):
    claim_name: str = ""
    read_only: bool | None = None


class Volume(Model, kw_only=True):
    """A named volume; exactly one source is set."""

    name: str = ""
    empty_dir: EmptyDirVolumeSource | None = None
    host_path: HostPathVolumeSource | None = None
    config_map: ConfigMapVolumeSource | None = None
    secret: SecretVolumeSource | None = None
    persistent_volume_claim: PersistentVolumeClaimVolumeSource | None = None
    projected: RawObject | None = None
    downward_api: RawObject | None = msgspec.field(default=None, name="downwardAPI")
    csi: RawObject | None = None
    ephemeral: RawObject | None = None
    image: RawObject | None = None
    nfs: RawObject | None = None
    iscsi: RawObject | None = None
    git_repo: RawObject | None = None
    aws_elastic_block_store: RawObject | None = None
    gce_persistent_disk: RawObject | None = None
    azure_disk: RawObject | None = None
    azure_file: RawObject | None = None
    cephfs: RawObject | None = None
    cinder: RawObject | None = None
    fc: RawObject | None = None
    flex_volume: RawObject | None = None
    flocker: RawObject | None = None
    glusterfs: RawObject | None = None
    photon_persistent_disk: RawObject | None = None
    portworx_volume: RawObject | None = None
    quobyte: RawObject | None = None
    rbd: RawObject | None = None
    scale_io: RawObject | None = msgspec.field(default=None, name="scaleIO")
    storageos: RawObject | None = None
    vsphere_volume: RawObject | None = None


VOLUME_SOURCE_FIELDS: tuple[str, ...] = tuple(
    name for name in Volume.__struct_fields__ if name != "name"
)
"""The attribute names of Volume's sources, for the exactly-one-source check."""


class NodeSelectorRequirement(Model, kw_only=True):
    key: str = ""
    operator: str = ""
    values: list[str] | None = None


class NodeSelectorTerm(Model, kw_only=True):
    """Requirements ANDed together; the terms of a NodeSelector are ORed."""

    match_expressions: list[NodeSelectorRequirement] | None = None
    match_fields: list[NodeSelectorRequirement] | None = None


class NodeSelector(Model, kw_only=True):
    node_selector_terms: list[NodeSelectorTerm] = msgspec.field(default_factory=list)


class PreferredSchedulingTerm(Model, kw_only=True):
    weight: int = 0
    preference: NodeSelectorTerm = msgspec.field(default_factory=NodeSelectorTerm)


class NodeAffinity(Model, kw_only=True):
    required_during_scheduling_ignored_during_execution: NodeSelector | None = None
    preferred_during_scheduling_ignored_during_execution: list[PreferredSchedulingTerm] | None = None


class PodAffinityTerm(Model, kw_only=True):
    topology_key: str = ""
    label_selector: LabelSelector | None = None
    namespaces: list[str] | None = None
    namespace_selector: LabelSelector | None = None
    match_label_keys: list[str] | None = None
    mismatch_label_keys: list[str] | None = None


class WeightedPodAffinityTerm(Model, kw_only=True):
    weight: int = 0
    pod_affinity_term: PodAffinityTerm = msgspec.field(default_factory=PodAffinityTerm)


class PodAffinity(Model, kw_only=True):
    """Also the shape of PodAntiAffinity."""

    required_during_scheduling_ignored_during_execution: list[PodAffinityTerm] | None = None
    preferred_during_scheduling_ignored_during_execution: list[WeightedPodAffinityTerm] | None = None


class Affinity(Model, kw_only=True):
    node_affinity: NodeAffinity | None = None
    pod_affinity: PodAffinity | None = None
    pod_anti_affinity: PodAffinity | None = None


class Toleration(Model, kw_only=True):
    """Lets a pod schedule onto (or stay on) nodes with a matching taint."""

    key: str | None = None
    operator: str | None = None
    value: str | None = None
    effect: str | None = None
    toleration_seconds: int | None = None


class TopologySpreadConstraint(Model, kw_only=True):
    max_skew: int = 0
    topology_key: str = ""
    when_unsatisfiable: str = ""
    label_selector: LabelSelector | None = None
    min_domains: int | None = None
    node_affinity_policy: str | None = None
    node_taints_policy: str | None = None
    match_label_keys: list[str] | None = None


class PodReadinessGate(Model, kw_only=True):
    condition_type: str = ""


class PodSchedulingGate(Model, kw_only=True):
    name: str = ""


class HostAlias(Model, kw_only=True):
    ip: str = ""
    hostnames: list[str] | None = None


class PodOS(Model, kw_only=True):
    name: str = ""


class PodSpec(Model, kw_only=True):
    """The desired state of a pod."""

    containers: list[Container] = msgspec.field(default_factory=list)
    init_containers: list[Container] | None = None
    ephemeral_containers: list[Container] | None = None
    volumes: list[Volume] | None = None
    restart_policy: str | None = None
    termination_grace_period_seconds: int | None = None
    active_deadline_seconds: int | None = None
    dns_policy: str | None = None
    dns_config: RawObject | None = None
    node_selector: dict[str, str] | None = None
    service_account_name: str | None = None
    service_account: str | None = None
    automount_service_account_token: bool | None = None
    node_name: str | None = None
    host_network: bool | None = None
    host_pid: bool | None = msgspec.field(default=None, name="hostPID")
    host_ipc: bool | None = msgspec.field(default=None, name="hostIPC")
    host_users: bool | None = None
    share_process_namespace: bool | None = None
    security_context: RawObject | None = None
    image_pull_secrets: list[LocalObjectReference] | None = None
    hostname: str | None = None
    subdomain: str | None = None
    set_hostname_as_fqdn: bool | None = msgspec.field(default=None, name="setHostnameAsFQDN")
    affinity: Affinity | None = None
    scheduler_name: str | None = None
    tolerations: list[Toleration] | None = None
    host_aliases: list[HostAlias] | None = None
    priority_class_name: str | None = None
    priority: int | None = None
    preemption_policy: str | None = None
    readiness_gates: list[PodReadinessGate] | None = None
    runtime_class_name: str | None = None
    enable_service_links: bool | None = None
    overhead: ResourceList | None = None
    topology_spread_constraints: list[TopologySpreadConstraint] | None = None
    os: PodOS | None = None
    scheduling_gates: list[PodSchedulingGate] | None = None
    resource_claims: list[RawObject] | None = None
    resources: RawObject | None = None


class PodCondition(Model, kw_only=True):
    type: str = ""
    status: str = ""
    observed_generation: int | None = None
    last_probe_time: Timestamp | None = None
    last_transition_time: Timestamp | None = None
    reason: str | None = None
    message: str | None = None


class PodIP(Model, kw_only=True):
    ip: str = ""


class PodStatus(Model, kw_only=True):
    """The observed state of a pod, written by the agent (and the scheduler's conditions)."""

    phase: str | None = None
    conditions: list[PodCondition] | None = None
    message: str | None = None
    reason: str | None = None
    nominated_node_name: str | None = None
    host_ip: str | None = msgspec.field(default=None, name="hostIP")
    host_ips: list[PodIP] | None = msgspec.field(default=None, name="hostIPs")
    pod_ip: str | None = msgspec.field(default=None, name="podIP")
    pod_ips: list[PodIP] | None = msgspec.field(default=None, name="podIPs")
    start_time: Timestamp | None = None
    init_container_statuses: list[ContainerStatus] | None = None
    container_statuses: list[ContainerStatus] | None = None
    ephemeral_container_statuses: list[ContainerStatus] | None = None
    qos_class: str | None = msgspec.field(default=None, name="qosClass")
    resize: str | None = None
    resource_claim_statuses: list[RawObject] | None = None
    observed_generation: int | None = None


class Pod(TopLevel, kw_only=True):
    API_VERSION = "v1"
    KIND = "Pod"

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: PodSpec = msgspec.field(default_factory=PodSpec)
    status: PodStatus | None = None


class PodTemplateSpec(Model, kw_only=True):
    """The pod a workload controller creates: metadata (labels) and spec."""

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: PodSpec = msgspec.field(default_factory=PodSpec)
