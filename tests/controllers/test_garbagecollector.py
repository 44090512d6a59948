"""Garbage collection through ownerReferences with each propagation policy, on a real API server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kubelite.api.resources import CONFIGMAPS, DEPLOYMENTS, PODS
from kubelite.client import ApiClient
from kubelite.controllers import garbagecollector

from .cluster import eventually, exists, running_controllers

LABELS = {"app": "web"}
TEMPLATE = {"metadata": {"labels": LABELS}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}


def owner_ref(owner: dict[str, Any], block: bool = True, controller: bool = True) -> dict[str, Any]:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": controller,
        "blockOwnerDeletion": block,
    }


async def make_deployment(client: ApiClient) -> dict[str, Any]:
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": LABELS}, "template": TEMPLATE},
    }
    return await client.create(DEPLOYMENTS, body)


async def make_replicaset(client: ApiClient, owner: dict[str, Any] | None = None) -> dict[str, Any]:
    """The middle of the ownership tree. A ConfigMap stands in for a ReplicaSet: collection does not
    depend on kinds, and no ReplicaSet controller runs here to act on a real one."""
    metadata: dict[str, Any] = {"name": "web-abc"}
    if owner is not None:
        metadata["ownerReferences"] = [owner_ref(owner)]
    created = await client.create(CONFIGMAPS, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata})
    return {"apiVersion": "v1", "kind": "ConfigMap", **created}


async def make_pod(client: ApiClient, name: str, owners: list[dict[str, Any]]) -> dict[str, Any]:
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": LABELS, "ownerReferences": owners},
        "spec": TEMPLATE["spec"],
    }
    return await client.create(PODS, body)


MIDDLE = CONFIGMAPS
GC = {"garbagecollector": garbagecollector.new_controller}


@pytest.mark.parametrize("policy", ["Background", "Foreground"], ids=["background", "foreground"])
def test_cascading_delete_removes_the_whole_tree(policy: str) -> None:
    async def scenario() -> None:
        async with running_controllers(GC) as harness:
            client = harness.client
            deployment = await make_deployment(client)
            replicaset = await make_replicaset(client, deployment)
            for i in range(3):
                await make_pod(client, f"web-abc-{i}", [owner_ref(replicaset)])
            await client.delete(DEPLOYMENTS, "web", propagation_policy=policy)
            if policy == "Foreground":
                # The owner stays, marked, until its blocking dependents are gone.
                marked = await client.get(DEPLOYMENTS, "web")
                assert "foregroundDeletion" in marked["metadata"]["finalizers"]
            await eventually(lambda: _all_gone(client))

    asyncio.run(scenario())


async def _all_gone(client: ApiClient) -> bool:
    pods, _ = await client.list_all(PODS, "default")
    middle = await exists(client, MIDDLE, "web-abc")
    return not pods and not middle and not await exists(client, DEPLOYMENTS, "web")


def test_foreground_owner_waits_for_blocking_dependents() -> None:
    async def scenario() -> None:
        async with running_controllers(GC) as harness:
            client = harness.client
            replicaset = await make_replicaset(client)
            pod = await make_pod(client, "held", [owner_ref(replicaset)])
            # A finalizer of someone else keeps the pod around after its deletion is requested.
            await client.patch(PODS, "held", {"metadata": {"finalizers": ["example.com/hold"]}})
            await client.delete(MIDDLE, "web-abc", propagation_policy="Foreground")
            await eventually(
                lambda: _deletion_requested(client, "held")
            )  # the collector deleted the dependent...
            await asyncio.sleep(0.05)
            assert await exists(client, MIDDLE, "web-abc")  # ...but the owner waits for it
            await client.patch(PODS, "held", {"metadata": {"finalizers": None}})
            await eventually(lambda: _gone(client, MIDDLE, "web-abc"))
            assert pod["metadata"]["uid"]

    asyncio.run(scenario())


async def _deletion_requested(client: ApiClient, name: str) -> bool:
    pod = await client.get(PODS, name)
    return bool(pod["metadata"].get("deletionTimestamp"))


async def _gone(client: ApiClient, resource: Any, name: str) -> bool:
    return not await exists(client, resource, name)


def test_orphan_keeps_dependents_and_strips_the_owner_reference() -> None:
    async def scenario() -> None:
        async with running_controllers(GC) as harness:
            client = harness.client
            replicaset = await make_replicaset(client)
            for i in range(2):
                await make_pod(client, f"web-abc-{i}", [owner_ref(replicaset)])
            await client.delete(MIDDLE, "web-abc", propagation_policy="Orphan")
            await eventually(lambda: _gone(client, MIDDLE, "web-abc"))
            pods, _ = await client.list_all(PODS, "default")
            assert len(pods) == 2
            assert all(not pod["metadata"].get("ownerReferences") for pod in pods)

    asyncio.run(scenario())


def test_dependent_created_after_its_owner_is_gone_is_collected() -> None:
    async def scenario() -> None:
        async with running_controllers(GC) as harness:
            client = harness.client
            ghost = {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {"name": "gone", "uid": "no-such"},
            }
            await make_pod(client, "orphaned", [owner_ref(ghost)])
            await eventually(lambda: _gone(client, PODS, "orphaned"))

    asyncio.run(scenario())


def test_dangling_reference_is_removed_when_another_owner_is_solid() -> None:
    async def scenario() -> None:
        async with running_controllers(GC) as harness:
            client = harness.client
            keeper = await client.create(
                CONFIGMAPS, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "keeper"}}
            )
            keeper = {"apiVersion": "v1", "kind": "ConfigMap", **keeper}
            ghost = {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {"name": "gone", "uid": "no-such"},
            }
            await make_pod(
                client, "shared", [owner_ref(keeper, block=False, controller=False), owner_ref(ghost)]
            )

            async def only_keeper_left() -> bool:
                refs = (await client.get(PODS, "shared"))["metadata"].get("ownerReferences") or []
                return [ref["name"] for ref in refs] == ["keeper"]

            await eventually(only_keeper_left)

    asyncio.run(scenario())


def test_owner_of_another_uid_with_the_same_name_does_not_keep_a_dependent() -> None:
    async def scenario() -> None:
        async with running_controllers(GC) as harness:
            client = harness.client
            first = await make_replicaset(client)
            await client.delete(MIDDLE, "web-abc", propagation_policy="Orphan")
            await eventually(lambda: _gone(client, MIDDLE, "web-abc"))
            await make_replicaset(client)  # same name, new uid
            await make_pod(client, "stale-owner", [owner_ref(first)])
            await eventually(lambda: _gone(client, PODS, "stale-owner"))

    asyncio.run(scenario())
