"""End to end against a live API server (what `kubelite up --agents 0` serves), over HTTP.

Nodes are created through the API; the scheduler runs as an API client (`run_scheduler`) and
binds through `pods/binding`. Each test waits for the API to show the expected state, bounded by
a deadline, rather than sleeping for a fixed time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from kubelite.api.resources import EVENTS, NODES, PODS
from kubelite.apiserver.server import ApiServer, ApiServerSettings
from kubelite.client import ApiClient, HttpTransport
from kubelite.scheduler.live import run_scheduler
from kubelite.scheduler.profiles import Profile
from kubelite.store import open_store

Scenario = Callable[[ApiClient], Awaitable[None]]


def run_on_cluster(scenario: Scenario) -> None:
    async def main() -> None:
        store = open_store("memory://")
        server = ApiServer(store, ApiServerSettings(host="127.0.0.1", port=0))
        await server.start()
        client = ApiClient(HttpTransport(server.url))
        stop = asyncio.Event()
        scheduler = asyncio.create_task(run_scheduler(client, [Profile()], stop))
        try:
            await asyncio.wait_for(scenario(client), timeout=60)
        finally:
            stop.set()
            await scheduler
            await client.close()
            await server.stop()
            await store.close()

    asyncio.run(main())


def node(name: str, cpu: str = "1", labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": spec,
        "status": {
            "capacity": {"cpu": cpu, "memory": "4Gi", "pods": "110", "nvidia.com/gpu": "2"},
            "allocatable": {"cpu": cpu, "memory": "4Gi", "pods": "110", "nvidia.com/gpu": "2"},
        },
    }


def pod(
    name: str,
    cpu: str = "100m",
    labels: dict[str, str] | None = None,
    requests: dict[str, str] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": labels or {}},
        "spec": {
            "containers": [
                {"name": "c", "image": "busybox", "resources": {"requests": {"cpu": cpu, **(requests or {})}}}
            ],
            **spec,
        },
    }


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "the cluster did not reach the expected state in time"
        await asyncio.sleep(0.05)


async def node_of(client: ApiClient, name: str) -> str:
    obj = await client.get(PODS, name, "default")
    return str((obj.get("spec") or {}).get("nodeName") or "")


async def placements(client: ApiClient, names: list[str]) -> dict[str, str]:
    return {name: await node_of(client, name) for name in names}


async def bound_count(client: ApiClient, names: list[str]) -> int:
    return sum(1 for placed in (await placements(client, names)).values() if placed)


async def first_pending(client: ApiClient, names: list[str]) -> str:
    return next(name for name, placed in (await placements(client, names)).items() if not placed)


async def all_bound(client: ApiClient, names: list[str]) -> bool:
    return all([await node_of(client, name) for name in names])


async def events_for(client: ApiClient, name: str) -> list[str]:
    listed = await client.list(EVENTS, "default")
    return [
        str(e.get("message"))
        for e in listed.get("items") or []
        if (e.get("involvedObject") or {}).get("name") == name and e.get("reason") == "FailedScheduling"
    ]


def test_requests_are_honoured_and_an_unschedulable_pod_recovers_when_a_node_appears() -> None:
    async def scenario(client: ApiClient) -> None:
        for name in ("a", "b"):
            await client.create(NODES, node(name, cpu="1"))
        for index in range(3):
            await client.create(PODS, pod(f"p{index}", cpu="600m"))

        async def two_bound() -> bool:
            return await bound_count(client, [f"p{i}" for i in range(3)]) == 2

        await eventually(two_bound)
        placed = {await node_of(client, f"p{i}") for i in range(3)} - {""}
        assert placed == {"a", "b"}
        pending = await first_pending(client, [f"p{i}" for i in range(3)])

        async def reported() -> bool:
            return bool(await events_for(client, pending))

        await eventually(reported)
        status = (await client.get(PODS, pending, "default")).get("status") or {}
        condition = next(c for c in status.get("conditions") or [] if c["type"] == "PodScheduled")
        assert condition["status"] == "False" and condition["reason"] == "Unschedulable"
        assert condition["message"].startswith("0/2 nodes are available: 2 Insufficient cpu.")
        assert (await events_for(client, pending))[0].startswith(
            "0/2 nodes are available: 2 Insufficient cpu."
        )
        # A node change that cannot help retries the pod (after its backoff); the repeated failure
        # bumps the Event's count instead of recording a new Event.
        await client.patch(NODES, "a", {"metadata": {"labels": {"touched": "yes"}}})

        async def counted_twice() -> bool:
            listed = await client.list(EVENTS, "default")
            counts = [
                int(e.get("count") or 0)
                for e in listed.get("items") or []
                if (e.get("involvedObject") or {}).get("name") == pending
            ]
            return counts == [2]

        await eventually(counted_twice)
        await client.create(NODES, node("c", cpu="1"))
        await eventually(lambda: all_bound(client, [pending]))
        assert await node_of(client, pending) == "c"

    run_on_cluster(scenario)


def test_node_selector_taints_and_tolerations() -> None:
    async def scenario(client: ApiClient) -> None:
        taint = [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
        await client.create(NODES, node("gpu", cpu="4", labels={"accelerator": "yes"}, taints=taint))
        await client.create(NODES, node("plain", cpu="4"))
        toleration = [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]
        await client.create(PODS, pod("trainer", nodeSelector={"accelerator": "yes"}, tolerations=toleration))
        for index in range(3):
            await client.create(PODS, pod(f"web{index}"))
        await client.create(PODS, pod("stuck", nodeSelector={"accelerator": "yes"}))
        names = ["trainer", "web0", "web1", "web2"]
        await eventually(lambda: all_bound(client, names))
        assert await node_of(client, "trainer") == "gpu"
        assert {await node_of(client, f"web{i}") for i in range(3)} == {"plain"}

        async def reported() -> bool:
            return bool(await events_for(client, "stuck"))

        await eventually(reported)
        message = (await events_for(client, "stuck"))[0]
        assert message.startswith(
            "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
            "1 node(s) had untolerated taint {dedicated: gpu}."
        )

    run_on_cluster(scenario)


def test_topology_spread_and_anti_affinity() -> None:
    async def scenario(client: ApiClient) -> None:
        for index, zone in enumerate(["x", "y", "z"]):
            await client.create(NODES, node(f"n{index}", cpu="8", labels={"zone": zone}))
        spread = [
            {
                "maxSkew": 1,
                "topologyKey": "zone",
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"app": "web"}},
            }
        ]
        for index in range(6):
            await client.create(
                PODS, pod(f"web{index}", labels={"app": "web"}, topologySpreadConstraints=spread)
            )
        await eventually(lambda: all_bound(client, [f"web{i}" for i in range(6)]))
        per_node: dict[str, int] = {}
        for index in range(6):
            placed = await node_of(client, f"web{index}")
            per_node[placed] = per_node.get(placed, 0) + 1
        assert per_node == {"n0": 2, "n1": 2, "n2": 2}

        anti = {
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "kubernetes.io/hostname"}
                ]
            }
        }
        for index in range(4):
            await client.create(PODS, pod(f"db{index}", labels={"app": "db"}, affinity=anti))

        async def three_bound() -> bool:
            return await bound_count(client, [f"db{i}" for i in range(4)]) == 3

        await eventually(three_bound)
        assert len({await node_of(client, f"db{i}") for i in range(4)} - {""}) == 3
        pending = await first_pending(client, [f"db{i}" for i in range(4)])

        async def reported() -> bool:
            return bool(await events_for(client, pending))

        await eventually(reported)
        message = (await events_for(client, pending))[0]
        # Kubernetes checks the placed pods' anti-affinity (symmetry) first, so that reason is the one counted.
        assert message.startswith("0/3 nodes are available: 3 node(s) didn't satisfy existing pods anti-affinity rules.")

    run_on_cluster(scenario)


def test_preemption_evicts_a_lower_priority_pod() -> None:
    async def scenario(client: ApiClient) -> None:
        await client.create(NODES, node("only", cpu="1"))
        await client.create(PODS, pod("low", cpu="800m", priority=0))
        await eventually(lambda: all_bound(client, ["low"]))
        await client.create(PODS, pod("high", cpu="800m", priority=1000))

        async def nominated_and_victim_deleting() -> bool:
            high = await client.get(PODS, "high", "default")
            low = await client.get(PODS, "low", "default")
            nominated = (high.get("status") or {}).get("nominatedNodeName")
            return nominated == "only" and bool(low["metadata"].get("deletionTimestamp"))

        await eventually(nominated_and_victim_deleting)
        assert await node_of(client, "high") == ""  # the victim still holds its cpu while terminating
        await client.delete(PODS, "low", "default", grace_period_seconds=0)  # what the node agent confirms
        await eventually(lambda: all_bound(client, ["high"]))
        assert await node_of(client, "high") == "only"

    run_on_cluster(scenario)


def test_gpu_indices_are_written_on_the_pod() -> None:
    async def scenario(client: ApiClient) -> None:
        await client.create(NODES, node("g", cpu="4"))
        await client.create(PODS, pod("share", requests={"kubelite.io/gpu-milli": "500"}))
        await eventually(lambda: all_bound(client, ["share"]))
        annotations = (await client.get(PODS, "share", "default"))["metadata"].get("annotations") or {}
        assert annotations.get("kubelite.io/gpu-indices") == "0"

    run_on_cluster(scenario)
