"""A pod worker's wake-ups: pushed container exits and explicit nudges, instead of polling.

`Wakeups.watch(handle)` asks the runtime to push that container's exit (`notify_exit`, called from
the reaper or zygote-reader thread); the push hops onto the event loop, records the handle as
exited and wakes the worker. `sleep(seconds)` returns at the first of: the timeout (the next probe
or back-off on the injected clock), an exit, or `nudge()` (termination was asked). `take_exit`
tells whether a handle has reported its exit, so the worker reads (and reaps) only containers that
have actually ended; `resync_due` lets it ask every container anyway once per resync interval.
"""

from __future__ import annotations

import asyncio
import contextlib

from kubelite.agent.runtime.interface import ContainerHandle
from kubelite.clock import Clock


class Wakeups:
    """See the module docstring."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._event = asyncio.Event()
        self._exited: list[ContainerHandle] = []
        self._last_resync = clock.monotonic()

    def nudge(self) -> None:
        self._event.set()

    def watch(self, handle: ContainerHandle) -> None:
        """Have the runtime push this container's exit here (from whichever thread learns it)."""
        loop = asyncio.get_running_loop()

        def exited() -> None:
            # The loop is gone only when the agent has shut down, and then nobody is waiting.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._note_exit, handle)

        handle.notify_exit(exited)

    def _note_exit(self, handle: ContainerHandle) -> None:
        self._exited.append(handle)
        self._event.set()

    def take_exit(self, handle: ContainerHandle) -> bool:
        """Whether `handle` reported its exit (forgetting the report)."""
        if not any(reported is handle for reported in self._exited):
            return False
        self._exited = [reported for reported in self._exited if reported is not handle]
        return True

    def resync_due(self, interval: float) -> bool:
        """True at most once per `interval`: time to ask every container directly, a safety net
        should an exit report ever be lost."""
        now = self._clock.monotonic()
        if now - self._last_resync < interval:
            return False
        self._last_resync = now
        return True

    async def sleep(self, seconds: float) -> None:
        """Sleep on the injected clock, waking early on an exit or a nudge."""
        if not self._event.is_set():
            sleeper = asyncio.ensure_future(self._clock.sleep(seconds))
            waiter = asyncio.ensure_future(self._event.wait())
            await asyncio.wait((sleeper, waiter), return_when=asyncio.FIRST_COMPLETED)
            sleeper.cancel()
            waiter.cancel()
        self._event.clear()
