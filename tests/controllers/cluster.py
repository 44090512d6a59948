"""Controller tests' harness: a real API server in-process, and a controller-manager running
chosen controllers against it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from kubelite.apiserver.inprocess import InProcessTransport
from kubelite.apiserver.server import ApiServer, ApiServerSettings
from kubelite.client import ApiClient, ApiError
from kubelite.clock import Clock, FakeClock
from kubelite.controllers.base import ControllerConstructor
from kubelite.controllers.manager import ControllerManager
from kubelite.controllers.settings import ControllerManagerSettings
from kubelite.store import open_store


@dataclass
class Harness:
    client: ApiClient
    manager: ControllerManager
    clock: Clock
    stop: asyncio.Event = field(default_factory=asyncio.Event)


@asynccontextmanager
async def running_controllers(
    constructors: Mapping[str, ControllerConstructor],
    settings: ControllerManagerSettings | None = None,
    clock: Clock | None = None,
) -> AsyncIterator[Harness]:
    """Start an API server and a controller-manager with these controllers; stop both on exit."""
    clock = clock or FakeClock()
    server = ApiServer(open_store("memory://"), ApiServerSettings(port=0), clock=clock)
    await server.start()
    client = ApiClient(InProcessTransport(server.handle))
    manager = ControllerManager(client, clock, settings or ControllerManagerSettings(), constructors)
    harness = Harness(client, manager, clock)
    task = asyncio.create_task(manager.run(harness.stop))
    try:
        await asyncio.wait_for(manager.informers.wait_for_sync(), 30)
        yield harness
    finally:
        harness.stop.set()
        await asyncio.wait_for(task, 30)
        await server.stop()


async def eventually(condition: Callable[[], Any], timeout: float = 20.0) -> None:
    """Poll an async or plain condition while controllers react (real time only bounds a failure;
    no control-loop period is waited through)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def exists(client: ApiClient, resource: Any, name: str, namespace: str | None = "default") -> bool:
    try:
        await client.get(resource, name, namespace)
    except ApiError as error:
        if error.code == 404:
            return False
        raise
    return True
