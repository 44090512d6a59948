"""The Kubernetes HorizontalPodAutoscaler algorithm (autoscaling/v2), as pure functions.

`decide` is one controller sync; `spec` holds the typed HPA spec, `observations` the pods and
metric readings it consumes, `replicas` the replica calculator and `behavior` the stabilisation
and rate policies.
"""

from kubelite.autoscaling.hpa.behavior import ScalingHistory
from kubelite.autoscaling.hpa.decide import Condition, Decision, ScaleState, decide
from kubelite.autoscaling.hpa.spec import (
    Behavior,
    ControllerSettings,
    HPASpec,
    MetricSpec,
    MetricTarget,
    ScalingPolicy,
    ScalingRules,
    cpu_utilization_hpa,
)

__all__ = [
    "Behavior",
    "Condition",
    "ControllerSettings",
    "Decision",
    "HPASpec",
    "MetricSpec",
    "MetricTarget",
    "ScaleState",
    "ScalingHistory",
    "ScalingPolicy",
    "ScalingRules",
    "cpu_utilization_hpa",
    "decide",
]
