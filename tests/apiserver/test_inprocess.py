"""API server semantics checked in-process, on a memory store and a virtual clock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from kubelite.api.resources import CONFIGMAPS, DEPLOYMENTS
from kubelite.apiserver.inprocess import InProcessTransport
from kubelite.apiserver.server import ApiServer, ApiServerSettings
from kubelite.client import ApiClient, ApiError
from kubelite.clock import FakeClock
from kubelite.store import MemoryStore

Running = tuple[ApiServer, ApiClient, FakeClock]


def serve(test: Callable[[Running], Awaitable[None]]) -> Callable[[], None]:
    """Run an async test against a fresh in-process server on a virtual clock."""

    def run() -> None:
        async def body() -> None:
            clock = FakeClock()
            server = ApiServer(
                MemoryStore(), ApiServerSettings(port=0, compaction_interval_seconds=60), clock=clock
            )
            await server.start()
            try:
                await test((server, ApiClient(InProcessTransport(server.handle)), clock))
            finally:
                await server.stop()

        asyncio.run(body())

    run.__name__ = test.__name__
    return run


def _cm(name: str, labels: dict[str, str] | None = None) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels or {}},
        "data": {"k": "v"},
    }


@serve
async def test_watch_turns_label_changes_into_added_and_deleted(running: Running) -> None:
    _, client, _ = running
    created = await client.create(CONFIGMAPS, _cm("flip", {"role": "a"}))
    events: list[tuple[str, str]] = []

    async def follow() -> None:
        async for event_type, obj in client.watch(
            CONFIGMAPS,
            label_selector="role=b",
            resource_version=created["metadata"]["resourceVersion"],
            bookmarks=False,
        ):
            events.append((event_type, obj["metadata"]["labels"].get("role", "")))
            if len(events) == 2:
                return

    task = asyncio.create_task(follow())
    await asyncio.sleep(0.05)
    await client.patch(CONFIGMAPS, "flip", {"metadata": {"labels": {"role": "b"}}})
    await client.patch(CONFIGMAPS, "flip", {"metadata": {"labels": {"role": "c"}}})
    await asyncio.wait_for(task, 5)
    assert events == [("ADDED", "b"), ("DELETED", "c")]


@serve
async def test_generation_moves_only_with_the_spec(running: Running) -> None:
    _, client, _ = running
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "gen"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        },
    }
    created = await client.create(DEPLOYMENTS, deployment)
    assert created["metadata"]["generation"] == 1
    labelled = await client.patch(DEPLOYMENTS, "gen", {"metadata": {"labels": {"x": "y"}}})
    assert labelled["metadata"]["generation"] == 1
    scaled = await client.patch(DEPLOYMENTS, "gen", {"spec": {"replicas": 3}})
    assert scaled["metadata"]["generation"] == 2
    unchanged = await client.patch(DEPLOYMENTS, "gen", {"spec": {"replicas": 3}})
    assert unchanged["metadata"]["resourceVersion"] == scaled["metadata"]["resourceVersion"]


@serve
async def test_compaction_expires_old_continue_tokens(running: Running) -> None:
    server, client, clock = running
    for index in range(5):
        await client.create(CONFIGMAPS, _cm(f"page-{index}"))
    first = await client.list(CONFIGMAPS, limit=2)
    token = first["metadata"]["continue"]
    second = await client.list(CONFIGMAPS, limit=2, continue_token=token)
    assert [i["metadata"]["name"] for i in second["items"]] == ["page-2", "page-3"]
    for index in range(5, 8):
        await client.create(CONFIGMAPS, _cm(f"page-{index}"))
    for _ in range(2):  # the compactor compacts to the revision it saw one interval earlier
        clock.advance(61)
        for _ in range(5):
            await asyncio.sleep(0)
    assert server.store.compacted_revision > 0
    with pytest.raises(ApiError) as error:
        await client.list(CONFIGMAPS, limit=2, continue_token=token)
    assert error.value.code == 410


@serve
async def test_consistent_read_after_write(running: Running) -> None:
    _, client, _ = running
    for index in range(50):
        written = await client.create(CONFIGMAPS, _cm(f"ryw-{index}"))
        read = await client.get(CONFIGMAPS, f"ryw-{index}")
        assert read["metadata"]["resourceVersion"] == written["metadata"]["resourceVersion"]
