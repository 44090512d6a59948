"""Deleting a namespace deletes its content, waits for terminating pods, then the namespace goes."""

from __future__ import annotations

import asyncio
from typing import Any

from kubelite.api.resources import CONFIGMAPS, NAMESPACES, PODS, SECRETS
from kubelite.client import ApiClient
from kubelite.clock import FakeClock
from kubelite.controllers import namespace

from .cluster import eventually, exists, running_controllers

NS = {"namespace": namespace.new_controller}


def pod(name: str, node: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


async def populate(client: ApiClient, name: str) -> None:
    await client.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    await client.create(CONFIGMAPS, {"metadata": {"name": "settings"}, "data": {"a": "b"}}, name)
    await client.create(SECRETS, {"metadata": {"name": "token"}}, name)
    await client.create(PODS, pod("unbound"), name)


def test_empty_namespace_content_then_namespace_is_removed() -> None:
    async def scenario() -> None:
        async with running_controllers(NS) as harness:
            client = harness.client
            await populate(client, "team")
            await client.create(CONFIGMAPS, {"metadata": {"name": "settings"}}, "default")
            await client.delete(NAMESPACES, "team")
            await eventually(lambda: _gone(client, "team"))
            assert await exists(client, CONFIGMAPS, "settings", "default")  # other namespaces untouched

    asyncio.run(scenario())


def test_namespace_waits_for_terminating_pods_and_reports_why() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        async with running_controllers(NS, clock=clock) as harness:
            client = harness.client
            await populate(client, "team")
            await client.create(PODS, pod("running", node="node-1"), "team")
            await client.delete(NAMESPACES, "team")

            async def only_the_graceful_pod_left() -> bool:
                pods, _ = await client.list_all(PODS, "team")
                configmaps, _ = await client.list_all(CONFIGMAPS, "team")
                return [p["metadata"]["name"] for p in pods] == ["running"] and not configmaps

            await eventually(only_the_graceful_pod_left)
            running = await client.get(PODS, "running", "team")
            assert running["metadata"]["deletionTimestamp"]

            async def condition_reported() -> bool:
                conditions = (await client.get(NAMESPACES, "team"))["status"].get("conditions") or []
                return any(
                    c["type"] == "NamespaceContentRemaining" and "pods. has 1" in c["message"]
                    for c in conditions
                )

            await eventually(condition_reported)
            # The node's agent confirms the pod stopped; the controller looks again a second later.
            await client.delete(PODS, "running", "team", grace_period_seconds=0)
            clock.advance(1.0)
            await eventually(lambda: _gone(client, "team"))

    asyncio.run(scenario())


async def _gone(client: ApiClient, name: str) -> bool:
    return not await exists(client, NAMESPACES, name, None)
