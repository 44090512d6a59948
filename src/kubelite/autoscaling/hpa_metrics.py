"""Prometheus gauges of the HPA controller, on a registry the caller passes in.

Per HPA (labels `namespace`, `name`): the current and desired replicas of every sync, and for
predictive HPAs the forecast: the point and upper load forecasts (in the primary metric's
milli-units, summed over the workload), the replicas the forecast asks for, and the reactive HPA's
floor. No module-global registry is used, so many controllers (or a simulator) can share a process.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge

from kubelite.autoscaling.hpa.decide import Decision
from kubelite.autoscaling.predictive.forecast import Forecast

_LABELS = ("namespace", "name")


class HPAMetrics:
    """The controller's gauges."""

    def __init__(self, registry: CollectorRegistry) -> None:
        def gauge(name: str, documentation: str) -> Gauge:
            return Gauge(name, documentation, _LABELS, registry=registry)

        self.current_replicas = gauge(
            "kubelite_hpa_current_replicas", "Replicas of the target at the last sync."
        )
        self.desired_replicas = gauge(
            "kubelite_hpa_desired_replicas", "Replicas the HPA decided at the last sync."
        )
        self.forecast_point = gauge(
            "kubelite_hpa_forecast_load_milli", "Point forecast of the workload's total load at now + lead."
        )
        self.forecast_upper = gauge(
            "kubelite_hpa_forecast_upper_load_milli",
            "Upper (point plus error margin) load forecast at now + lead.",
        )
        self.forecast_horizon = gauge(
            "kubelite_hpa_forecast_horizon_seconds", "How far ahead the forecast looks."
        )
        self.forecast_replicas = gauge("kubelite_hpa_forecast_replicas", "Replicas the upper forecast needs.")
        self.reactive_replicas = gauge(
            "kubelite_hpa_reactive_replicas",
            "Replicas the reactive HPA would ask for (the predictive floor).",
        )
        self._all = (
            self.current_replicas, self.desired_replicas, self.forecast_point, self.forecast_upper,
            self.forecast_horizon, self.forecast_replicas, self.reactive_replicas,
        )  # fmt: skip

    def observe_decision(self, namespace: str, name: str, decision: Decision) -> None:
        self.current_replicas.labels(namespace, name).set(decision.current_replicas)
        self.desired_replicas.labels(namespace, name).set(decision.desired_replicas)

    def observe_forecast(
        self, namespace: str, name: str, forecast: Forecast | None, forecast_replicas: int, reactive: int
    ) -> None:
        self.reactive_replicas.labels(namespace, name).set(reactive)
        if forecast is None:
            return
        self.forecast_point.labels(namespace, name).set(forecast.point)
        self.forecast_upper.labels(namespace, name).set(forecast.upper)
        self.forecast_horizon.labels(namespace, name).set(forecast.horizon_seconds)
        self.forecast_replicas.labels(namespace, name).set(forecast_replicas)

    def forget(self, namespace: str, name: str) -> None:
        """Drop a deleted HPA's series."""
        for gauge in self._all:
            try:
                gauge.remove(namespace, name)
            except KeyError:
                continue
