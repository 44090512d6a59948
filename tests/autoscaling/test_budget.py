"""The predictive autoscaler's cost guard rail: a shadow of the reactive HPA, and the budget."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kubelite.autoscaling.hpa.spec import cpu_utilization_hpa
from kubelite.autoscaling.predictive.budget import BudgetSettings, ReactiveBudget, ShadowHpa
from kubelite.autoscaling.predictive.policy import PredictiveAutoscaler, PredictiveSettings
from kubelite.autoscaling.reactive import ReactiveAutoscaler
from kubelite.autoscaling.replay.simulate import ReplayConfig, replay
from kubelite.autoscaling.replay.trace import LoadTrace
from kubelite.clock import FakeClock


def test_shadow_scales_up_at_once_with_new_pods_ready_after_start_up_and_down_after_five_minutes() -> None:
    shadow = ShadowHpa(0.1, startup_seconds=120, window=300)
    assert shadow.sync(0, load=1400, capacity=100, target=0.7, current=20) == 20  # 70% of 20 pods
    assert shadow.sync(15, load=2800, capacity=100, target=0.7, current=20) == 40  # ratio 2: double
    # The 20 new pods are not ready yet; as the HPA counts them as idle, 40 already suffice.
    assert shadow.sync(30, load=2800, capacity=100, target=0.7, current=20) == 40
    assert shadow.sync(150, load=2800, capacity=100, target=0.7, current=20) == 40  # all 40 ready at 70%
    # Load back to 1400: the recommendation falls to 20, but 40 are kept for the 5-minute window.
    assert shadow.sync(165, load=1400, capacity=100, target=0.7, current=20) == 40
    assert shadow.sync(440, load=1400, capacity=100, target=0.7, current=20) == 40  # 40 asked at 150
    assert shadow.sync(600, load=1400, capacity=100, target=0.7, current=20) == 20


def test_budget_cuts_the_margin_only_beyond_the_ceiling() -> None:
    budget = ReactiveBudget(startup_seconds=0, tolerance=0.1, settings=BudgetSettings(ceiling=1.25))
    for second in range(0, 3600, 15):  # the shadow HPA keeps 10 pods for 700 units at 70%
        budget.observe(second, own_replicas=12, load=700, capacity=100, target=0.7)
    assert budget.margin_scale() == 1.0  # 1.2 x the HPA's spend: within the ceiling
    for second in range(3600, 7200, 15):
        budget.observe(second, own_replicas=20, load=700, capacity=100, target=0.7)
    assert budget.margin_scale() == 0.0  # well beyond 1.25 x


def _spiky_trace(rows: int = 3 * 288) -> LoadTrace:
    """Five-minute rows of near-white noise with heavy spikes: little to forecast."""
    rng = np.random.default_rng(11)
    load = 500 * rng.lognormal(0.0, 0.8, rows)
    return LoadTrace(1_700_000_000.0 + np.arange(rows) * 300.0, load, 300.0, 0)


@pytest.mark.parametrize("ceiling", [1.25, math.inf])
def test_the_guard_rail_keeps_a_spiky_series_near_the_hpas_cost(ceiling: float) -> None:
    from kubelite.autoscaling.predictive.forecast import ForecastSettings

    trace = _spiky_trace()
    spec = cpu_utilization_hpa(70, 1, 10_000)
    config = ReplayConfig(50.0, 120.0)
    hpa = replay(trace, config, ReactiveAutoscaler(spec), FakeClock(float(trace.timestamps[0]))).summary
    settings = PredictiveSettings(
        120.0, forecast=ForecastSettings(bucket_seconds=300.0), budget=BudgetSettings(ceiling=ceiling)
    )
    predictive = replay(
        trace, config, PredictiveAutoscaler(spec, settings), FakeClock(float(trace.timestamps[0]))
    ).summary
    ratio = predictive.replica_hours / hpa.replica_hours
    if ceiling == math.inf:
        assert ratio > 1.5  # without the guard rail the error quantile buys far more pods
    else:
        assert ratio < 1.35
        assert predictive.violation_minutes < hpa.violation_minutes
