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
    """Scores how novel the recent pattern of quantised values is.

    `levels` is the quantisation resolution, `orders` the context lengths, and the likelihood
    windows are those of `AnomalyLikelihood`. Without the likelihood, `update` returns the raw score.
    """

    NAME = "context"

    def __init__(
        self,
        levels: int = 10,
        orders: tuple[int, ...] = (3,),
        max_contexts: int = 50_000,
        use_likelihood: bool = True,
        long_window: int = 1000,
        short_window: int = 10,
    ) -> None:
        self._levels = levels
        self._orders = orders
        self._history: list[int] = [0] * max(orders)
        self._seen: set[tuple[int, ...]] = set()
        self._max_contexts = max_contexts
        self._range = RunningRange()
        self._likelihood = AnomalyLikelihood(long_window, short_window) if use_likelihood else None

    def raw_score(self, value: float) -> float:
        """The share of new contexts among those ending at this value (1 for a new extreme)."""
        widened = self._range.observe(value)
        position = self._range.position(value) * self._levels
        if len(self._seen) > self._max_contexts:
            self._seen.clear()
        seen = self._seen
        history = self._history
        history.pop(0)
        history.append(min(int(position), self._levels - 1))
        new_contexts = 0
        for order in self._orders:
            key = (order, *history[-order:])
            if key not in seen:
                seen.add(key)
                new_contexts += 1
        if widened:
            return 1.0
        return new_contexts / len(self._orders)

    def update(self, timestamp: float, value: float) -> float:
        raw = self.raw_score(value)
        return raw if self._likelihood is None else self._likelihood.update(raw)
