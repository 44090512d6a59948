"""Small bounded-state building blocks shared by the detectors.

`RunningRange` tracks the range of a series seen so far, which the detectors use to put values of
any unit (CPU %, bytes, requests) on a common [0, 1] scale without looking ahead. Everything here is
plain-float arithmetic: per-point numpy calls on tiny arrays would cost more than the whole update.
"""

from __future__ import annotations


class RunningRange:
    """The min and max of the values seen so far, and a value's position within them."""

    def __init__(self) -> None:
        self.low = float("inf")
        self.high = float("-inf")

    def observe(self, value: float) -> bool:
        """Widen the range to include `value`; return whether it lay outside the range before."""
        widened = False
        if value < self.low:
            widened = self.low != float("inf")
            self.low = value
        if value > self.high:
            widened = widened or self.high != float("-inf")
            self.high = value
        return widened

    @property
    def span(self) -> float:
        """The width of the range, never zero, so it can scale differences."""
        width = self.high - self.low
        return width if width > 0.0 else 1.0

    def position(self, value: float) -> float:
        """Where `value` lies in the range, 0 at the minimum and 1 at the maximum."""
        return (value - self.low) / self.span
