"""`MemoryStore`: the whole store in process memory, for tests and the simulator.

Data flow: every write runs to completion on the event loop without awaiting, so writes are
atomic and totally ordered for free. A write updates three structures and then publishes its
event to the `WatchHub`:

- `_current`: key -> current `KeyValue` (gets are one dict lookup);
- `_sorted_keys`: the current keys in order, kept with `bisect`, for prefix and paged lists;
- `_log`: one `WatchEvent` per revision since the compacted revision. It is both the watch
  history and the MVCC history: the state at a past revision R is the current state with the
  events after R undone (each event carries the value it replaced), the way a log-structured
  store rolls back. Compaction at R simply drops the log up to R.

A list at a past revision therefore costs O(keys returned + events since R); paged lists read at
a recent revision, so that stays small.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import AsyncIterator

from kubelite.store.interface import (
    CompactedError,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    ListResult,
    RevisionConflictError,
    WatchEvent,
)
from kubelite.store.keys import lowest_key_in_range, prefix_range_end
from kubelite.store.watch import WatchHub, watch_stream


class MemoryStore:
    """A revisioned key-value store with MVCC history and watch, held in memory."""

    def __init__(self) -> None:
        self._revision = 0
        self._compacted_revision = 0
        self._current: dict[str, KeyValue] = {}
        self._sorted_keys: list[str] = []
        # _log[i] is the event at revision _compacted_revision + 1 + i.
        self._log: list[WatchEvent] = []
        self._hub = WatchHub()

    @property
    def revision(self) -> int:
        return self._revision

    @property
    def compacted_revision(self) -> int:
        return self._compacted_revision

    async def get(self, key: str) -> KeyValue | None:
        return self._current.get(key)

    async def list(
        self, prefix: str, *, limit: int = 0, start_key: str | None = None, revision: int = 0
    ) -> ListResult:
        if 0 < revision < self._compacted_revision:
            raise CompactedError(revision, self._compacted_revision)
        low = lowest_key_in_range(prefix, start_key)
        high = prefix_range_end(prefix)
        if revision <= 0 or revision >= self._revision:
            return self._list_current(low, high, limit)
        return self._list_at(low, high, limit, revision)

    def _list_current(self, low: str, high: str | None, limit: int) -> ListResult:
        keys = self._sorted_keys
        begin = bisect.bisect_left(keys, low)
        end = len(keys) if high is None else bisect.bisect_left(keys, high, begin)
        stop = end if limit <= 0 else min(end, begin + limit)
        items = [self._current[key] for key in keys[begin:stop]]
        return ListResult(items=items, revision=self._revision, more=stop < end)

    def _list_at(self, low: str, high: str | None, limit: int, revision: int) -> ListResult:
        # Undo, newest first, every in-range change made after `revision`; what remains for each
        # touched key is its value as of `revision` (None: it did not exist then).
        rolled_back: dict[str, KeyValue | None] = {}
        for event in reversed(self._log[revision - self._compacted_revision :]):
            key = event.kv.key
            if key >= low and (high is None or key < high):
                rolled_back[key] = event.prev
        current_keys = self._sorted_keys
        begin = bisect.bisect_left(current_keys, low)
        end = len(current_keys) if high is None else bisect.bisect_left(current_keys, high, begin)
        # Merge the two sorted key streams lazily so that a small page stays cheap on a big range.
        candidates = heapq.merge((current_keys[i] for i in range(begin, end)), sorted(rolled_back))
        items: list[KeyValue] = []
        more = False
        previous_key: str | None = None
        for key in candidates:
            if key == previous_key:
                continue
            previous_key = key
            value = rolled_back[key] if key in rolled_back else self._current[key]
            if value is None:
                continue
            if 0 < limit <= len(items):
                more = True
                break
            items.append(value)
        return ListResult(items=items, revision=revision, more=more)

    async def create(self, key: str, value: bytes) -> KeyValue:
        if key in self._current:
            raise KeyExistsError(key)
        revision = self._revision + 1
        created = KeyValue(key=key, value=value, create_revision=revision, mod_revision=revision)
        bisect.insort(self._sorted_keys, key)
        self._commit(WatchEvent(type="PUT", kv=created, prev=None))
        return created

    async def update(self, key: str, value: bytes, *, expected_revision: int | None = None) -> KeyValue:
        previous = self._checked_current(key, expected_revision)
        updated = KeyValue(
            key=key,
            value=value,
            create_revision=previous.create_revision,
            mod_revision=self._revision + 1,
        )
        self._commit(WatchEvent(type="PUT", kv=updated, prev=previous))
        return updated

    async def delete(self, key: str, *, expected_revision: int | None = None) -> KeyValue:
        previous = self._checked_current(key, expected_revision)
        tombstone = KeyValue(
            key=key,
            value=previous.value,
            create_revision=previous.create_revision,
            mod_revision=self._revision + 1,
        )
        position = bisect.bisect_left(self._sorted_keys, key)
        del self._sorted_keys[position]
        self._commit(WatchEvent(type="DELETE", kv=tombstone, prev=previous))
        return tombstone

    def _checked_current(self, key: str, expected_revision: int | None) -> KeyValue:
        current = self._current.get(key)
        if current is None:
            raise KeyNotFoundError(key)
        if expected_revision is not None and current.mod_revision != expected_revision:
            raise RevisionConflictError(key, expected_revision, current.mod_revision)
        return current

    def _commit(self, event: WatchEvent) -> None:
        self._revision = event.revision
        if event.type == "PUT":
            self._current[event.kv.key] = event.kv
        else:
            del self._current[event.kv.key]
        self._log.append(event)
        self._hub.publish(event)

    def watch(self, prefix: str, *, after_revision: int) -> AsyncIterator[WatchEvent]:
        return watch_stream(
            self._hub,
            prefix,
            after_revision,
            read_history=self._read_history,
            compacted_revision=lambda: self._compacted_revision,
        )

    async def _read_history(self, prefix: str, after_revision: int, up_to: int) -> AsyncIterator[WatchEvent]:
        # Copy the window first: the log may grow (or be compacted) while the watcher is suspended.
        window = self._log[after_revision - self._compacted_revision : up_to - self._compacted_revision]
        for event in window:
            if event.kv.key.startswith(prefix):
                yield event

    async def compact(self, revision: int) -> None:
        target = min(revision, self._revision)
        if target <= self._compacted_revision:
            return
        del self._log[: target - self._compacted_revision]
        self._compacted_revision = target

    async def close(self) -> None:
        self._hub.close()
