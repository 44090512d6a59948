"""The HPA algorithm against Kubernetes' documented examples and edge cases.

Cases mirror kubernetes/pkg/controller/podautoscaler replica_calculator_test.go and
horizontal_test.go: tolerance, unready and missing pods, stabilisation, the rate policies,
selectPolicy, min/max and the conditions.
"""

from __future__ import annotations

import pytest

from kubelite.autoscaling.hpa import (
    Behavior,
    HPASpec,
    MetricSpec,
    MetricTarget,
    ScaleState,
    ScalingHistory,
    ScalingPolicy,
    ScalingRules,
    cpu_utilization_hpa,
    decide,
)
from kubelite.autoscaling.hpa.behavior import TimedValue
from kubelite.autoscaling.hpa.observations import (
    ExternalMetricValues,
    MetricFetchFailed,
    ObjectMetricValue,
    PodMetrics,
    PodMetricSample,
    PodState,
)

NOW = 1_700_000_000.0
REQUESTS = {"app": {"cpu": 1000}}


def running(
    name: str, *, ready: bool = True, started: float = NOW - 3600, since: float = NOW - 3000
) -> PodState:
    return PodState(name, "Running", started, "True" if ready else "False", since, REQUESTS)


def cpu(values: dict[str, int], at: float = NOW) -> PodMetrics:
    return PodMetrics({name: PodMetricSample(v, at, 30.0) for name, v in values.items()}, at)


@pytest.mark.parametrize(
    ("usages", "target", "expected"),
    [
        pytest.param([900, 900, 900], 50, 6, id="ceil(3 x 90/50)"),
        pytest.param([540, 540, 540], 50, 3, id="ratio-1.08-within-tolerance"),
        pytest.param([460, 460, 460], 50, 3, id="ratio-0.92-within-tolerance"),
        pytest.param([440, 440, 440], 50, 3, id="ratio-0.88-down-but-stabilised"),
        pytest.param([200, 200, 200, 200], 80, 1, id="no-history-nothing-to-stabilise"),
        pytest.param([2000, 2000], 50, 4, id="scale-up-limited-to-2x-or-4"),
    ],
)
def test_utilization_without_history(usages: list[int], target: int, expected: int) -> None:
    pods = [running(f"p{i}") for i in range(len(usages))]
    spec = cpu_utilization_hpa(target, 1, 100)
    samples = cpu({f"p{i}": u for i, u in enumerate(usages)})
    decision = decide(spec, ScaleState(len(pods), len(pods)), pods, [samples], ScalingHistory(), NOW)
    assert decision.desired_replicas == expected


def test_ratio_of_exactly_1_1_scales_as_kubernetes_float_arithmetic_does() -> None:
    # |1 - 1.1| is 0.10000000000000009 in float64, just outside the 0.1 tolerance.
    pods = [running(f"p{i}") for i in range(10)]
    spec = cpu_utilization_hpa(50, 1, 100)
    decision = decide(
        spec, ScaleState(10, 10), pods, [cpu({p.name: 550 for p in pods})], ScalingHistory(), NOW
    )
    assert decision.desired_replicas == 11


def test_unready_pods_count_as_zero_on_scale_up() -> None:
    # 2 ready pods at 100% of a 50% target, 1 pod still starting (Ready False, in CPU init period).
    pods = [running("a"), running("b"), running("c", ready=False, started=NOW - 60, since=NOW - 60)]
    spec = cpu_utilization_hpa(50, 1, 100)
    samples = cpu({"a": 1000, "b": 1000, "c": 300})
    decision = decide(spec, ScaleState(3, 3), pods, [samples], ScalingHistory(), NOW)
    assert decision.desired_replicas == 4  # ceil(2000 / (3 x 1000) / 0.5 x 3)


def test_pod_that_just_became_ready_is_ignored_during_cpu_initialisation() -> None:
    fresh = running("c", started=NOW - 100, since=NOW - 10)  # sample window 30 s not yet elapsed
    pods = [running("a"), running("b"), fresh]
    spec = cpu_utilization_hpa(50, 1, 100)
    decision = decide(
        spec, ScaleState(3, 3), pods, [cpu({"a": 500, "b": 500, "c": 2000})], ScalingHistory(), NOW
    )
    assert decision.desired_replicas == 3


