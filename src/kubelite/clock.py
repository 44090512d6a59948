"""Injected time.

Every component takes a `Clock` so that tests and the simulator run on virtual time. `RealClock`
reads the system clocks; `FakeClock` only moves when a test or the simulator calls `advance`, and
wakes the sleepers whose deadlines it passes, so control loops never wait on real time in tests.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol


class Clock(Protocol):
    """A source of wall-clock and monotonic time, and a way to sleep on it."""

    def now(self) -> float:
        """Seconds since the Unix epoch (wall clock, for timestamps)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (for intervals and deadlines)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Suspend the caller for `seconds` of this clock's time."""
        ...


class RealClock:
    """The system clocks."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """A virtual clock that moves only when `advance` is called."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._start = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._sequence = itertools.count()

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._now - self._start

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._sequence), future))
        await future

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline has passed."""
        self._now += seconds
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    def pending_sleepers(self) -> int:
        """How many sleepers are still waiting (useful to know when a loop has gone idle)."""
        return sum(1 for _, _, future in self._sleepers if not future.done())
