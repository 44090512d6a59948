"""Node lifecycle on virtual time: a node that stops renewing its Lease is tainted and its pods
are evicted after their tolerationSeconds; evictions slow down when much of a zone is lost."""

from __future__ import annotations

import asyncio
from typing import Any

from kubelite.api.resources import LEASES, NODES, PODS
from kubelite.client import ApiClient
from kubelite.client.events import format_micro_time, format_time
from kubelite.clock import FakeClock
from kubelite.controllers import nodelifecycle
from kubelite.controllers.nodelifecycle import NOT_READY_TAINT, UNREACHABLE_TAINT
from kubelite.controllers.settings import ControllerManagerSettings, NodeLifecycleSettings

from .cluster import Harness, eventually, exists, running_controllers

LIFECYCLE = {"nodelifecycle": nodelifecycle.new_controller}
SETTINGS = ControllerManagerSettings(node_lifecycle=NodeLifecycleSettings(grace_period=40, monitor_period=5))


async def add_node(
    client: ApiClient, clock: FakeClock, name: str, zone: str = "z1", ready: str = "True"
) -> None:
    now = format_time(clock.now())
    await client.create(
        NODES,
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": {"topology.kubernetes.io/zone": zone}},
            "status": {
                "conditions": [
                    {"type": "Ready", "status": ready, "lastHeartbeatTime": now, "lastTransitionTime": now}
                ]
            },
        },
    )
    lease = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": name},
        "spec": {
            "holderIdentity": name,
            "leaseDurationSeconds": 40,
            "renewTime": format_micro_time(clock.now()),
        },
    }
    await client.create(LEASES, lease, "kube-node-lease")


async def renew(client: ApiClient, clock: FakeClock, name: str) -> None:
    patch = {"spec": {"renewTime": format_micro_time(clock.now())}}
    await client.patch(LEASES, name, patch, "kube-node-lease")


async def add_pod(client: ApiClient, name: str, node: str, toleration_seconds: int | None = None) -> None:
    spec: dict[str, Any] = {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]}
    if toleration_seconds is not None:
        spec["tolerations"] = [
            {
                "key": UNREACHABLE_TAINT,
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": toleration_seconds,
            }
        ]
    await client.create(PODS, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec})


async def advance(harness: Harness, clock: FakeClock, seconds: float, alive: tuple[str, ...] = ()) -> None:
    """Move virtual time in monitor-sized steps; live nodes renew their Leases at each step."""
    steps = int(seconds / 5)
    for _ in range(steps):
        for name in alive:
            await renew(harness.client, clock, name)
        await asyncio.sleep(0.01)  # let the Lease watch events arrive first
        clock.advance(5)
        for _ in range(5):
            await asyncio.sleep(0.002)


async def taints(client: ApiClient, node: str) -> set[tuple[str, str]]:
    spec = (await client.get(NODES, node, None)).get("spec") or {}
    return {(t["key"], t["effect"]) for t in spec.get("taints") or []}


async def terminating(client: ApiClient, name: str) -> bool:
    if not await exists(client, PODS, name):
        return True
    return bool((await client.get(PODS, name))["metadata"].get("deletionTimestamp"))


def test_silent_node_becomes_unknown_is_tainted_and_pods_leave_after_their_toleration() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        async with running_controllers(LIFECYCLE, SETTINGS, clock) as harness:
            client = harness.client
            for name in ("alive", "silent"):
                await add_node(client, clock, name)
            await add_pod(client, "quick", "silent", toleration_seconds=10)
            await add_pod(client, "default-300", "silent")  # admission adds the 300 s tolerations
            await add_pod(client, "elsewhere", "alive", toleration_seconds=0)
            await advance(harness, clock, 35, alive=("alive",))
            assert await taints(client, "silent") == set()  # within the 40 s grace period
            await advance(harness, clock, 15, alive=("alive",))
            await eventually(lambda: _ready_unknown(client, "silent"))
            await eventually(
                lambda: _has_taints(
                    client, "silent", {(UNREACHABLE_TAINT, "NoSchedule"), (UNREACHABLE_TAINT, "NoExecute")}
                )
            )
            assert await taints(client, "alive") == set()
            assert not await terminating(client, "quick")
            await advance(harness, clock, 15, alive=("alive",))
            await eventually(lambda: terminating(client, "quick"))
            assert not await terminating(client, "default-300")
            await advance(harness, clock, 300, alive=("alive",))
            await eventually(lambda: terminating(client, "default-300"))
            assert not await terminating(client, "elsewhere")

    asyncio.run(scenario())


async def _ready_unknown(client: ApiClient, name: str) -> bool:
    node = await client.get(NODES, name, None)
    ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
    return bool(ready["status"] == "Unknown" and ready["reason"] == "NodeStatusUnknown")


async def _has_taints(client: ApiClient, node: str, expected: set[tuple[str, str]]) -> bool:
    return await taints(client, node) == expected


def test_node_that_resumes_heartbeats_loses_its_taints() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        async with running_controllers(LIFECYCLE, SETTINGS, clock) as harness:
            client = harness.client
            await add_node(client, clock, "flaky")
            await add_node(client, clock, "steady")  # one lost node of one: no eviction at all
            await advance(harness, clock, 50, alive=("steady",))
            await eventually(
                lambda: _has_taints(
                    client, "flaky", {(UNREACHABLE_TAINT, "NoSchedule"), (UNREACHABLE_TAINT, "NoExecute")}
                )
            )
            # The agent comes back: renews its Lease and reports Ready again.
            now = format_time(clock.now())
            await client.patch(
                NODES,
                "flaky",
                {"status": {"conditions": [{"type": "Ready", "status": "True", "lastHeartbeatTime": now}]}},
                subresource="status",
            )
            await advance(harness, clock, 10, alive=("flaky", "steady"))
            await eventually(lambda: _has_taints(client, "flaky", set()))

    asyncio.run(scenario())


