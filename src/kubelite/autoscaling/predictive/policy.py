"""The predictive autoscaler: provision now for the load forecast up to (now + pod start-up lead).

At each sync it
1. asks the HPA's replica calculator what the reactive HPA would ask for right now (every metric,
   the largest proposal, tolerance included, within min/max): the floor it never goes below;
2. feeds the workload's total usage of its primary metric (the first Resource, ContainerResource
   or Pods metric) to a `SeasonalForecaster` and asks for the highest load forecast between now and
   now + lead, where the lead is the pod start-up time plus one sync period (a pod asked for now
   serves from then on, and a pod removed now cannot be back sooner);
3. sizes for the upper forecast (the point forecast plus a margin learnt from the forecaster's own
   recent errors) at `upper_utilization` (100%) of the pods' requests. The margin is the headroom:
   the reactive HPA's 70% target is headroom for what it cannot see coming, which the forecast and
   its error quantile now cover explicitly;
4. normalises the larger of floor and forecast with the autoscaling/v2 behavior machinery, with a
   scale-down stabilisation of one sync period (the forecast already looks ahead, so holding the
   5-minute maximum as the reactive HPA does would only buy idle replicas).
It is enabled per HPA with the annotation `autoscaling.kubelite.io/mode: predictive`, and reports
its forecast in `forecast_annotations` (for the HPA's annotations) and in the decision's reason.
Published designs this follows: AWS predictive scaling (forecast, then schedule capacity ahead by
the instance warm-up), Crane EHPA (forecast plus reactive HPA, taking the larger), the Holt-Winters
predictive HPA (jthomperoo/predictive-horizontal-pod-autoscaler) and Google Autopilot's margin
over recent usage (Rzadca et al., EuroSys 2020).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from kubelite.autoscaling.hpa.behavior import ScalingHistory, normalize_with_behavior, record_scale_event
from kubelite.autoscaling.hpa.decide import (
    Condition,
    Decision,
    ScaleState,
    metric_display_name,
    propose_for_metric,
)
from kubelite.autoscaling.hpa.observations import (
    MetricFailure,
    MetricObservation,
    MetricStatus,
    PodMetrics,
    PodState,
)
from kubelite.autoscaling.hpa.spec import (
    Behavior,
    ControllerSettings,
    HPASpec,
    MetricSpec,
    ScalingRules,
    default_scale_down,
    default_scale_up,
)
from kubelite.autoscaling.predictive.budget import BudgetSettings, ReactiveBudget
from kubelite.autoscaling.predictive.forecast import Forecast, ForecastSettings, SeasonalForecaster

MODE_ANNOTATION = "autoscaling.kubelite.io/mode"
FORECAST_ANNOTATION = "autoscaling.kubelite.io/forecast"


def predictive_behavior(scale_down_window_seconds: int) -> Behavior:
    down = default_scale_down()
    return Behavior(
        scale_up=default_scale_up(),
        scale_down=ScalingRules(scale_down_window_seconds, down.select_policy, down.policies),
    )


@dataclass(frozen=True, slots=True)
class PredictiveSettings:
    """How the predictive autoscaler turns a forecast into replicas."""

    startup_seconds: float
    """How long a new pod takes to become ready: the forecast looks this far ahead (plus a sync)."""
    upper_utilization: int = 100
    """Utilisation (percent of requests) the upper forecast may reach. The upper forecast already
    holds the safety margin learnt from the forecast's own errors, so it may use the full request;
    the reactive HPA's 70% headroom exists because the HPA cannot see ahead."""
    scale_down_tolerance: float = 0.05
    """Scale down for the forecast only once the upper forecast is this fraction below what one
    replica fewer would still carry: the forecast moves by fractions of a pod from sync to sync, and
    without a dead band each wobble across a pod boundary costs a scale-down and then a scale-up
    (the role the HPA's 0.1 tolerance plays for its own ratio)."""
    behavior: Behavior | None = None
    """None: the default scale-up policies and a scale-down window of one sync period."""
    forecast: ForecastSettings = field(default_factory=ForecastSettings)
    budget: BudgetSettings = field(default_factory=BudgetSettings)
    """The cost guard rail: a multiple of the reactive HPA's replica-seconds (see `budget.py`)."""