def test_missing_metrics_count_as_full_request_on_scale_down() -> None:
    pods = [running(f"p{i}") for i in range(4)]
    spec = cpu_utilization_hpa(50, 1, 100)
    samples = cpu({"p0": 100, "p1": 100, "p2": 100})  # p3 has no sample
    decision = decide(spec, ScaleState(4, 4), pods, [samples], ScalingHistory(), NOW)
    # Without p3: ratio 0.2 -> scale down; with p3 at 100%: (300 + 1000) / 4000 / 0.5 = 0.65 -> 3 pods.
    assert decision.desired_replicas == 3


def test_all_metrics_missing_blocks_scaling_with_scaling_active_false() -> None:
    pods = [running("a")]
    spec = cpu_utilization_hpa(50, 1, 10)
    decision = decide(spec, ScaleState(1, 1), pods, [MetricFetchFailed("no metrics")], ScalingHistory(), NOW)
    assert not decision.rescale
    active = decision.condition("ScalingActive")
    assert active is not None and (active.status, active.reason) == ("False", "FailedGetResourceMetric")


def test_zero_replicas_disables_scaling() -> None:
    spec = cpu_utilization_hpa(50, 1, 10)
    decision = decide(spec, ScaleState(0, 0), [], [cpu({})], ScalingHistory(), NOW)
    active = decision.condition("ScalingActive")
    assert not decision.rescale and active is not None and active.reason == "ScalingDisabled"


@pytest.mark.parametrize(
    ("current", "expected", "reason"),
    [
        pytest.param(12, 10, "Current number of replicas above Spec.MaxReplicas", id="above-max"),
        pytest.param(1, 2, "Current number of replicas below Spec.MinReplicas", id="below-min"),
    ],
)
def test_out_of_range_counts_are_corrected_first(current: int, expected: int, reason: str) -> None:
    pods = [running(f"p{i}") for i in range(current)]
    spec = cpu_utilization_hpa(50, 2, 10)
    decision = decide(spec, ScaleState(current, current), pods, [cpu({})], ScalingHistory(), NOW)
    assert (decision.desired_replicas, decision.reason) == (expected, reason)


def test_downscale_stabilisation_keeps_highest_recent_recommendation() -> None:
    pods = [running(f"p{i}") for i in range(5)]
    spec = cpu_utilization_hpa(50, 1, 100, Behavior())
    history = ScalingHistory((TimedValue(5, NOW - 200), TimedValue(4, NOW - 100)))
    decision = decide(spec, ScaleState(5, 5), pods, [cpu({p.name: 100 for p in pods})], history, NOW)
    able = decision.condition("AbleToScale")
    assert decision.desired_replicas == 5 and able is not None and able.reason == "ScaleDownStabilized"
    later = decide(spec, ScaleState(5, 5), pods, [cpu({p.name: 100 for p in pods})], history, NOW + 301)
    assert later.desired_replicas == 1


def _behavior(up: tuple[ScalingPolicy, ...], select: str = "Max") -> Behavior:
    return Behavior(
        scale_up=ScalingRules(0, select, up),  # type: ignore[arg-type]
        scale_down=ScalingRules(0, "Max", (ScalingPolicy("Percent", 100, 15),)),
    )


@pytest.mark.parametrize(
    ("policies", "select", "expected", "limited_reason"),
    [
        pytest.param((ScalingPolicy("Pods", 4, 60),), "Max", 14, "ScaleUpLimit", id="pods-4"),
        pytest.param((ScalingPolicy("Percent", 50, 60),), "Max", 15, "ScaleUpLimit", id="percent-50"),
        pytest.param(
            (ScalingPolicy("Pods", 4, 60), ScalingPolicy("Percent", 50, 60)),
            "Max",
            15,
            "ScaleUpLimit",
            id="max",
        ),
        pytest.param(
            (ScalingPolicy("Pods", 4, 60), ScalingPolicy("Percent", 50, 60)),
            "Min",
            14,
            "ScaleUpLimit",
            id="min",
        ),
        pytest.param((ScalingPolicy("Pods", 4, 60),), "Disabled", 10, "ScaleUpLimit", id="disabled"),
        pytest.param((ScalingPolicy("Pods", 100, 60),), "Max", 20, "TooManyReplicas", id="max-replicas"),
    ],
)
def test_scale_up_policies(
    policies: tuple[ScalingPolicy, ...], select: str, expected: int, limited_reason: str
) -> None:
    pods = [running(f"p{i}") for i in range(10)]
    metric = MetricSpec("Resource", "cpu", MetricTarget("Utilization", average_utilization=10))
    spec = HPASpec(20, (metric,), 1, _behavior(policies, select))
    decision = decide(
        spec, ScaleState(10, 10), pods, [cpu({p.name: 1000 for p in pods})], ScalingHistory(), NOW
    )
    limited = decision.condition("ScalingLimited")
    assert decision.desired_replicas == expected
    assert limited is not None and (limited.status, limited.reason) == ("True", limited_reason)


