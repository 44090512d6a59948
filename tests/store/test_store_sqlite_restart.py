"""SQLite: a restart on the same file recovers data, history, revisions; one process per file."""

from __future__ import annotations

from pathlib import Path

import pytest
from store_helpers import run

from kubelite.store import KeyValue, SQLiteStore, StoreError, WatchEvent

PODS = "/registry/pods/"


async def _write_history(store: SQLiteStore) -> None:
    await store.create(f"{PODS}default/a", b"a1")  # 1
    await store.create(f"{PODS}default/b", b"b1")  # 2
    await store.update(f"{PODS}default/a", b"a2", expected_revision=1)  # 3
    await store.delete(f"{PODS}default/b")  # 4
    await store.create(f"{PODS}default/c", b"c1")  # 5
    await store.compact(2)
    await store.delete(f"{PODS}default/c")  # 6, the newest revision is a tombstone


async def _history(store: SQLiteStore, after_revision: int) -> list[WatchEvent]:
    events: list[WatchEvent] = []
    async for event in store.watch(PODS, after_revision=after_revision):
        events.append(event)
        if event.revision == 6:
            break
    return events


def test_restart_recovers_revisions_data_and_history(tmp_path: Path) -> None:
    path = tmp_path / "store.db"

    async def before_restart() -> list[WatchEvent]:
        store = SQLiteStore(path)
        await _write_history(store)
        events = await _history(store, after_revision=2)
        await store.close()
        return events

    async def after_restart(expected_events: list[WatchEvent]) -> None:
        store = SQLiteStore(path)
        assert (store.revision, store.compacted_revision) == (6, 2)
        assert await store.get(f"{PODS}default/a") == KeyValue(f"{PODS}default/a", b"a2", 1, 3)
        assert await store.get(f"{PODS}default/c") is None
        assert [item.key for item in (await store.list(PODS, revision=5)).items] == [
            f"{PODS}default/a",
            f"{PODS}default/c",
        ]
        assert await _history(store, after_revision=2) == expected_events
        created = await store.create(f"{PODS}default/d", b"d1")
        assert created.mod_revision == 7, "the revision counter continues where it stopped"
        await store.close()

    events = run(before_restart())
    assert [event.revision for event in events] == [3, 4, 5, 6]
    run(after_restart(events))


def test_second_process_cannot_open_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "store.db"

    async def scenario() -> None:
        first = SQLiteStore(path)
        with pytest.raises(StoreError, match="another process"):
            SQLiteStore(path)
        await first.close()
        reopened = SQLiteStore(path)  # free again once the first one is closed
        await reopened.close()

    run(scenario())