def wants_predictive(annotations: dict[str, str]) -> bool:
    """Whether an HPA opted in with `autoscaling.kubelite.io/mode: predictive`."""
    return annotations.get(MODE_ANNOTATION, "").strip().lower() == "predictive"


def forecast_annotations(
    forecast: Forecast | None, forecast_replicas: int, floor_replicas: int
) -> dict[str, str]:
    """The forecast as an HPA annotation (values in the primary metric's milli-units)."""
    if forecast is None:
        return {}
    body = {
        "horizonSeconds": round(forecast.horizon_seconds, 1),
        "pointMilli": round(forecast.point),
        "upperMilli": round(forecast.upper),
        "margin": round(forecast.margin, 4),
        "forecastReplicas": forecast_replicas,
        "reactiveReplicas": floor_replicas,
    }
    return {FORECAST_ANNOTATION: json.dumps(body, sort_keys=True)}


def _target_fraction(metric: MetricSpec) -> float:
    """The share of a pod's capacity the HPA aims at: averageUtilization, or all of an AverageValue."""
    target = metric.target
    if target.type == "Utilization" and target.average_utilization:
        return target.average_utilization / 100
    return 1.0


def _primary_metric(spec: HPASpec) -> tuple[int, MetricSpec] | None:
    for index, metric in enumerate(spec.metrics):
        if metric.type in ("Resource", "ContainerResource", "Pods"):
            return index, metric
    return None


