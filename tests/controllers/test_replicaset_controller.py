"""The ReplicaSet controller against an in-process API server on a virtual clock.

Kubelets are simulated by writing pod status through the status subresource; time-dependent
behaviour (minReadySeconds) is driven by advancing the FakeClock, never by sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from kubelite.api.resources import PODS, REPLICASETS
from kubelite.apiserver.inprocess import InProcessTransport
from kubelite.apiserver.server import ApiServer, ApiServerSettings
from kubelite.client import ApiClient
from kubelite.client.events import format_time
from kubelite.clock import FakeClock
from kubelite.controllers.base import ControllerConstructor
from kubelite.controllers.manager import ControllerManager
from kubelite.controllers.replicaset import new_controller
from kubelite.controllers.settings import ControllerManagerSettings
from kubelite.store import MemoryStore

pytestmark = pytest.mark.timeout(60)


@dataclass
class Cluster:
    server: ApiServer
    client: ApiClient
    clock: FakeClock
    manager: ControllerManager

    async def pods(self, selector: str = "") -> list[dict[str, Any]]:
        items, _ = await self.client.list_all(PODS, "default", label_selector=selector)
        return [pod for pod in items if not pod["metadata"].get("deletionTimestamp")]

    async def mark_ready(self, pod: dict[str, Any], node: str = "node-a") -> None:
        """Play the kubelet: bind the pod if needed and report it Running and Ready now."""
        name = pod["metadata"]["name"]
        if not pod["spec"].get("nodeName"):
            await self.client.bind("default", name, node)
        fresh = await self.client.get(PODS, name, "default")
        now = format_time(self.clock.now())
        fresh["status"] = {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now}],
        }
        await self.client.replace_status(PODS, fresh)


@asynccontextmanager
async def cluster(constructors: dict[str, ControllerConstructor] | None = None) -> AsyncIterator[Cluster]:
    async with _cluster(constructors or {"replicaset": new_controller}) as running:
        yield running


@asynccontextmanager
async def _cluster(constructors: dict[str, ControllerConstructor]) -> AsyncIterator[Cluster]:
    clock = FakeClock()
    server = ApiServer(MemoryStore(), ApiServerSettings(port=0, compaction_interval_seconds=60), clock=clock)
    await server.start()
    client = ApiClient(InProcessTransport(server.handle))
    manager = ControllerManager(client, clock, ControllerManagerSettings(), constructors)
    stop = asyncio.Event()
    running = asyncio.create_task(manager.run_controllers(stop))
    try:
        yield Cluster(server, client, clock, manager)
    finally:
        stop.set()
        await running
        await server.stop()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """Wait for the controllers' asynchronous writes to land (not for a control-loop period)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


def replicaset(name: str, replicas: int, *, min_ready: int = 0, app: str | None = None) -> dict[str, Any]:
    labels = {"app": app or name}
    spec: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": "main", "image": "busybox"}]},
        },
    }
    if min_ready:
        spec["minReadySeconds"] = min_ready
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name}, "spec": spec}


def run(test: Callable[[Cluster], Awaitable[None]]) -> Callable[[], None]:
    def wrapper() -> None:
        async def body() -> None:
            async with cluster() as running:
                await test(running)

        asyncio.run(body())

    wrapper.__name__ = test.__name__
    return wrapper


@run
async def test_creates_owned_pods_and_reports_status(c: Cluster) -> None:
    rs = await c.client.create(REPLICASETS, replicaset("web", 3), "default")

    async def three_pods() -> bool:
        return len(await c.pods("app=web")) == 3

    await eventually(three_pods)
    for pod in await c.pods("app=web"):
        reference = pod["metadata"]["ownerReferences"][0]
        assert reference["uid"] == rs["metadata"]["uid"]
        assert reference["controller"] is True and reference["blockOwnerDeletion"] is True
        assert pod["metadata"]["name"].startswith("web-")

    async def status_counts() -> bool:
        status = (await c.client.get(REPLICASETS, "web", "default")).get("status", {})
        return status.get("replicas") == 3 and status.get("observedGeneration") == 1

    await eventually(status_counts)


@run
async def test_scale_down_deletes_unready_pods_first(c: Cluster) -> None:
    await c.client.create(REPLICASETS, replicaset("web", 3), "default")

    async def three_pods() -> bool:
        return len(await c.pods("app=web")) == 3

    await eventually(three_pods)
    pods = await c.pods("app=web")
    ready = {pod["metadata"]["name"] for pod in pods[:2]}
    for pod in pods[:2]:
        await c.mark_ready(pod)
    await c.client.set_scale(REPLICASETS, "web", 2, "default")

    async def two_pods() -> bool:
        return len(await c.pods("app=web")) == 2

    await eventually(two_pods)
    assert {pod["metadata"]["name"] for pod in await c.pods("app=web")} == ready


@run
async def test_replaces_deleted_pods(c: Cluster) -> None:
    await c.client.create(REPLICASETS, replicaset("web", 2), "default")

    async def two_pods() -> bool:
        return len(await c.pods("app=web")) == 2

    await eventually(two_pods)
    victim = (await c.pods("app=web"))[0]["metadata"]["name"]
    await c.client.delete(PODS, victim, "default")

    async def replaced() -> bool:
        names = {pod["metadata"]["name"] for pod in await c.pods("app=web")}
        return len(names) == 2 and victim not in names

    await eventually(replaced)


@run
async def test_adopts_matching_orphans_and_releases_relabelled_pods(c: Cluster) -> None:
    orphan = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "stray", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]},
    }
    await c.client.create(PODS, orphan, "default")
    rs = await c.client.create(REPLICASETS, replicaset("web", 2), "default")

    async def adopted() -> bool:
        pod = await c.client.get(PODS, "stray", "default")
        owners = pod["metadata"].get("ownerReferences") or []
        return [owner["uid"] for owner in owners] == [rs["metadata"]["uid"]]

    await eventually(adopted)

    async def two_pods() -> bool:
        return len(await c.pods("app=web")) == 2

    await eventually(two_pods)
    await c.client.patch(PODS, "stray", {"metadata": {"labels": {"app": "other"}}}, "default")

    async def released() -> bool:
        pod = await c.client.get(PODS, "stray", "default")
        return not pod["metadata"].get("ownerReferences") and len(await c.pods("app=web")) == 2

    await eventually(released)


@run
async def test_available_waits_for_min_ready_seconds_on_virtual_time(c: Cluster) -> None:
    await c.client.create(REPLICASETS, replicaset("web", 1, min_ready=30), "default")

    async def one_pod() -> bool:
        return len(await c.pods("app=web")) == 1

    await eventually(one_pod)
    await c.mark_ready((await c.pods("app=web"))[0])

    async def status(ready: int, available: int) -> bool:
        current = (await c.client.get(REPLICASETS, "web", "default")).get("status", {})
        return bool(
            current.get("readyReplicas", 0) == ready and current.get("availableReplicas", 0) == available
        )

    await eventually(lambda: status(1, 0))
    c.clock.advance(10)
    await asyncio.sleep(0.05)
    assert await status(1, 0)
    c.clock.advance(25)
    await eventually(lambda: status(1, 1))
