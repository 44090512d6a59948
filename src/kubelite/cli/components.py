"""The components `kubelite up` runs beside the API server, each as an API client in-process.

Every component talks to the server through the in-process transport, exactly as it would over
HTTP from another process, so `kubelite up` is the distributed system folded into one process.
A component that fails is logged and restarted after a pause; it never takes the server down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from kubelite.apiserver.inprocess import InProcessTransport
from kubelite.apiserver.server import ApiServer
from kubelite.client import ApiClient
from kubelite.clock import Clock
from kubelite.observability.anomaly_component import AnomalyDetectorComponent, AnomalyDetectorSettings
from kubelite.scheduler.live import run_scheduler
from kubelite.scheduler.profiles import load_configuration

log = logging.getLogger(__name__)

Runner = Callable[[ApiClient, asyncio.Event], Awaitable[object]]
RESTART_PAUSE_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class ComponentOptions:
    scheduler: bool = True
    anomaly_detector: bool = True


async def _scheduler(client: ApiClient, stop: asyncio.Event) -> None:
    await run_scheduler(client, load_configuration(None), stop)


def _anomaly_detector(clock: Clock) -> Runner:
    async def run(client: ApiClient, stop: asyncio.Event) -> None:
        component = AnomalyDetectorComponent(client, CollectorRegistry(), clock, settings=AnomalyDetectorSettings())
        try:
            await component.run(stop)
        finally:
            await component.close()

    return run


async def _supervise(name: str, runner: Runner, server: ApiServer, stop: asyncio.Event) -> None:
    """Run a component until `stop`, restarting it after a pause if it fails."""
    while not stop.is_set():
        client = ApiClient(InProcessTransport(server.handle))
        try:
            await runner(client, stop)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("component %s failed; restarting in %.0f s", name, RESTART_PAUSE_SECONDS)
        finally:
            await client.close()
        if not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RESTART_PAUSE_SECONDS)


def start_components(server: ApiServer, clock: Clock, stop: asyncio.Event, options: ComponentOptions) -> list[asyncio.Task[None]]:
    """Start every enabled component as a supervised task."""
    runners: dict[str, Runner] = {}
    if options.scheduler:
        runners["scheduler"] = _scheduler
    if options.anomaly_detector:
        runners["anomaly-detector"] = _anomaly_detector(clock)
    return [asyncio.create_task(_supervise(name, runner, server, stop), name=name) for name, runner in runners.items()]


async def stop_components(tasks: list[asyncio.Task[None]], timeout: float = 10.0) -> None:
    """Wait for components to finish after `stop` was set; cancel the stragglers."""
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
