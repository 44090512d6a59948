"""Context novelty: how many of the short value patterns ending now have never been seen before.

This is the idea behind the Contextual Anomaly Detector with open-source edition (CAD OSE, Smirnov
2016, third on NAB's scoreboard) and the raw score of HTM (Ahmad et al. 2017): a point is anomalous
when the *sequence* it completes is new, not merely when its value is extreme. We quantise each value
by its position in the running range into `levels` buckets, and keep a bounded table of the
contexts (the last k buckets, for several orders k) met so far. The raw score is the share of those
contexts that are new, and the `AnomalyLikelihood` layer turns it into a calibrated score.

State: the last `max(orders)` buckets and a context table capped at `max_contexts` entries (when it
fills up it is cleared, which only makes the detector briefly more sensitive).
"""

from __future__ import annotations

from kubelite.observability.anomaly.likelihood import AnomalyLikelihood
from kubelite.observability.anomaly.streaming import RunningRange


class ContextNoveltyDetector:
    """Scores how novel the recent pattern of quantised values is."""

    NAME = "context"

    def __init__(
        self,
        levels: int = 12,
        orders: tuple[int, ...] = (2, 3, 5),
        max_contexts: int = 50_000,
        use_likelihood: bool = True,
    ) -> None:
        self._levels = levels
        self._orders = orders
        self._history: list[int] = [0] * max(orders)
        self._seen: dict[tuple[int, ...], int] = {}
        self._max_contexts = max_contexts
        self._range = RunningRange()
        self._likelihood = AnomalyLikelihood() if use_likelihood else None
        self._count = 0

    def raw_score(self, value: float) -> float:
        """The share of new contexts among those ending at this value (1 for a new extreme)."""
        widened = self._range.observe(value)
        bucket = min(int(self._range.position(value) * self._levels), self._levels - 1)
        history = self._history
        history.pop(0)
        history.append(bucket)
        self._count += 1
        if len(self._seen) > self._max_contexts:
            self._seen.clear()
        new_contexts = 0
        seen = self._seen
        for order in self._orders:
            key = (order, *history[-order:])
            if key in seen:
                seen[key] += 1
            else:
                seen[key] = 1
                new_contexts += 1
        if widened:
            return 1.0
        return new_contexts / len(self._orders)

    def update(self, timestamp: float, value: float) -> float:
        raw = self.raw_score(value)
        return raw if self._likelihood is None else self._likelihood.update(raw)
