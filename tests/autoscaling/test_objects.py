"""API objects to the HPA's typed values and back, and the metrics APIs' payloads."""

from __future__ import annotations

import random
from typing import Any

import pytest

from kubelite.autoscaling.hpa.behavior import ScalingHistory
from kubelite.autoscaling.hpa.decide import Condition, Decision
from kubelite.autoscaling.hpa.observations import MetricStatus
from kubelite.autoscaling.hpa.spec import (
    Behavior,
    HPASpec,
    MetricSpec,
    MetricTarget,
    ScalingPolicy,
    ScalingRules,
    default_scale_up,
)
from kubelite.autoscaling.metrics_api import metric_value_samples, parse_duration, pod_resource_samples
from kubelite.autoscaling.objects import SpecError, format_time, hpa_spec, hpa_status, pod_state
from kubelite.autoscaling.predictive.forecast import ForecastSettings, SeasonalForecaster

CPU_70 = MetricSpec("Resource", "cpu", MetricTarget("Utilization", average_utilization=70))


def _hpa(spec: dict[str, Any]) -> dict[str, Any]:
    base = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "maxReplicas": 10,
    }
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "spec": {**base, **spec}}


def _resource(name: str, target: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Resource", "resource": {"name": name, "target": target}}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            {
                "minReplicas": 2,
                "metrics": [_resource("cpu", {"type": "Utilization", "averageUtilization": 70})],
            },
            HPASpec(10, (CPU_70,), 2),
            id="kubectl-autoscale",
        ),
        pytest.param(
            {},
            HPASpec(
                10, (MetricSpec("Resource", "cpu", MetricTarget("Utilization", average_utilization=80)),), 1
            ),
            id="no-metrics-defaults-to-cpu-80",
        ),
        pytest.param(
            {"metrics": [_resource("memory", {"type": "AverageValue", "averageValue": "512Mi"})]},
            HPASpec(
                10,
                (
                    MetricSpec(
                        "Resource",
                        "memory",
                        MetricTarget("AverageValue", average_value_milli=512 * 2**20 * 1000),
                    ),
                ),
            ),
            id="memory-average-value-in-milli",
        ),
        pytest.param(
            {
                "metrics": [
                    {
                        "type": "Object",
                        "object": {
                            "describedObject": {
                                "apiVersion": "networking.k8s.io/v1",
                                "kind": "Ingress",
                                "name": "main",
                            },
                            "metric": {"name": "requests-per-second"},
                            "target": {"type": "Value", "value": "10k"},
                        },
                    }
                ]
            },
            HPASpec(
                10,
                (
                    MetricSpec(
                        "Object",
                        "requests-per-second",
                        MetricTarget("Value", value_milli=10_000_000),
                        described_object="Ingress/main",
                    ),
                ),
            ),
            id="object-metric",
        ),
        pytest.param(
            {
                "metrics": [_resource("cpu", {"type": "Utilization", "averageUtilization": 70})],
                "behavior": {
                    "scaleDown": {
                        "stabilizationWindowSeconds": 60,
                        "policies": [{"type": "Pods", "value": 1, "periodSeconds": 30}],
                    }
                },
            },
            HPASpec(
                10,
                (CPU_70,),
                behavior=Behavior(
                    default_scale_up(), ScalingRules(60, "Max", (ScalingPolicy("Pods", 1, 30),))
                ),
            ),
            id="behavior-scale-down-only",
        ),
    ],
)
def test_hpa_spec_parses_the_api_object(spec: dict[str, Any], expected: HPASpec) -> None:
    assert hpa_spec(_hpa(spec)) == expected


@pytest.mark.parametrize(
    "metrics",
    [
        pytest.param([_resource("cpu", {"type": "AverageValue", "averageValue": "lots"})], id="bad-quantity"),
        pytest.param([{"type": "Bogus"}], id="unknown-source"),
        pytest.param([_resource("cpu", {"type": "Percent"})], id="unknown-target"),
    ],
)
def test_unreadable_specs_are_values_not_exceptions(metrics: list[dict[str, Any]]) -> None:
    outcome = hpa_spec(_hpa({"metrics": metrics}))
    assert isinstance(outcome, SpecError) and outcome.reason == "InvalidMetricSourceType"


