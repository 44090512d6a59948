"""The controller contract and the client-go worker loop every controller shares.

Data flow: informer handlers call `queue.add(key)`; `run_workers` starts `workers` tasks that each
loop `key = await queue.get()` -> `outcome = await sync(key)` -> `queue.done(key)`. A sync returns
an outcome value: `DONE` forgets the key's backoff, `RETRY` re-adds it rate limited (5 ms * 2^n,
and the shared token bucket), `requeue_after(seconds)` re-checks it later (for example when a
toleration or a grace period expires). An `ApiError` or `TransportError` escaping a sync is I/O
failing, and is retried like `RETRY`; any other exception is a bug: it is logged with its
traceback and the key is retried rather than taking down the worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from kubelite.client import ApiClient, ApiError, TransportError
from kubelite.client.events import EventRecorder
from kubelite.client.informers import SharedInformerFactory
from kubelite.client.workqueue import RateLimitingQueue
from kubelite.clock import Clock

from .settings import ControllerManagerSettings

log = logging.getLogger(__name__)


class Controller(Protocol):
    """What the controller-manager runs: a name and a loop that returns once `stop` is set."""

    name: str

    async def run(self, workers: int, stop: asyncio.Event) -> None: ...


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    """What a sync asks of the queue: forget the key, retry it with backoff, or look again later."""

    retry: bool = False
    requeue_after: float | None = None


DONE = SyncOutcome()
RETRY = SyncOutcome(retry=True)


def requeue_after(seconds: float) -> SyncOutcome:
    return SyncOutcome(requeue_after=max(0.0, seconds))


SyncFunc = Callable[[str], Awaitable[SyncOutcome]]


async def process_next(name: str, queue: RateLimitingQueue[str], sync: SyncFunc) -> bool:
    """Process one key; False once the queue has shut down."""
    key = await queue.get()
    if key is None:
        return False
    try:
        outcome = await sync(key)
    except (ApiError, TransportError) as error:
        log.info("%s: sync %s failed, retrying: %s", name, key, error)
        outcome = RETRY
    except asyncio.CancelledError:
        queue.done(key)
        raise
    except Exception:
        log.exception("%s: sync %s raised", name, key)
        outcome = RETRY
    queue.done(key)
    if outcome.retry:
        queue.add_rate_limited(key)
        return True
    queue.forget(key)
    if outcome.requeue_after is not None:
        queue.add_after(key, outcome.requeue_after)
    return True


async def run_workers(
    name: str, queue: RateLimitingQueue[str], sync: SyncFunc, workers: int, stop: asyncio.Event
) -> None:
    """Run `workers` loops over the queue until `stop` is set, then shut the queue down."""

    async def worker() -> None:
        while await process_next(name, queue, sync):
            pass

    tasks = [asyncio.create_task(worker()) for _ in range(max(1, workers))]
    try:
        await stop.wait()
    finally:
        queue.shutdown()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@dataclass(frozen=True, slots=True)
class ControllerContext:
    """What a controller's constructor gets: the client, the clock, the shared informers and the
    Event recorder of the process, and the manager's settings."""

    client: ApiClient
    clock: Clock
    informers: SharedInformerFactory
    recorder: EventRecorder
    settings: ControllerManagerSettings


ControllerConstructor = Callable[[ControllerContext], Controller]
