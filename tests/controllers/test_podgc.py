"""Pod garbage collection on virtual time: orphaned pods, out-of-service nodes, terminated excess."""

from __future__ import annotations

import asyncio
from typing import Any

from kubelite.api.resources import NODES, PODS
from kubelite.client import ApiClient
from kubelite.clock import FakeClock
from kubelite.controllers.base import ControllerContext
from kubelite.controllers.podgc import OUT_OF_SERVICE_TAINT, PodGarbageCollector

from .cluster import Harness, eventually, exists, running_controllers


def pod(name: str, node: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


async def tick(clock: FakeClock, seconds: float) -> None:
    """Advance in gc periods, each once the collector's pass is over and it sleeps again."""
    for _ in range(int(seconds / 20)):
        while clock.pending_sleepers() == 0:
            await asyncio.sleep(0.002)
        clock.advance(20)
        await asyncio.sleep(0.002)


async def cached(harness: Harness, count: int) -> None:
    """Wait until the pod informer holds `count` pods, so that a gc pass sees them."""
    lister = harness.manager.informers.informer(PODS).lister
    await eventually(lambda: len(lister.list()) == count)


async def gone(client: ApiClient, name: str) -> bool:
    return not await exists(client, PODS, name)


def test_pods_of_a_deleted_node_are_removed_after_the_quarantine() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        async with running_controllers({"podgc": PodGarbageCollector}, clock=clock) as harness:
            client = harness.client
            await client.create(PODS, pod("stranded", node="ghost"))
            await client.create(NODES, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "real"}})
            await client.create(PODS, pod("fine", node="real"))
            await cached(harness, 2)
            await tick(clock, 20)
            assert await exists(client, PODS, "stranded")  # still in quarantine
            await tick(clock, 40)
            await eventually(lambda: gone(client, "stranded"))
            assert await exists(client, PODS, "fine")

    asyncio.run(scenario())


def test_terminating_pods_on_an_out_of_service_node_are_force_deleted() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        async with running_controllers({"podgc": PodGarbageCollector}, clock=clock) as harness:
            client = harness.client
            node = {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": "dead"},
                "spec": {
                    "taints": [{"key": OUT_OF_SERVICE_TAINT, "value": "nodeshutdown", "effect": "NoExecute"}]
                },
                "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]},
            }
            await client.create(NODES, node)
            await client.create(PODS, pod("stuck", node="dead"))
            await client.delete(PODS, "stuck")  # graceful: no agent will ever confirm it
            assert await exists(client, PODS, "stuck")
            await cached(harness, 1)
            await tick(clock, 20)
            await eventually(lambda: gone(client, "stuck"))

    asyncio.run(scenario())


def test_terminated_pods_beyond_the_threshold_go_oldest_first() -> None:
    async def scenario() -> None:
        clock = FakeClock()

        def small_threshold(context: ControllerContext) -> PodGarbageCollector:
            return PodGarbageCollector(context, terminated_pod_threshold=2)

        async with running_controllers({"podgc": small_threshold}, clock=clock) as harness:
            client = harness.client
            await client.create(NODES, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}})
            for index in range(4):
                await client.create(PODS, pod(f"done-{index}", node="n"))
                await client.patch(
                    PODS, f"done-{index}", {"status": {"phase": "Succeeded"}}, subresource="status"
                )
                clock.advance(1)  # distinct creation times
            lister = harness.manager.informers.informer(PODS).lister
            await eventually(lambda: sum(p["status"].get("phase") == "Succeeded" for p in lister.list()) == 4)
            await tick(clock, 20)
            await eventually(lambda: gone(client, "done-1"))
            assert await gone(client, "done-0")
            assert await exists(client, PODS, "done-2") and await exists(client, PODS, "done-3")

    asyncio.run(scenario())
