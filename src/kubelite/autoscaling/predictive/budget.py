"""A cost guard rail for the predictive autoscaler: stay within a multiple of the HPA's spend.

On a series that is mostly unforecastable spikes (network or disk counters, some CPU series), the
forecaster's error quantile grows until covering it costs several times what the reactive HPA would
spend: the margin then buys little. `ReactiveBudget` follows what the standard HPA would keep for the
same load, `ShadowHpa`: the HPA's ratio and tolerance on the pods it would have ready, its legacy
scale-up limit (max(2 x current, 4)), its 5-minute scale-down stabilisation, and pods that become
ready one start-up time after it asks for them. It sums both replica counts over time with an
exponential forgetting of one day, and when the predictive autoscaler's sum passes `ceiling` times the
HPA's, it scales the safety margin down (to nothing at 5% beyond the ceiling). On seasonal traffic the
budget never binds; it only stops runaway margins.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass

DAY_SECONDS = 86_400.0
_FULL_CUT = 0.05  # the margin is gone this far beyond the ceiling


@dataclass(frozen=True, slots=True)
class BudgetSettings:
    #: The predictive autoscaler may spend up to this multiple of the HPA's replica-seconds.
    ceiling: float = 1.25
    #: Exponential forgetting of both sums (seconds).
    memory_seconds: float = DAY_SECONDS
    #: The HPA's scale-down stabilisation window (seconds).
    stabilization_seconds: float = 300.0


class ShadowHpa:
    """The replica count the reactive HPA would have, driven by the observed total load."""

    def __init__(self, tolerance: float, startup_seconds: float, window: float) -> None:
        self._tolerance = tolerance
        self._startup = startup_seconds
        self._window = window
        self._ready_at: list[float] = []  # sorted: when each of its pods is (or becomes) ready
        self._recommendations: deque[tuple[float, int]] = deque()

    @property
    def replicas(self) -> int:
        return len(self._ready_at)

    def sync(self, now: float, load: float, capacity: float, target: float, current: int) -> int:
        """One HPA sync for `load` (in the metric's units), `capacity` per pod at 100% and the
        `target` share of it (0.7 for averageUtilization 70)."""
        if not self._ready_at:
            self._ready_at = [now - self._startup] * max(1, current)  # start where the workload is
        ready = bisect.bisect_right(self._ready_at, now)
        replicas = len(self._ready_at)
        wanted = load / (capacity * target)
        if ready == 0:
            recommendation = replicas
        else:
            ratio = wanted / ready
            recommendation = replicas if abs(ratio - 1.0) <= self._tolerance else math.ceil(ready * ratio - 1e-9)
            recommendation = min(max(recommendation, 1), max(2 * replicas, 4))
        self._recommendations.append((now, recommendation))
        while self._recommendations and self._recommendations[0][0] <= now - self._window:
            self._recommendations.popleft()
        # Scale-up at once; scale-down only to the highest recommendation of the window.
        desired = recommendation if recommendation > replicas else max(r for _, r in self._recommendations)
        if desired > replicas:
            self._ready_at.extend([now + self._startup] * (desired - replicas))
        elif desired < replicas:
            del self._ready_at[desired:]  # the newest (and starting) pods go first
        return len(self._ready_at)


class ReactiveBudget:
    """Compares the predictive autoscaler's replica-seconds with the shadow HPA's."""

    def __init__(self, startup_seconds: float, tolerance: float, settings: BudgetSettings | None = None) -> None:
        self.settings = settings or BudgetSettings()
        self.shadow = ShadowHpa(tolerance, startup_seconds, self.settings.stabilization_seconds)
        self._own = 0.0
        self._reactive = 0.0
        self._last: float | None = None

    def observe(self, now: float, own_replicas: int, load: float, capacity: float, target: float) -> None:
        if self._last is not None and now > self._last:
            elapsed = now - self._last
            keep = math.exp(-elapsed / self.settings.memory_seconds)
            self._own = self._own * keep + own_replicas * elapsed
            self._reactive = self._reactive * keep + self.shadow.replicas * elapsed
        self._last = now
        self.shadow.sync(now, load, capacity, target, own_replicas)

    def margin_scale(self) -> float:
        """1 within budget, falling to 0 at 5% beyond the ceiling."""
        if self._reactive <= 0:
            return 1.0
        excess = self._own / (self.settings.ceiling * self._reactive) - 1.0
        return min(1.0, max(0.0, 1.0 - excess / _FULL_CUT))
