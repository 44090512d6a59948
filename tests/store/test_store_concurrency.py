"""Many concurrent writers: conditional updates lose nothing, and batch-mates fail independently."""

from __future__ import annotations

import asyncio
from pathlib import Path

from store_helpers import Backend, run

from kubelite.store import (
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    RevisionConflictError,
    SQLiteStore,
)

COUNTERS = [f"/registry/configmaps/default/counter-{index}" for index in range(4)]


def test_concurrent_read_modify_write_loses_no_update(backend: Backend) -> None:
    writers, increments_per_writer = 64, 10

    async def scenario() -> None:
        store = backend.open()
        for key in COUNTERS:
            await store.create(key, b"0")

        async def increment(key: str) -> int:
            conflicts = 0
            while True:
                current = await store.get(key)
                assert current is not None
                await asyncio.sleep(0)  # yield between read and write, as a real controller does
                try:
                    await store.update(
                        key, str(int(current.value) + 1).encode(), expected_revision=current.mod_revision
                    )
                    return conflicts
                except RevisionConflictError:
                    conflicts += 1

        async def writer(writer_index: int) -> int:
            key = COUNTERS[writer_index % len(COUNTERS)]
            return sum([await increment(key) for _ in range(increments_per_writer)])

        conflicts = await asyncio.gather(*(writer(index) for index in range(writers)))
        totals = [int((await store.get(key) or KeyValue(key, b"-1", 0, 0)).value) for key in COUNTERS]
        assert totals == [writers * increments_per_writer // len(COUNTERS)] * len(COUNTERS)
        assert sum(conflicts) > 0, "the writers should have contended"
        assert store.revision == len(COUNTERS) + writers * increments_per_writer
        await store.close()

    run(scenario())


def test_operations_queued_together_see_each_other_and_fail_alone(backend: Backend) -> None:
    key = "/registry/pods/default/web"

    async def scenario() -> None:
        store = backend.open()
        seeded = await store.create(key, b"v1")
        # Queued in this order within one loop turn: on SQLite they share a transaction.
        outcomes = await asyncio.gather(
            store.update(key, b"v2", expected_revision=seeded.mod_revision),
            store.update(key, b"lost", expected_revision=seeded.mod_revision),
            store.create(key, b"duplicate"),
            store.delete("/registry/pods/default/missing"),
            store.delete(key, expected_revision=2),
            store.create(key, b"v3"),
            return_exceptions=True,
        )
        assert outcomes[0] == KeyValue(key, b"v2", 1, 2)
        assert isinstance(outcomes[1], RevisionConflictError) and outcomes[1].actual == 2
        assert isinstance(outcomes[2], KeyExistsError)
        assert isinstance(outcomes[3], KeyNotFoundError)
        assert outcomes[4] == KeyValue(key, b"v2", 1, 3)
        assert outcomes[5] == KeyValue(key, b"v3", 4, 4)
        assert await store.get(key) == KeyValue(key, b"v3", 4, 4)
        await store.close()

    run(scenario())


def test_sqlite_group_commit_batches_concurrent_writers(tmp_path: Path) -> None:
    writes = 2000

    async def scenario() -> None:
        store = SQLiteStore(tmp_path / "store.db")
        await asyncio.gather(*(store.create(f"/registry/pods/ns/p{index}", b"x") for index in range(writes)))
        statistics = store.write_statistics
        assert statistics.operations == writes
        assert statistics.transactions < writes / 10, statistics
        await store.close()

    run(scenario())


def test_close_drains_pending_writes(backend: Backend) -> None:
    writes = 500

    async def scenario() -> None:
        store = backend.open()
        pending = [
            asyncio.ensure_future(store.create(f"/registry/pods/ns/p{index}", b"x"))
            for index in range(writes)
        ]
        await asyncio.sleep(0)  # every create is queued
        await store.close()
        assert all(task.done() and task.exception() is None for task in pending)
        assert store.revision == writes

    run(scenario())
    if backend.name == "sqlite":

        async def reopened() -> int:
            store = backend.open()
            count = len((await store.list("/registry/pods/")).items)
            await store.close()
            return count

        assert run(reopened()) == writes
