"""The controller-manager: controller selection, the worker loop's outcomes, and leader election
between two managers on virtual time."""

from __future__ import annotations

import asyncio

import pytest

from kubelite.api.resources import LEASES
from kubelite.apiserver.inprocess import InProcessTransport
from kubelite.apiserver.server import ApiServer, ApiServerSettings
from kubelite.client import ApiClient, ApiError
from kubelite.client.workqueue import RateLimitingQueue
from kubelite.clock import FakeClock
from kubelite.controllers.base import DONE, RETRY, ControllerContext, SyncOutcome, process_next, requeue_after
from kubelite.controllers.manager import ControllerManager, available_controllers
from kubelite.controllers.settings import ControllerManagerSettings, LeaderElectionFlags
from kubelite.store import open_store


@pytest.mark.parametrize(
    ("flags", "name", "enabled"),
    [
        (("*",), "garbagecollector", True),
        (("*", "-garbagecollector"), "garbagecollector", False),
        (("namespace",), "garbagecollector", False),
        (("namespace",), "namespace", True),
        (("-namespace", "namespace"), "namespace", False),
    ],
    ids=["all", "all-but", "only-other", "only-this", "minus-wins"],
)
def test_controllers_flag(flags: tuple[str, ...], name: str, enabled: bool) -> None:
    assert ControllerManagerSettings(controllers=flags).enabled(name) is enabled


def test_every_controller_module_offers_a_constructor() -> None:
    assert {"garbagecollector", "namespace", "nodelifecycle"} <= set(available_controllers())


@pytest.mark.parametrize(
    ("outcome", "requeues", "queued_after_zero_time"),
    [(DONE, 0, 0), (RETRY, 1, 0), (requeue_after(30), 0, 0)],
    ids=["done-forgets", "retry-backs-off", "requeue-later"],
)
def test_worker_loop_applies_the_sync_outcome(
    outcome: SyncOutcome, requeues: int, queued_after_zero_time: int
) -> None:
    async def scenario() -> None:
        queue: RateLimitingQueue[str] = RateLimitingQueue(FakeClock())
        queue.add("k")

        async def sync(key: str) -> SyncOutcome:
            return outcome

        assert await process_next("test", queue, sync)
        assert queue.num_requeues("k") == requeues
        assert len(queue) == queued_after_zero_time
        queue.shutdown()

    asyncio.run(scenario())


def test_api_errors_and_bugs_in_sync_are_retried_not_fatal() -> None:
    async def scenario() -> None:
        queue: RateLimitingQueue[str] = RateLimitingQueue(FakeClock())

        async def failing(key: str) -> SyncOutcome:
            if key == "io":
                raise ApiError(500, "InternalError", "boom")
            raise KeyError("bug")

        for key in ("io", "bug"):
            queue.add(key)
            assert await process_next("test", queue, failing)
            assert queue.num_requeues(key) == 1
        queue.shutdown()

    asyncio.run(scenario())


class CountingController:
    name = "counting"

    def __init__(self, context: ControllerContext) -> None:
        self.runs = 0

    async def run(self, workers: int, stop: asyncio.Event) -> None:
        self.runs += 1
        await stop.wait()


def test_only_the_leader_runs_controllers_and_a_standby_takes_over() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        server = ApiServer(open_store("memory://"), ApiServerSettings(port=0), clock=clock)
        await server.start()
        client = ApiClient(InProcessTransport(server.handle))
        election = LeaderElectionFlags(enabled=True)
        managers = [
            ControllerManager(
                client,
                clock,
                ControllerManagerSettings(identity=name, leader_election=election),
                {"counting": CountingController},
            )
            for name in ("a", "b")
        ]
        stops = [asyncio.Event(), asyncio.Event()]
        runs = [asyncio.create_task(m.run(s)) for m, s in zip(managers, stops, strict=True)]

        def running() -> list[int]:
            return [m.controllers[0].runs for m in managers]  # type: ignore[attr-defined]

        for _ in range(50):
            await asyncio.sleep(0.005)
        assert sorted(running()) == [0, 1]
        leader = running().index(1)
        lease = await client.get(LEASES, "kube-controller-manager", "kube-system")
        assert lease["spec"]["holderIdentity"] == ("a", "b")[leader]
        stops[leader].set()  # a clean stop releases the Lease
        assert await asyncio.wait_for(runs[leader], 5) is True
        for _ in range(3):
            clock.advance(2.0)  # the standby retries every 2 s
            for _ in range(20):
                await asyncio.sleep(0.005)
        assert running()[1 - leader] == 1
        stops[1 - leader].set()
        await asyncio.wait_for(runs[1 - leader], 5)
        await server.stop()

    asyncio.run(scenario())
