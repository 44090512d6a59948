"""apps/v1 Deployment and ReplicaSet: the workload controllers' desired and observed state."""

from __future__ import annotations

import msgspec

from kubelite.api.models.base import IntOrString, Model, Timestamp, TopLevel
from kubelite.api.models.meta import LabelSelector, ObjectMeta
from kubelite.api.models.pod import PodTemplateSpec


class WorkloadCondition(Model, kw_only=True):
    """A DeploymentCondition or ReplicaSetCondition (Available, Progressing, ReplicaFailure)."""

    type: str = ""
    status: str = ""
    last_update_time: Timestamp | None = None
    last_transition_time: Timestamp | None = None
    reason: str | None = None
    message: str | None = None


class RollingUpdateDeployment(Model, kw_only=True):
    max_unavailable: IntOrString | None = None
    max_surge: IntOrString | None = None


class DeploymentStrategy(Model, kw_only=True):
    type: str | None = None
    rolling_update: RollingUpdateDeployment | None = None


class DeploymentSpec(Model, kw_only=True):
    selector: LabelSelector | None = None
    template: PodTemplateSpec = msgspec.field(default_factory=PodTemplateSpec)
    replicas: int | None = None
    strategy: DeploymentStrategy | None = None
    min_ready_seconds: int | None = None
    revision_history_limit: int | None = None
    paused: bool | None = None
    progress_deadline_seconds: int | None = None


class DeploymentStatus(Model, kw_only=True):
    observed_generation: int | None = None
    replicas: int | None = None
    updated_replicas: int | None = None
    ready_replicas: int | None = None
    available_replicas: int | None = None
    unavailable_replicas: int | None = None
    terminating_replicas: int | None = None
    conditions: list[WorkloadCondition] | None = None
    collision_count: int | None = None


class Deployment(TopLevel, kw_only=True):
    API_VERSION = "apps/v1"
    KIND = "Deployment"

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: DeploymentSpec = msgspec.field(default_factory=DeploymentSpec)
    status: DeploymentStatus | None = None


class ReplicaSetSpec(Model, kw_only=True):
    selector: LabelSelector | None = None
    template: PodTemplateSpec | None = None
    replicas: int | None = None
    min_ready_seconds: int | None = None


class ReplicaSetStatus(Model, kw_only=True):
    """`replicas` is always written, even 0, as Kubernetes does."""

    replicas: int
    fully_labeled_replicas: int | None = None
    ready_replicas: int | None = None
    available_replicas: int | None = None
    terminating_replicas: int | None = None
    observed_generation: int | None = None
    conditions: list[WorkloadCondition] | None = None


class ReplicaSet(TopLevel, kw_only=True):
    API_VERSION = "apps/v1"
    KIND = "ReplicaSet"

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: ReplicaSetSpec = msgspec.field(default_factory=ReplicaSetSpec)
    status: ReplicaSetStatus | None = None