def test_not_ready_node_gets_the_not_ready_taint() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        async with running_controllers(LIFECYCLE, SETTINGS, clock) as harness:
            client = harness.client
            await add_node(client, clock, "sick", ready="False")
            await add_node(client, clock, "fine")
            await advance(harness, clock, 10, alive=("sick", "fine"))
            await eventually(
                lambda: _has_taints(
                    client, "sick", {(NOT_READY_TAINT, "NoSchedule"), (NOT_READY_TAINT, "NoExecute")}
                )
            )

    asyncio.run(scenario())


def test_every_zone_lost_at_once_evicts_nothing() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        async with running_controllers(LIFECYCLE, SETTINGS, clock) as harness:
            client = harness.client
            for name, zone in (("a", "z1"), ("b", "z2")):
                await add_node(client, clock, name, zone=zone)
            await advance(harness, clock, 60)
            await eventually(lambda: _all_have(client, ["a", "b"], (UNREACHABLE_TAINT, "NoSchedule")))
            for name in ("a", "b"):
                assert (UNREACHABLE_TAINT, "NoExecute") not in await taints(client, name)

    asyncio.run(scenario())


def test_partial_zone_disruption_in_a_small_zone_stops_no_execute_taints() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        async with running_controllers(LIFECYCLE, SETTINGS, clock) as harness:
            client = harness.client
            names = [f"n{i}" for i in range(10)]
            for name in names:
                await add_node(client, clock, name)
            alive = tuple(names[:4])  # 6 of 10 lost: 60% >= 55%, and the zone is small
            await advance(harness, clock, 60, alive=alive)
            lost = names[4:]
            await eventually(lambda: _all_have(client, lost, (UNREACHABLE_TAINT, "NoSchedule")))
            controller = harness.manager.controllers[0]
            assert isinstance(controller, nodelifecycle.NodeLifecycleController)
            assert controller.zone_states == {
                nodelifecycle.zone_of(
                    {"metadata": {"labels": {"topology.kubernetes.io/zone": "z1"}}}
                ): "PartialDisruption"
            }
            for name in lost:
                assert (UNREACHABLE_TAINT, "NoExecute") not in await taints(client, name)

    asyncio.run(scenario())


def test_healthy_zone_taints_lost_nodes_at_the_eviction_rate() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        async with running_controllers(LIFECYCLE, SETTINGS, clock) as harness:
            client = harness.client
            names = [f"n{i}" for i in range(10)]
            for name in names:
                await add_node(client, clock, name)
            alive = tuple(names[:7])  # 3 of 10 lost: a healthy zone, 0.1 nodes/s
            await advance(harness, clock, 45, alive=alive)
            counts = []
            for _ in range(4):
                await advance(harness, clock, 5, alive=alive)
                await asyncio.sleep(0.05)
                counts.append(await _count_no_execute(client, names[7:]))
            assert counts[0] >= 1
            assert counts[-1] <= 3
            assert counts == sorted(counts)
            assert counts[0] < 3  # not all at once: one node per 10 s
            await advance(harness, clock, 30, alive=alive)
            await eventually(lambda: _all_have(client, names[7:], (UNREACHABLE_TAINT, "NoExecute")))

    asyncio.run(scenario())


async def _count_no_execute(client: ApiClient, names: list[str]) -> int:
    return sum([(UNREACHABLE_TAINT, "NoExecute") in await taints(client, n) for n in names])


async def _all_have(client: ApiClient, names: list[str], taint: tuple[str, str]) -> bool:
    return all([taint in await taints(client, n) for n in names])


def test_pods_of_a_node_that_stops_being_ready_are_marked_not_ready() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        async with running_controllers(LIFECYCLE, SETTINGS, clock) as harness:
            client = harness.client
            for name in ("alive", "silent"):
                await add_node(client, clock, name)
            await add_pod(client, "web", "silent")
            ready = {"type": "Ready", "status": "True"}
            await client.patch(
                PODS, "web", {"status": {"phase": "Running", "conditions": [ready]}}, subresource="status"
            )
            await advance(harness, clock, 50, alive=("alive",))

            async def pod_not_ready() -> bool:
                conditions = (await client.get(PODS, "web"))["status"].get("conditions") or []
                return any(c["type"] == "Ready" and c["status"] == "False" for c in conditions)

            await eventually(pod_not_ready)

    asyncio.run(scenario())


def test_cordoned_node_gets_the_unschedulable_taint_and_loses_it_when_uncordoned() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        async with running_controllers(LIFECYCLE, SETTINGS, clock) as harness:
            client = harness.client
            await add_node(client, clock, "worker")
            await client.patch(NODES, "worker", {"spec": {"unschedulable": True}})
            await advance(harness, clock, 10, alive=("worker",))
            await eventually(
                lambda: _has_taints(client, "worker", {("node.kubernetes.io/unschedulable", "NoSchedule")})
            )
            await client.patch(NODES, "worker", {"spec": {"unschedulable": False}})
            await advance(harness, clock, 10, alive=("worker",))
            await eventually(lambda: _has_taints(client, "worker", set()))

    asyncio.run(scenario())
