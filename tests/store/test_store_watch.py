"""Watch: history then live without gaps or duplicates, event contents, compaction, fan-out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Literal

import pytest
from store_helpers import Backend, run

from kubelite.store import CompactedError, KeyValue, Store, WatchEvent

PODS = "/registry/pods/"


async def _take(events: AsyncIterator[WatchEvent], count: int) -> list[WatchEvent]:
    taken: list[WatchEvent] = []
    async for event in events:
        taken.append(event)
        if len(taken) == count:
            break
    return taken


def test_watch_replays_history_then_follows_live_writes(backend: Backend) -> None:
    async def scenario() -> None:
        store = backend.open()
        for index in range(5):
            await store.create(f"{PODS}default/p{index}", b"x")
        await store.create("/registry/services/default/svc", b"not a pod")  # revision 6
        watch = store.watch(PODS, after_revision=2)
        history = await _take(watch, 3)
        assert [event.revision for event in history] == [3, 4, 5]
        await store.update(f"{PODS}default/p0", b"y")  # 7
        await store.create("/registry/podsecuritypolicies/psp", b"sibling prefix")  # 8
        await store.delete(f"{PODS}default/p1")  # 9
        live = await _take(watch, 2)
        assert [(event.type, event.revision) for event in live] == [("PUT", 7), ("DELETE", 9)]
        await watch.aclose()  # type: ignore[attr-defined]
        await store.close()

    run(scenario())


def test_watch_started_during_concurrent_writes_has_no_gap_or_duplicate(backend: Backend) -> None:
    """Writers keep committing while the watch reads history and switches to live events."""
    total_writes = 600

    async def scenario() -> None:
        store = backend.open()

        async def writer(writer_index: int) -> None:
            for index in range(writer_index, total_writes, 8):
                await store.create(f"{PODS}ns/p{index}", b"x")

        writers = [asyncio.create_task(writer(writer_index)) for writer_index in range(8)]
        while store.revision < total_writes // 3:
            await asyncio.sleep(0.001)
        seen: list[int] = []
        async for event in store.watch(PODS, after_revision=0):
            seen.append(event.revision)
            if event.revision == total_writes:
                break
        await asyncio.gather(*writers)
        assert seen == list(range(1, total_writes + 1))
        await store.close()

    run(scenario())


WatchSource = Literal["history", "live"]


@pytest.mark.parametrize("source", ["history", "live"])
def test_event_contents(backend: Backend, source: WatchSource) -> None:
    key = f"{PODS}default/web"

    async def scenario() -> None:
        store = backend.open()
        watch = store.watch(PODS, after_revision=0)
        if source == "live":
            first = asyncio.ensure_future(_take(watch, 3))
            await asyncio.sleep(0.01)  # let the watch subscribe before the writes
        await store.create(key, b"v1")
        await store.update(key, b"v2")
        await store.delete(key)
        events = await (first if source == "live" else _take(watch, 3))
        v1 = KeyValue(key, b"v1", 1, 1)
        v2 = KeyValue(key, b"v2", 1, 2)
        assert events == [
            WatchEvent("PUT", v1, None),
            WatchEvent("PUT", v2, v1),
            WatchEvent("DELETE", KeyValue(key, b"v2", 1, 3), v2),
        ]
        await store.close()

    run(scenario())


@pytest.mark.parametrize(
    ("after_revision", "compacted"),
    [
        pytest.param(0, True, id="from-the-start"),
        pytest.param(3, True, id="just-below"),
        pytest.param(4, False, id="at-compaction"),
        pytest.param(5, False, id="above"),
    ],
)
def test_watch_from_a_compacted_revision(backend: Backend, after_revision: int, compacted: bool) -> None:
    async def scenario() -> None:
        store = backend.open()
        await store.create(f"{PODS}a", b"1")  # 1
        await store.update(f"{PODS}a", b"2")  # 2
        await store.create(f"{PODS}b", b"3")  # 3
        await store.update(f"{PODS}a", b"4")  # 4
        await store.delete(f"{PODS}b")  # 5
        await store.update(f"{PODS}a", b"6")  # 6
        await store.compact(4)
        watch = store.watch(PODS, after_revision=after_revision)
        if compacted:
            with pytest.raises(CompactedError) as raised:
                await _take(watch, 1)
            assert (raised.value.requested, raised.value.compacted) == (after_revision, 4)
        else:
            events = await _take(watch, 6 - after_revision)
            assert [event.revision for event in events] == list(range(after_revision + 1, 7))
            # The value each event replaced is still there although its revision is compacted.
            assert all(event.prev is not None for event in events)
        await store.close()

    run(scenario())


def test_watch_from_a_future_revision_waits_for_it(backend: Backend) -> None:
    async def scenario() -> None:
        store = backend.open()
        watch = store.watch(PODS, after_revision=2)
        pending = asyncio.ensure_future(_take(watch, 1))
        for index in range(3):
            await store.create(f"{PODS}p{index}", b"x")
        assert [event.revision for event in await pending] == [3]
        await store.close()

    run(scenario())


def test_close_ends_open_watches(backend: Backend) -> None:
    async def scenario() -> None:
        store = backend.open()
        await store.create(f"{PODS}a", b"x")
        collected = asyncio.ensure_future(_take(store.watch(PODS, after_revision=0), 99))
        await asyncio.sleep(0.01)
        await store.close()
        assert [event.revision for event in await collected] == [1]

    run(scenario())


def test_fan_out_delivers_each_event_only_to_matching_watchers(backend: Backend) -> None:
    """Node-heartbeat shape: a thousand single-key watchers plus namespace and exact-key watchers."""
    nodes = 1000

    async def scenario() -> None:
        store: Store = backend.open()
        lease_prefix = "/registry/leases/kube-node-lease/"
        per_node = [store.watch(f"{lease_prefix}node-{index}/", after_revision=0) for index in range(nodes)]
        all_leases = store.watch(lease_prefix, after_revision=0)
        one_key = store.watch(f"{lease_prefix}node-7/lease", after_revision=0)  # a whole key
        partial = store.watch(f"{lease_prefix}node-99", after_revision=0)  # not on a slash boundary
        written = [f"{lease_prefix}node-{index}/lease" for index in range(nodes)]
        written += [f"{lease_prefix}node-{index}" for index in range(nodes)]
        partial_expected = sorted(key for key in written if key.startswith(f"{lease_prefix}node-99"))
        readers = [asyncio.ensure_future(_take(watch, 1)) for watch in per_node]
        all_reader = asyncio.ensure_future(_take(all_leases, 2 * nodes))
        one_reader = asyncio.ensure_future(_take(one_key, 1))
        partial_reader = asyncio.ensure_future(_take(partial, len(partial_expected)))
        await asyncio.sleep(0.05)
        await asyncio.gather(*(store.create(key, b"renew") for key in written))
        per_node_events = await asyncio.gather(*readers)
        for index, events in enumerate(per_node_events):
            assert [event.kv.key for event in events] == [f"{lease_prefix}node-{index}/lease"]
        # A misrouted event would sit in a node watcher's stream before its next own event.
        await asyncio.gather(
            *(store.create(f"{lease_prefix}node-{index}/end", b"") for index in range(nodes))
        )
        next_events = await asyncio.gather(*(_take(watch, 1) for watch in per_node))
        for index, events in enumerate(next_events):
            assert [event.kv.key for event in events] == [f"{lease_prefix}node-{index}/end"]
        assert len(await all_reader) == 2 * nodes
        assert [event.kv.key for event in await one_reader] == [f"{lease_prefix}node-7/lease"]
        assert sorted(event.kv.key for event in await partial_reader) == partial_expected
        assert len(partial_expected) == 22  # node-99, node-990..999, each bare and with /lease
        await store.close()

    run(scenario())