def test_scale_up_policy_counts_earlier_scale_events_in_the_period() -> None:
    pods = [running(f"p{i}") for i in range(10)]
    metric = MetricSpec("Resource", "cpu", MetricTarget("Utilization", average_utilization=10))
    spec = HPASpec(100, (metric,), 1, _behavior((ScalingPolicy("Pods", 4, 60),)))
    history = ScalingHistory(scale_up_events=(TimedValue(3, NOW - 30),))
    decision = decide(spec, ScaleState(10, 10), pods, [cpu({p.name: 1000 for p in pods})], history, NOW)
    assert decision.desired_replicas == 11  # period started at 7 replicas: 7 + 4


@pytest.mark.parametrize(
    ("observation", "target", "expected"),
    [
        pytest.param(
            ObjectMetricValue(30_000, NOW), MetricTarget("Value", value_milli=10_000), 9, id="object-value"
        ),
        pytest.param(
            ObjectMetricValue(30_000, NOW),
            MetricTarget("AverageValue", average_value_milli=5_000),
            6,
            id="object-avg",
        ),
        pytest.param(
            ExternalMetricValues((10_000, 20_000), NOW),
            MetricTarget("Value", value_milli=10_000),
            9,
            id="external",
        ),
        pytest.param(
            ExternalMetricValues((9_000, 9_000), NOW),
            MetricTarget("AverageValue", average_value_milli=6_000),
            3,
            id="external-avg-within-tolerance",
        ),
    ],
)
def test_object_and_external_metrics(
    observation: ObjectMetricValue | ExternalMetricValues, target: MetricTarget, expected: int
) -> None:
    pods = [running(f"p{i}") for i in range(3)]
    kind = "Object" if isinstance(observation, ObjectMetricValue) else "External"
    metric = MetricSpec(kind, "requests", target, described_object="Service/web")
    permissive = ScalingRules(0, "Max", (ScalingPolicy("Percent", 1000, 15),))
    spec = HPASpec(100, (metric,), 1, Behavior(scale_up=permissive))
    decision = decide(spec, ScaleState(3, 3), pods, [observation], ScalingHistory(), NOW)
    assert decision.desired_replicas == expected


def test_pods_metric_average_value() -> None:
    pods = [running(f"p{i}") for i in range(4)]
    metric = MetricSpec("Pods", "qps", MetricTarget("AverageValue", average_value_milli=10_000))
    spec = HPASpec(100, (metric,), 1, Behavior())
    samples = PodMetrics({p.name: PodMetricSample(20_000, NOW, 60.0) for p in pods}, NOW)
    assert decide(spec, ScaleState(4, 4), pods, [samples], ScalingHistory(), NOW).desired_replicas == 8


def test_failed_metric_blocks_scale_down_but_not_scale_up() -> None:
    pods = [running(f"p{i}") for i in range(4)]
    cpu_metric = MetricSpec("Resource", "cpu", MetricTarget("Utilization", average_utilization=50))
    qps = MetricSpec("Pods", "qps", MetricTarget("AverageValue", average_value_milli=10_000))
    spec = HPASpec(100, (cpu_metric, qps), 1, Behavior())
    low = cpu({p.name: 100 for p in pods})
    high = cpu({p.name: 1000 for p in pods})
    down = decide(spec, ScaleState(4, 4), pods, [low, MetricFetchFailed("x")], ScalingHistory(), NOW)
    up = decide(spec, ScaleState(4, 4), pods, [high, MetricFetchFailed("x")], ScalingHistory(), NOW)
    assert (down.rescale, up.desired_replicas) == (False, 8)