def test_pod_state_reads_phase_readiness_and_requests() -> None:
    pod = {
        "metadata": {"name": "web-1", "deletionTimestamp": "2026-01-01T00:00:30Z"},
        "spec": {
            "containers": [
                {"name": "app", "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}},
                {"name": "sidecar"},
            ]
        },
        "status": {
            "phase": "Running",
            "startTime": "2026-01-01T00:00:00Z",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:10Z"}],
        },
    }
    state = pod_state(pod)
    assert (state.name, state.phase, state.ready, state.deleting) == ("web-1", "Running", "True", True)
    assert state.ready_transition_time - (state.start_time or 0) == 10
    assert state.container_requests_milli == {"app": {"cpu": 250, "memory": 64 * 2**20 * 1000}, "sidecar": {}}


def _decision(conditions: tuple[Condition, ...]) -> Decision:
    history = ScalingHistory()
    metric = MetricStatus("Resource", "cpu", average_utilization=90, average_value_milli=450)
    return Decision(3, 4, True, "cpu resource utilization (percentage of request) above target",
                    conditions, (metric,), history, history)  # fmt: skip


def test_status_keeps_transition_times_of_unchanged_conditions() -> None:
    previous = {
        "conditions": [
            {"type": "AbleToScale", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"},
            {"type": "ScalingActive", "status": "False", "lastTransitionTime": "2026-01-01T00:00:00Z"},
        ],
        "lastScaleTime": "2026-01-01T00:00:00Z",
    }
    conditions = (
        Condition("AbleToScale", "True", "SucceededRescale", "m"),
        Condition("ScalingActive", "True", "ValidMetricFound", "m"),
    )
    now = 1_800_000_000.0
    status = hpa_status(_decision(conditions), previous, now, scaled=False, observed_generation=2)
    times = {c["type"]: c["lastTransitionTime"] for c in status["conditions"]}
    assert times == {"AbleToScale": "2026-01-01T00:00:00Z", "ScalingActive": format_time(now)}
    assert status["lastScaleTime"] == "2026-01-01T00:00:00Z"  # not scaled in this sync
    assert status["currentMetrics"] == [
        {
            "type": "Resource",
            "resource": {"name": "cpu", "current": {"averageUtilization": 90, "averageValue": "450m"}},
        }
    ]
    assert (status["currentReplicas"], status["desiredReplicas"], status["observedGeneration"]) == (3, 4, 2)
    scaled = hpa_status(_decision(conditions), previous, now, scaled=True, observed_generation=2)
    assert scaled["lastScaleTime"] == format_time(now)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15s", 15.0), ("1m30s", 90.0), ("500ms", 0.5), ("2h", 7200.0), ("", 15.0), ("soon", 15.0)],
    ids=["seconds", "minutes-and-seconds", "milliseconds", "hours", "empty-default", "garbage-default"],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_pod_metrics_sum_containers_or_pick_one() -> None:
    listing = {
        "items": [
            {
                "metadata": {"name": "web-1"},
                "timestamp": "2026-01-01T00:00:00Z",
                "window": "30s",
                "containers": [
                    {"name": "app", "usage": {"cpu": "300m", "memory": "10Mi"}},
                    {"name": "sidecar", "usage": {"cpu": "20m"}},
                ],
            },
            {"metadata": {"name": "web-2"}, "containers": [{"name": "app", "usage": {"memory": "1Mi"}}]},
        ]
    }
    total = pod_resource_samples(listing, "cpu", None, 0.0)
    assert {name: s.value_milli for name, s in total.samples.items()} == {"web-1": 320}
    assert total.samples["web-1"].window_seconds == 30.0
    app_only = pod_resource_samples(listing, "cpu", "app", 0.0)
    assert app_only.samples["web-1"].value_milli == 300


def test_custom_metric_values_are_per_pod_milli() -> None:
    listing = {
        "items": [
            {"describedObject": {"kind": "Pod", "name": "web-1"}, "value": "1500m", "windowSeconds": 60},
            {"describedObject": {"kind": "Pod", "name": "web-2"}, "value": "2"},
        ]
    }
    samples = metric_value_samples(listing, 5.0).samples
    assert {name: s.value_milli for name, s in samples.items()} == {"web-1": 1500, "web-2": 2000}
    assert samples["web-1"].window_seconds == 60.0


def test_incremental_error_quantile_matches_a_full_sort() -> None:
    settings = ForecastSettings(error_window_seconds=200 * 60, minimum_errors=1)
    forecaster = SeasonalForecaster(60.0, settings)
    rng = random.Random(7)
    errors = [rng.gauss(0, 1) for _ in range(1000)]
    for error in errors:
        forecaster._record_error(error)
    window = sorted(errors[-200:])
    assert forecaster.margin() == max(0.0, window[int(settings.error_quantile * 200)])
