"""Shared informers against a real API server: sync, handlers, listers, indexes, relist on 410."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from kubelite.api.resources import CONFIGMAPS, PODS
from kubelite.client import ApiClient, ApiError, TransportError
from kubelite.client.informers import BY_NODE_NAME, BY_OWNER_UID, SharedInformerFactory, object_key
from kubelite.clock import FakeClock, RealClock

from .cluster import in_process_cluster


def pod(
    name: str, namespace: str = "default", node: str = "", owner_uid: str = "", **labels: str
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "labels": labels}
    if owner_uid:
        metadata["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": owner_uid}
        ]
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


async def eventually(condition: Any, timeout: float = 5.0) -> None:
    """Poll a condition while the informer's tasks run (real time only bounds a failure)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.005)


def test_informer_lists_watches_and_serves_listers_and_indexes() -> None:
    async def scenario() -> None:
        async with in_process_cluster() as client:
            await client.create(PODS, pod("a", node="n1", owner_uid="u1", app="web"))
            await client.create(PODS, pod("b", namespace="kube-system", node="n2", app="db"))
            factory = SharedInformerFactory(client, RealClock())
            informer = factory.informer(PODS)
            assert factory.informer(PODS) is informer  # one per resource per process
            seen: list[tuple[str, str]] = []
            informer.add_event_handler(
                lambda obj: seen.append(("add", object_key(obj))),
                lambda old, new: seen.append(("update", object_key(new))),
                lambda obj: seen.append(("delete", object_key(obj))),
            )
            stop = asyncio.Event()
            factory.start(stop)
            await asyncio.wait_for(factory.wait_for_sync(), 5)
            assert informer.has_synced()
            lister = informer.lister
            assert lister.get("default", "a") is not None
            assert lister.get("default", "b") is None
            assert [object_key(p) for p in lister.list("kube-system")] == ["kube-system/b"]
            assert [object_key(p) for p in lister.list(None, "app=web")] == ["default/a"]
            assert [object_key(p) for p in lister.by_index(BY_OWNER_UID, "u1")] == ["default/a"]
            assert [object_key(p) for p in lister.by_index(BY_NODE_NAME, "n2")] == ["kube-system/b"]

            await client.create(PODS, pod("c", app="web"))
            await client.patch(PODS, "a", {"metadata": {"labels": {"app": "api"}}}, "default")
            await client.delete(PODS, "b", "kube-system", grace_period_seconds=0)
            await eventually(lambda: ("delete", "kube-system/b") in seen)
            assert ("add", "default/c") in seen
            assert ("update", "default/a") in seen
            assert [object_key(p) for p in lister.list(None, "app=web")] == ["default/c"]
            assert lister.by_index(BY_NODE_NAME, "n2") == []
            stop.set()
            await factory.shutdown()

    asyncio.run(scenario())


def test_handler_added_late_receives_the_cache_as_adds() -> None:
    async def scenario() -> None:
        async with in_process_cluster() as client:
            await client.create(CONFIGMAPS, {"metadata": {"name": "x", "namespace": "default"}})
            factory = SharedInformerFactory(client, RealClock())
            informer = factory.informer(CONFIGMAPS)
            stop = asyncio.Event()
            factory.start(stop)
            await factory.wait_for_sync()
            added: list[str] = []
            informer.add_event_handler(on_add=lambda obj: added.append(object_key(obj)))
            assert "default/x" in added
            stop.set()
            await factory.shutdown()

    asyncio.run(scenario())


class GoneOnceClient(ApiClient):
    """Holds the first watch until released, then answers 410 Gone, as after a compaction."""

    gone_sent = False
    release = asyncio.Event()

    async def watch(self, *args: Any, **kwargs: Any) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        if not self.gone_sent:
            await self.release.wait()
            self.gone_sent = True
            raise ApiError(410, "Expired", "too old resource version")
        async for event in super().watch(*args, **kwargs):
            yield event


def test_410_gone_relists_and_delivers_missed_deletes() -> None:
    async def scenario() -> None:
        async with in_process_cluster() as plain:
            client = GoneOnceClient(plain.transport)
            client.release = asyncio.Event()
            await client.create(CONFIGMAPS, {"metadata": {"name": "keep", "namespace": "default"}})
            await client.create(CONFIGMAPS, {"metadata": {"name": "gone", "namespace": "default"}})
            factory = SharedInformerFactory(client, RealClock())
            informer = factory.informer(CONFIGMAPS)
            deleted: list[str] = []
            informer.add_event_handler(on_delete=lambda obj: deleted.append(object_key(obj)))
            # First list, then the object vanishes while the (failing) watch is down.
            stop = asyncio.Event()
            factory.start(stop)
            await factory.wait_for_sync()
            await client.delete(CONFIGMAPS, "gone", "default")
            await asyncio.sleep(0.01)
            assert deleted == []  # the watch is down: nothing seen yet
            client.release.set()
            await eventually(lambda: informer.stats.relists_after_gone == 1 and informer.stats.lists == 2)
            await eventually(lambda: "default/gone" in deleted)
            assert informer.lister.get("default", "keep") is not None
            stop.set()
            await factory.shutdown()

    asyncio.run(scenario())


def test_resync_redelivers_cached_objects_as_updates_on_virtual_time() -> None:
    async def scenario() -> None:
        async with in_process_cluster() as client:
            await client.create(CONFIGMAPS, {"metadata": {"name": "x", "namespace": "default"}})
            clock = FakeClock()
            factory = SharedInformerFactory(client, clock, resync_period=30)
            informer = factory.informer(CONFIGMAPS)
            updates: list[str] = []
            informer.add_event_handler(on_update=lambda old, new: updates.append(object_key(new)))
            stop = asyncio.Event()
            factory.start(stop)
            await factory.wait_for_sync()
            await asyncio.sleep(0.01)
            clock.advance(29)
            await asyncio.sleep(0.01)
            assert updates == []
            clock.advance(1)
            await eventually(lambda: updates == ["default/x"])
            stop.set()
            await factory.shutdown()

    asyncio.run(scenario())


class FlakyListClient(ApiClient):
    """The first list fails as if the server were unreachable."""

    failed = False

    async def list_all(self, *args: Any, **kwargs: Any) -> tuple[list[dict[str, Any]], str]:
        if not self.failed:
            self.failed = True
            raise TransportError("connection refused")
        return await super().list_all(*args, **kwargs)


def test_failed_list_is_retried_after_a_backoff_on_virtual_time() -> None:
    async def scenario() -> None:
        async with in_process_cluster() as plain:
            client = FlakyListClient(plain.transport)
            clock = FakeClock()
            factory = SharedInformerFactory(client, clock)
            informer = factory.informer(CONFIGMAPS)
            stop = asyncio.Event()
            factory.start(stop)
            await eventually(lambda: informer.stats.errors == 1)
            await asyncio.sleep(0.01)
            assert not informer.has_synced()
            clock.advance(1.0)  # past the first backoff (0.8 s plus up to 10% jitter)
            await asyncio.wait_for(factory.wait_for_sync(), 5)
            stop.set()
            await factory.shutdown()

    asyncio.run(scenario())
