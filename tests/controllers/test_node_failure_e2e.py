"""A node that stops heartbeating has its pods recreated on another node within
grace period + tolerationSeconds + a few seconds: API server, ReplicaSet and node-lifecycle
controllers and the scheduler together, with fake nodes whose Leases this test renews."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from kubelite.api.resources import EVENTS, LEASES, NODES, PODS, REPLICASETS
from kubelite.apiserver.inprocess import InProcessTransport
from kubelite.apiserver.server import ApiServer, ApiServerSettings
from kubelite.client import ApiClient
from kubelite.client.events import format_micro_time, format_time
from kubelite.clock import RealClock
from kubelite.controllers.manager import run_controller_manager
from kubelite.controllers.nodelifecycle import UNREACHABLE_TAINT
from kubelite.controllers.settings import ControllerManagerSettings, NodeLifecycleSettings
from kubelite.scheduler.live import run_scheduler
from kubelite.scheduler.profiles import Profile
from kubelite.store import open_store

GRACE_SECONDS = 3.0
TOLERATION_SECONDS = 2
SLACK_SECONDS = 4.0


def node(name: str, clock: RealClock) -> dict[str, Any]:
    allocatable = {"cpu": "8", "memory": "16Gi", "pods": "110"}
    now = format_time(clock.now())
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "status": {
            "capacity": allocatable,
            "allocatable": allocatable,
            "conditions": [{"type": "Ready", "status": "True", "lastHeartbeatTime": now}],
        },
    }


def replicaset() -> dict[str, Any]:
    labels = {"app": "web"}
    tolerations = [
        {
            "key": UNREACHABLE_TAINT,
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": TOLERATION_SECONDS,
        }
    ]
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"tolerations": tolerations, "containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }


async def live_pods_on(client: ApiClient, node_name: str) -> int:
    pods, _ = await client.list_all(PODS, "default")
    return sum(
        1
        for pod in pods
        if pod["spec"].get("nodeName") == node_name and not pod["metadata"].get("deletionTimestamp")
    )


def test_pods_of_a_lost_node_are_recreated_elsewhere_in_time() -> None:
    async def scenario() -> None:
        clock = RealClock()
        server = ApiServer(open_store("memory://"), ApiServerSettings(port=0), clock=clock)
        await server.start()
        client = ApiClient(InProcessTransport(server.handle))
        stop = asyncio.Event()
        alive = {"first"}

        async def heartbeat() -> None:
            while not stop.is_set():
                for name in list(alive):
                    await client.patch(
                        LEASES,
                        name,
                        {"spec": {"renewTime": format_micro_time(clock.now())}},
                        "kube-node-lease",
                    )
                await asyncio.sleep(0.5)

        async def add_node(name: str) -> None:
            await client.create(NODES, node(name, clock))
            lease = {
                "metadata": {"name": name},
                "spec": {"holderIdentity": name, "renewTime": format_micro_time(clock.now())},
            }
            await client.create(LEASES, lease, "kube-node-lease")

        settings = ControllerManagerSettings(
            controllers=("replicaset", "nodelifecycle"),
            node_lifecycle=NodeLifecycleSettings(grace_period=GRACE_SECONDS, monitor_period=0.5),
        )
        try:
            await add_node("first")
            tasks = [
                asyncio.create_task(heartbeat()),
                asyncio.create_task(run_controller_manager(client, clock, settings, stop)),
                asyncio.create_task(run_scheduler(client, [Profile()], stop)),
            ]
            await client.create(REPLICASETS, replicaset())
            await until(lambda: live_pods_on(client, "first"), 2, timeout=20)
            await add_node("second")
            alive.add("second")
            alive.discard("first")  # the first node goes silent now
            silent_since = time.monotonic()
            await until(lambda: live_pods_on(client, "second"), 2, timeout=60)
            recovered_after = time.monotonic() - silent_since
            assert recovered_after <= GRACE_SECONDS + TOLERATION_SECONDS + SLACK_SECONDS, recovered_after
            assert (
                recovered_after >= GRACE_SECONDS + TOLERATION_SECONDS - 1.0
            )  # evicted no earlier (the last renewal preceded the silence by up to 0.5 s)
            await until(lambda: event_reasons(client), {"NodeNotReady", "TaintManagerEviction"}, timeout=10)
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            stop.set()
            await server.stop()

    asyncio.run(scenario())


async def event_reasons(client: ApiClient) -> set[str]:
    """The reasons of the Events recorded about the lost node and its evicted pods."""
    events, _ = await client.list_all(EVENTS, "default")
    return {str(event.get("reason")) for event in events} & {"NodeNotReady", "TaintManagerEviction"}


async def until(count: Any, wanted: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while await count() != wanted:
        assert time.monotonic() < deadline, f"never reached {wanted}"
        await asyncio.sleep(0.1)
