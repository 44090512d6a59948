"""What any autoscaler could reach on a trace: two clairvoyant provisioners, as yardsticks.

Both see the future, start pods instantly and are scored like a replay (violation minutes, replica
hours, mean slack over non-violation rows), so they bound what a real policy can do:
- `perfect`: exactly ceil(load / R) pods in every row. Its slack is only the rounding to whole pods.
- `known_mean`: the load's centred moving mean over `window_rows` rows is known exactly (past and
  future), and only the row-to-row noise around it is not; the noise is covered by a fixed quantile
  of its own distribution (in square-root space, like the forecaster), chosen so that the violation
  rate matches `quantile`. A forecaster can at best learn the mean, so a policy that must keep
  violations near 1 - `quantile` cannot expect less slack than this bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kubelite.autoscaling.replay.trace import LoadTrace


@dataclass(frozen=True, slots=True)
class Bound:
    """The figures of one clairvoyant provisioner."""

    name: str
    violation_minutes: float
    replica_hours: float
    mean_slack: float

    def as_dict(self) -> dict[str, float | str]:
        return {
            "bound": self.name,
            "violation_minutes": round(self.violation_minutes, 2),
            "replica_hours": round(self.replica_hours, 2),
            "mean_slack": round(self.mean_slack, 4),
        }


def _score(
    name: str, pods_of_load: npt.NDArray[np.float64], pods: npt.NDArray[np.float64], step: float
) -> Bound:
    violations = pods_of_load > pods
    fine = ~violations
    slack = 1.0 - pods_of_load[fine] / pods[fine]
    return Bound(
        name,
        violation_minutes=float(violations.sum()) * step / 60.0,
        replica_hours=float(pods.sum()) * step / 3600.0,
        mean_slack=float(slack.mean()) if slack.size else 0.0,
    )


def foresight_bounds(
    trace: LoadTrace, capacity_per_pod: float, scale: float, quantile: float, window_rows: int
) -> list[Bound]:
    """The `perfect` and `known_mean` bounds of a trace (see the module docstring)."""
    load = trace.values * scale / capacity_per_pod  # in pods' worth of load
    perfect = np.maximum(np.ceil(load - 1e-9), 1.0)
    width = max(1, window_rows)
    mean = np.convolve(load, np.ones(width) / width, mode="same")
    residual = np.sqrt(load) - np.sqrt(mean)
    margin = float(np.quantile(residual, quantile))
    known = np.maximum(np.ceil((np.sqrt(mean) + margin) ** 2 - 1e-9), 1.0)
    return [
        _score("perfect", load, perfect, trace.step_seconds),
        _score(f"known_mean_{width}_rows_q{quantile:g}", load, known, trace.step_seconds),
    ]
