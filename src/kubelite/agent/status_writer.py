"""Coalesced pod status writes: the latest status per pod wins, one write in flight per pod.

Pod workers `offer` a complete `status` whenever something changed; the writer keeps only the newest
one per pod and a single loop sends them as merge patches on the `pods/status` subresource, many
pods at once but never two writes for the same pod concurrently. A pod whose containers flap faster
than the API round trip therefore costs one write per round trip, not one per change. `settle` waits
until a pod's latest offer has been written (the worker's last status before the pod is deleted).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from kubelite.api.resources import PODS
from kubelite.client import ApiClient, ApiError, TransportError
from kubelite.clock import Clock

log = logging.getLogger(__name__)
Object = dict[str, Any]
PodKey = tuple[str, str]  # (namespace, name)
RETRY_SECONDS = 0.5


class StatusWriter:
    """See the module docstring."""

    def __init__(self, client: ApiClient, clock: Clock, concurrency: int = 16) -> None:
        self._client = client
        self._clock = clock
        self._pending: dict[PodKey, Object] = {}
        self._in_flight: set[PodKey] = set()
        self._wake = asyncio.Event()
        self._changed = asyncio.Condition()
        self._limit = asyncio.Semaphore(concurrency)
        self.writes = 0
        #: Called after each acknowledged write (pod key, the status written); for profiling.
        self.on_written: Callable[[PodKey, Object], None] | None = None

    def offer(self, key: PodKey, status: Object) -> None:
        self._pending[key] = status
        self._wake.set()

    def forget(self, key: PodKey) -> None:
        self._pending.pop(key, None)

    async def settle(self, key: PodKey) -> None:
        """Return once nothing is pending or in flight for `key`."""
        async with self._changed:
            await self._changed.wait_for(lambda: key not in self._pending and key not in self._in_flight)

    async def run(self) -> None:
        """Write offered statuses until cancelled."""
        tasks: set[asyncio.Task[None]] = set()
        try:
            await self._write_forever(tasks)
        finally:
            for task in list(tasks):
                task.cancel()

    async def _write_forever(self, tasks: set[asyncio.Task[None]]) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            for key in [k for k in self._pending if k not in self._in_flight]:
                status = self._pending.pop(key)
                self._in_flight.add(key)
                task = asyncio.create_task(self._write(key, status))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

    async def _write(self, key: PodKey, status: Object) -> None:
        namespace, name = key
        try:
            async with self._limit:
                await self._client.patch(PODS, name, {"status": status}, namespace, subresource="status")
                self.writes += 1
                if self.on_written is not None:
                    self.on_written(key, status)
        except ApiError as error:
            if error.code != 404:
                log.warning("status of pod %s/%s not written: %s", namespace, name, error)
        except TransportError as error:
            log.info("status of pod %s/%s will be retried: %s", namespace, name, error)
            await self._clock.sleep(RETRY_SECONDS)
            self._pending.setdefault(key, status)
        finally:
            self._in_flight.discard(key)
            if key in self._pending:
                self._wake.set()
            async with self._changed:
                self._changed.notify_all()
