"""The reactive HPA as a stateful autoscaler: the pure `decide` plus the history it carries.

`Autoscaler` is the one shape every policy has, so that a live controller and the trace replay
drive the reactive HPA and the predictive autoscaler the same way: at every sync period they hand
over the target's scale, its pods and the readings of the HPA's metrics, and get a `Decision` back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from kubelite.autoscaling.hpa.behavior import ScalingHistory
from kubelite.autoscaling.hpa.decide import Decision, ScaleState, decide
from kubelite.autoscaling.hpa.observations import MetricObservation, PodState
from kubelite.autoscaling.hpa.spec import ControllerSettings, HPASpec


class Autoscaler(Protocol):
    """One HPA's controller state; `sync` is called once per sync period."""

    history: ScalingHistory
    """The HPA's memory of recent recommendations and scale events (kept across spec changes)."""

    def sync(
        self,
        now: float,
        scale: ScaleState,
        pods: Sequence[PodState],
        observations: Sequence[MetricObservation],
    ) -> Decision: ...

    def rescale_failed(self) -> None:
        """The last decision's scale write did not happen; forget its scale event."""
        ...


class ReactiveAutoscaler:
    """The standard Kubernetes HPA."""

    NAME = "hpa"

    def __init__(self, spec: HPASpec, settings: ControllerSettings | None = None) -> None:
        self.spec = spec
        self.settings = settings or ControllerSettings()
        self.history = ScalingHistory()
        self._history_if_failed = self.history

    def sync(
        self,
        now: float,
        scale: ScaleState,
        pods: Sequence[PodState],
        observations: Sequence[MetricObservation],
    ) -> Decision:
        decision = decide(self.spec, scale, pods, observations, self.history, now, self.settings)
        self.history = decision.history
        self._history_if_failed = decision.history_if_rescale_fails
        return decision

    def rescale_failed(self) -> None:
        self.history = self._history_if_failed