class PredictiveAutoscaler:
    """Scales ahead of the forecast, never below the reactive HPA's recommendation."""

    NAME = "predictive"

    def __init__(
        self, spec: HPASpec, settings: PredictiveSettings, controller: ControllerSettings | None = None
    ) -> None:
        self.spec = spec
        self.settings = settings
        self.controller = controller or ControllerSettings()
        self.lead_seconds = settings.startup_seconds + self.controller.sync_period_seconds
        # The forecast is already the peak over [now, now + lead] (a pod removed now cannot be back
        # sooner), so scale-down only waits one sync period, against a single noisy reading.
        self.behavior = settings.behavior or predictive_behavior(
            math.ceil(self.controller.sync_period_seconds)
        )
        self.forecaster = SeasonalForecaster(self.lead_seconds, settings.forecast)
        self.budget = ReactiveBudget(settings.startup_seconds, self.controller.tolerance, settings.budget)
        self.history = ScalingHistory()
        self._history_if_failed = self.history
        self.last_forecast: Forecast | None = None
        self.last_forecast_replicas = 0
        self.last_reactive_replicas = 0

    def _capacity_per_pod(self, metric: MetricSpec, pods: Sequence[PodState]) -> float | None:
        """Milli-units of the metric one pod may carry at the upper forecast."""
        target = metric.target
        if target.type == "Utilization" and target.average_utilization:
            resource = metric.name
            requests = [
                sum(c.get(resource, 0) for name, c in pod.container_requests_milli.items()
                    if metric.container is None or name == metric.container)
                for pod in pods
            ]  # fmt: skip
            if not requests or not any(requests):
                return None
            request = sum(requests) / len(requests)
            return request * self.settings.upper_utilization / 100
        if target.type == "AverageValue" and target.average_value_milli:
            # A per-pod value has no "100%": its target is the most a pod should carry.
            return float(target.average_value_milli)
        return None

    def sync(
        self,
        now: float,
        scale: ScaleState,
        pods: Sequence[PodState],
        observations: Sequence[MetricObservation],
    ) -> Decision:
        spec, current = self.spec, scale.spec_replicas
        tolerance = (self.controller.tolerance, self.controller.tolerance)
        proposals: list[int] = []
        statuses: list[MetricStatus] = []
        failure: Condition | None = None
        for metric, observation in zip(spec.metrics, observations, strict=True):
            outcome = propose_for_metric(metric, observation, scale, pods, now, self.controller, tolerance)
            if isinstance(outcome, MetricFailure):
                failure = failure or Condition(
                    "ScalingActive", "False", outcome.reason,
                    f"the HPA was unable to compute the replica count: {outcome.message}",
                )  # fmt: skip
            else:
                proposals.append(outcome.replicas)
                statuses.append(outcome.status)
        floor = max(proposals) if proposals else current
        floor = min(max(floor, spec.min_replicas), spec.max_replicas)
        forecast_replicas = 0
        primary = _primary_metric(spec)
        if primary is not None:
            index, metric = primary
            observation = observations[index]
            capacity = self._capacity_per_pod(metric, pods)
            if isinstance(observation, PodMetrics) and capacity is not None:
                total = float(sum(sample.value_milli for sample in observation.samples.values()))
                self.forecaster.observe(now, total)
                self.budget.observe(now, current, total, capacity, _target_fraction(metric))
                self.last_forecast = self.forecaster.forecast(now, self.lead_seconds)
                if self.last_forecast is not None:
                    point = self.last_forecast.point
                    upper = point + self.budget.margin_scale() * (self.last_forecast.upper - point)
                    forecast_replicas = math.ceil(upper / capacity - 1e-9)
                    tolerance_band = upper * (1 + self.settings.scale_down_tolerance)
                    if forecast_replicas < current <= math.ceil(tolerance_band / capacity - 1e-9):
                        forecast_replicas = current
        self.last_forecast_replicas, self.last_reactive_replicas = forecast_replicas, floor
        if current == 0 and spec.min_replicas != 0:
            return self._decision(current, current, "", (), statuses, self.history, self.history)
        wanted = min(max(floor, forecast_replicas, spec.min_replicas), spec.max_replicas)
        normalized = normalize_with_behavior(
            self.history, self.behavior, current, wanted, spec.min_replicas, spec.max_replicas,
            self.controller.downscale_stabilization_seconds, now,
        )  # fmt: skip
        # Stabilisation only ever keeps more replicas than asked, so the reactive floor survives it;
        # only the scale-up rate policy can hold the count below the floor, as it would the HPA's.
        desired = normalized.replicas
        rescale = desired != current
        after = record_scale_event(normalized.history, self.behavior, current, desired, now)
        self.history = after if rescale else normalized.history
        self._history_if_failed = normalized.history
        name = metric_display_name(spec.metrics[0]) if spec.metrics else "forecast"
        active = failure or Condition(
            "ScalingActive", "True", "ValidMetricFound",
            f"the HPA was able to successfully calculate a replica count from {name}",
        )  # fmt: skip
        conditions = (
            Condition("AbleToScale", "True", *(
                ("SucceededRescale", f"the HPA controller was able to update the target scale to {desired}")
                if rescale else (normalized.able_to_scale_reason, normalized.able_to_scale_message)
            )),
            active,
            Condition("ScalingLimited", "True" if normalized.limited else "False",
                      normalized.limited_reason, normalized.limited_message),
        )  # fmt: skip
        reason = f"forecast needs {forecast_replicas}, reactive HPA needs {floor}" if rescale else ""
        return self._decision(
            current, desired, reason, conditions, statuses, self.history, self._history_if_failed
        )

    def _decision(
        self,
        current: int,
        desired: int,
        reason: str,
        conditions: tuple[Condition, ...],
        statuses: list[MetricStatus],
        history: ScalingHistory,
        history_if_failed: ScalingHistory,
    ) -> Decision:
        return Decision(
            current_replicas=current,
            desired_replicas=desired,
            rescale=desired != current,
            reason=reason,
            conditions=conditions,
            current_metrics=tuple(statuses),
            history=history,
            history_if_rescale_fails=history_if_failed,
        )

    def rescale_failed(self) -> None:
        self.history = self._history_if_failed

    def annotations(self) -> dict[str, str]:
        return forecast_annotations(
            self.last_forecast, self.last_forecast_replicas, self.last_reactive_replicas
        )
