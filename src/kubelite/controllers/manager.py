"""The controller-manager: every controller in one process, over one set of shared informers.

Data flow: `run_controller_manager` builds the process's `SharedInformerFactory` and
`EventRecorder`, constructs each enabled controller (whose constructor registers the informers and
handlers it needs), then — once this process leads, when leader election is on — starts the
informers, waits for their first list, and runs every controller's `run(workers, stop)` side by
side until `stop` is set or leadership is lost.

Controllers are found by module: `kubelite.controllers.<name>` exposing
`new_controller(context) -> Controller`, for each name in `CONTROLLER_NAMES` whose module exists.
`kubelite up` calls `run_controller_manager` in-process; `kubelite controller-manager --kubeconfig`
runs it alone against any cluster.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import logging
import socket
import uuid
from collections.abc import Mapping, Sequence

from kubelite.client import ApiClient
from kubelite.client.events import EventRecorder
from kubelite.client.informers import SharedInformerFactory
from kubelite.client.leaderelection import LeaderElectionSettings, LeaderElector
from kubelite.clock import Clock

from .base import Controller, ControllerConstructor, ControllerContext
from .settings import ControllerManagerSettings

log = logging.getLogger(__name__)

#: Controller modules in start order; a module that does not exist is simply not offered.
CONTROLLER_NAMES = ("replicaset", "deployment", "garbagecollector", "namespace", "nodelifecycle", "podgc")


def available_controllers() -> dict[str, ControllerConstructor]:
    """`new_controller` of every controller module present, by name."""
    found: dict[str, ControllerConstructor] = {}
    for name in CONTROLLER_NAMES:
        module_name = f"{__package__}.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue
        constructor = getattr(importlib.import_module(module_name), "new_controller", None)
        if callable(constructor):
            found[name] = constructor
    return found


def default_identity() -> str:
    """Host name plus a random suffix, as kube-controller-manager forms its Lease holder identity."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


class ControllerManager:
    """Constructed controllers and the shared machinery they run on."""

    def __init__(
        self,
        client: ApiClient,
        clock: Clock,
        settings: ControllerManagerSettings,
        constructors: Mapping[str, ControllerConstructor] | None = None,
    ) -> None:
        self.client = client
        self.clock = clock
        self.settings = settings
        self.identity = settings.identity or default_identity()
        self.informers = SharedInformerFactory(
            client, clock, resync_period=settings.resync_period, seed=settings.seed
        )
        self.recorder = EventRecorder(client, clock, settings.component, host=socket.gethostname())
        context = ControllerContext(client, clock, self.informers, self.recorder, settings)
        chosen = constructors if constructors is not None else available_controllers()
        self.controllers: list[Controller] = [
            construct(context) for name, construct in chosen.items() if settings.enabled(name)
        ]

    async def run_controllers(self, stop: asyncio.Event) -> None:
        """Start informers, wait for their first list, then run every controller until `stop`."""
        self.informers.start(stop)
        syncing = asyncio.create_task(self.informers.wait_for_sync())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({syncing, stopping}, return_when=asyncio.FIRST_COMPLETED)
        syncing.cancel()
        stopping.cancel()
        if stop.is_set():
            await self.informers.shutdown()
            return
        log.info("caches synced; starting %s", ", ".join(c.name for c in self.controllers))
        tasks = [
            asyncio.create_task(controller.run(self.settings.workers_for(controller.name), stop))
            for controller in self.controllers
        ]
        tasks.append(asyncio.create_task(self.recorder.run(stop)))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.informers.shutdown()

    async def run(self, stop: asyncio.Event) -> bool:
        """Run, electing a leader first if configured; False if leadership was lost (exit then)."""
        flags = self.settings.leader_election
        if not flags.enabled:
            await self.run_controllers(stop)
            return True
        elector = LeaderElector(
            self.client,
            self.clock,
            LeaderElectionSettings(
                lease_name=flags.lease_name,
                identity=self.identity,
                namespace=flags.namespace,
                lease_duration=flags.lease_duration,
                renew_deadline=flags.renew_deadline,
                retry_period=flags.retry_period,
            ),
        )

        async def lead(lost: asyncio.Event) -> None:
            # Controllers stop on either a clean stop or a lost Lease.
            either = asyncio.Event()
            forward = [asyncio.create_task(_set_when(event, either)) for event in (stop, lost)]
            try:
                await self.run_controllers(either)
            finally:
                for task in forward:
                    task.cancel()

        return await elector.run(lead, stop)


async def _set_when(source: asyncio.Event, target: asyncio.Event) -> None:
    await source.wait()
    target.set()


async def run_controller_manager(
    client: ApiClient,
    clock: Clock,
    settings: ControllerManagerSettings,
    stop: asyncio.Event,
    controllers: Sequence[str] | None = None,
) -> bool:
    """The entry point for `kubelite up` and `kubelite controller-manager`: run until `stop` is set.

    `controllers` narrows the set by name (default: `settings.controllers`). Returns False when
    leadership was lost, after which the caller should exit (or restart the manager).
    """
    constructors = available_controllers()
    if controllers is not None:
        constructors = {name: c for name, c in constructors.items() if name in controllers}
    manager = ControllerManager(client, clock, settings, constructors)
    return await manager.run(stop)
