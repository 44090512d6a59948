"""autoscaling/v2 HorizontalPodAutoscaler and autoscaling/v1 Scale (the /scale subresource).

The HPA controller reads spec.metrics and behavior and writes status; the API server serves a
Scale for Deployments and ReplicaSets. Metric values are quantity strings on the wire.
"""

from __future__ import annotations

import msgspec

from kubelite.api.models.base import Model, RawObject, Timestamp, TopLevel
from kubelite.api.models.meta import LabelSelector, ObjectMeta


class CrossVersionObjectReference(Model, kw_only=True):
    kind: str = ""
    name: str = ""
    api_version: str | None = None


class MetricTarget(Model, kw_only=True):
    """type Utilization (averageUtilization %), Value or AverageValue (quantities)."""

    type: str = ""
    value: str | None = None
    average_value: str | None = None
    average_utilization: int | None = None


class MetricValueStatus(Model, kw_only=True):
    value: str | None = None
    average_value: str | None = None
    average_utilization: int | None = None


class MetricIdentifier(Model, kw_only=True):
    name: str = ""
    selector: LabelSelector | None = None


class ResourceMetricSource(Model, kw_only=True):
    name: str = ""
    target: MetricTarget = msgspec.field(default_factory=MetricTarget)


class ContainerResourceMetricSource(Model, kw_only=True):
    name: str = ""
    container: str = ""
    target: MetricTarget = msgspec.field(default_factory=MetricTarget)


class PodsMetricSource(Model, kw_only=True):
    metric: MetricIdentifier = msgspec.field(default_factory=MetricIdentifier)
    target: MetricTarget = msgspec.field(default_factory=MetricTarget)


class ObjectMetricSource(Model, kw_only=True):
    described_object: CrossVersionObjectReference = msgspec.field(default_factory=CrossVersionObjectReference)
    metric: MetricIdentifier = msgspec.field(default_factory=MetricIdentifier)
    target: MetricTarget = msgspec.field(default_factory=MetricTarget)


class ExternalMetricSource(Model, kw_only=True):
    metric: MetricIdentifier = msgspec.field(default_factory=MetricIdentifier)
    target: MetricTarget = msgspec.field(default_factory=MetricTarget)


class MetricSpec(Model, kw_only=True):
    """One metric the HPA scales on; `type` names which source is set."""

    type: str = ""
    resource: ResourceMetricSource | None = None
    container_resource: ContainerResourceMetricSource | None = None
    pods: PodsMetricSource | None = None
    object: ObjectMetricSource | None = None
    external: ExternalMetricSource | None = None


class ResourceMetricStatus(Model, kw_only=True):
    name: str = ""
    current: MetricValueStatus = msgspec.field(default_factory=MetricValueStatus)


class MetricStatus(Model, kw_only=True):
    """The current value of one metric; sources other than Resource are kept raw."""

    type: str = ""
    resource: ResourceMetricStatus | None = None
    container_resource: RawObject | None = None
    pods: RawObject | None = None
    object: RawObject | None = None
    external: RawObject | None = None


class HPAScalingPolicy(Model, kw_only=True):
    type: str = ""
    value: int = 0
    period_seconds: int = 0


class HPAScalingRules(Model, kw_only=True):
    stabilization_window_seconds: int | None = None
    select_policy: str | None = None
    policies: list[HPAScalingPolicy] | None = None
    tolerance: str | None = None


class HorizontalPodAutoscalerBehavior(Model, kw_only=True):
    scale_up: HPAScalingRules | None = None
    scale_down: HPAScalingRules | None = None


class HorizontalPodAutoscalerSpec(Model, kw_only=True):
    scale_target_ref: CrossVersionObjectReference = msgspec.field(default_factory=CrossVersionObjectReference)
    max_replicas: int = 0
    min_replicas: int | None = None
    metrics: list[MetricSpec] | None = None
    behavior: HorizontalPodAutoscalerBehavior | None = None


class HorizontalPodAutoscalerCondition(Model, kw_only=True):
    type: str = ""
    status: str = ""
    last_transition_time: Timestamp | None = None
    reason: str | None = None
    message: str | None = None


class HorizontalPodAutoscalerStatus(Model, kw_only=True):
    """`desiredReplicas` is always written, as Kubernetes does."""

    desired_replicas: int
    observed_generation: int | None = None
    last_scale_time: Timestamp | None = None
    current_replicas: int | None = None
    current_metrics: list[MetricStatus] | None = None
    conditions: list[HorizontalPodAutoscalerCondition] | None = None


class HorizontalPodAutoscaler(TopLevel, kw_only=True):
    API_VERSION = "autoscaling/v2"
    KIND = "HorizontalPodAutoscaler"

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: HorizontalPodAutoscalerSpec = msgspec.field(default_factory=HorizontalPodAutoscalerSpec)
    status: HorizontalPodAutoscalerStatus | None = None


class ScaleSpec(Model, kw_only=True):
    replicas: int | None = None


class ScaleStatus(Model, kw_only=True):
    replicas: int
    selector: str | None = None


class Scale(TopLevel, kw_only=True):
    """autoscaling/v1 Scale, served at .../deployments/{name}/scale."""

    API_VERSION = "autoscaling/v1"
    KIND = "Scale"

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: ScaleSpec = msgspec.field(default_factory=ScaleSpec)
    status: ScaleStatus | None = None
