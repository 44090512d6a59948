"""The autoscaling/v2 HorizontalPodAutoscaler spec as typed, already-parsed values.

A live controller converts the API object (quantities parsed once with `kubelite.api.quantity`)
into these frozen dataclasses; the replay builds them directly. All metric values are integers in
milli-units, as Kubernetes' controller works on `MilliValue()`. Defaults follow the API's
defaulting for autoscaling/v2 (pkg/apis/autoscaling/v2/defaults.go): minReplicas 1, scale-up with
no stabilisation and the policies "4 pods or 100% per 15 s, whichever is more", scale-down with a
300 s stabilisation window and "100% per 15 s".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

MetricSourceType = Literal["Resource", "ContainerResource", "Pods", "Object", "External"]
MetricTargetType = Literal["Utilization", "AverageValue", "Value"]
ScalingPolicyType = Literal["Pods", "Percent"]
SelectPolicy = Literal["Max", "Min", "Disabled"]

DEFAULT_TOLERANCE = 0.1
"""--horizontal-pod-autoscaler-tolerance: ratios within 10% of 1.0 do not rescale."""
DEFAULT_CPU_INITIALIZATION_PERIOD_SECONDS = 300.0
"""--horizontal-pod-autoscaler-cpu-initialization-period (5 minutes)."""
DEFAULT_INITIAL_READINESS_DELAY_SECONDS = 30.0
"""--horizontal-pod-autoscaler-initial-readiness-delay (30 seconds)."""
DEFAULT_SYNC_PERIOD_SECONDS = 15.0
"""--horizontal-pod-autoscaler-sync-period (15 seconds)."""
DEFAULT_DOWNSCALE_STABILIZATION_SECONDS = 300
"""--horizontal-pod-autoscaler-downscale-stabilization (5 minutes)."""


@dataclass(frozen=True, slots=True)
class MetricTarget:
    """What value the metric should have; exactly one field matches `type`."""

    type: MetricTargetType
    average_utilization: int | None = None
    """Percent of the pods' requests (Resource and ContainerResource only)."""
    average_value_milli: int | None = None
    value_milli: int | None = None


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One entry of `spec.metrics`: where the metric comes from and its target."""

    type: MetricSourceType
    name: str
    """The resource name ("cpu", "memory") or the custom/external metric's name."""
    target: MetricTarget
    container: str | None = None
    """ContainerResource only: the container whose usage counts."""
    described_object: str | None = None
    """Object only: "Kind/name" of the object the metric describes."""


@dataclass(frozen=True, slots=True)
class ScalingPolicy:
    """Allow at most `value` pods (or percent) of change within `period_seconds`."""

    type: ScalingPolicyType
    value: int
    period_seconds: int


@dataclass(frozen=True, slots=True)
class ScalingRules:
    """One direction of `spec.behavior`."""

    stabilization_window_seconds: int | None
    select_policy: SelectPolicy = "Max"
    policies: tuple[ScalingPolicy, ...] = ()
    tolerance: float | None = None
    """Per-direction tolerance (HPAConfigurableTolerance); None means the controller's 0.1."""

    @property
    def longest_period_seconds(self) -> int:
        return max((policy.period_seconds for policy in self.policies), default=0)


def default_scale_up() -> ScalingRules:
    return ScalingRules(
        stabilization_window_seconds=0,
        select_policy="Max",
        policies=(ScalingPolicy("Pods", 4, 15), ScalingPolicy("Percent", 100, 15)),
    )


def default_scale_down() -> ScalingRules:
    # The window stays None here and is filled from the controller's flag at sync time, exactly as
    # the API defaulting leaves it unset and the controller applies its own default.
    return ScalingRules(
        stabilization_window_seconds=None,
        select_policy="Max",
        policies=(ScalingPolicy("Percent", 100, 15),),
    )


@dataclass(frozen=True, slots=True)
class Behavior:
    """`spec.behavior` with both directions defaulted."""

    scale_up: ScalingRules = field(default_factory=default_scale_up)
    scale_down: ScalingRules = field(default_factory=default_scale_down)


@dataclass(frozen=True, slots=True)
class HPASpec:
    """The fields of an autoscaling/v2 HPA spec that the algorithm reads."""

    max_replicas: int
    metrics: tuple[MetricSpec, ...]
    min_replicas: int = 1
    behavior: Behavior | None = None
    """None keeps the pre-behavior algorithm (a 2x-or-4 scale-up limit), as Kubernetes does."""


@dataclass(frozen=True, slots=True)
class ControllerSettings:
    """The kube-controller-manager flags of the HPA controller."""

    tolerance: float = DEFAULT_TOLERANCE
    cpu_initialization_period_seconds: float = DEFAULT_CPU_INITIALIZATION_PERIOD_SECONDS
    initial_readiness_delay_seconds: float = DEFAULT_INITIAL_READINESS_DELAY_SECONDS
    downscale_stabilization_seconds: int = DEFAULT_DOWNSCALE_STABILIZATION_SECONDS
    sync_period_seconds: float = DEFAULT_SYNC_PERIOD_SECONDS


def cpu_utilization_hpa(
    target_percent: int, min_replicas: int, max_replicas: int, behavior: Behavior | None = None
) -> HPASpec:
    """The HPA that `kubectl autoscale --cpu-percent` creates."""
    metric = MetricSpec("Resource", "cpu", MetricTarget("Utilization", average_utilization=target_percent))
    return HPASpec(max_replicas, (metric,), min_replicas, behavior)
