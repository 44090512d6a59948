"""The watch cache: the API server's in-memory view of the store, kept current by one store watch.

Reads (GET, LIST) and every client watch are served from here, so the store sees each change once
however many clients watch it. Each object is kept both decoded (for selectors and tables) and as
its final serialised bytes with `resourceVersion` filled in, so a GET writes cached bytes and a watch
event is framed by concatenation, never re-encoded per watcher.

Data flow: store.watch("/registry/") -> `_apply` -> per-resource object maps + a bounded history of
events -> fan-out to each `Watcher` whose filter matches (old-vs-new matching turns label changes into
ADDED/DELETED exactly as Kubernetes does).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec

from kubelite.store.interface import CompactedError, KeyValue, Store, WatchEvent

log = logging.getLogger(__name__)

REGISTRY_PREFIX = "/registry/"
EventType = Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]


@dataclass(slots=True)
class CachedObject:
    """An object as served: decoded, and serialised with its resourceVersion."""

    key: str
    obj: dict[str, Any]
    raw: bytes
    revision: int


@dataclass(slots=True)
class CacheEvent:
    """A change applied to the cache. `prev` is the state before it (None on creation)."""

    type: EventType
    resource_key: str
    revision: int
    current: CachedObject
    prev: CachedObject | None


Filter = Callable[[dict[str, Any]], bool]


@dataclass(slots=True, eq=False)
class Watcher:
    """One client watch: a resource, an optional namespace and name, and a match filter."""

    resource_key: str
    namespace: str | None
    matches: Filter
    queue: asyncio.Queue[tuple[EventType, CachedObject] | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=10_000)
    )
    overflowed: bool = False


def resource_key_of(store_key: str) -> str:
    """ "/registry/pods/ns/name" -> "pods"; "/registry/deployments.apps/ns/name" -> "deployments.apps"."""
    return store_key[len(REGISTRY_PREFIX) :].split("/", 1)[0]


def namespace_of(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata")
    return str(metadata.get("namespace", "")) if isinstance(metadata, dict) else ""


def frame(event_type: EventType, raw: bytes) -> bytes:
    """One watch event on the wire: a JSON object per line."""
    return b'{"type":"' + event_type.encode() + b'","object":' + raw + b"}\n"


class WatchCache:
    """Keeps every resource's current objects and recent history, and fans out changes."""

    def __init__(self, store: Store, *, history_size: int = 100_000) -> None:
        self._store = store
        self._objects: dict[str, dict[str, CachedObject]] = {}
        self._history: deque[CacheEvent] = deque(maxlen=history_size)
        self._watchers: dict[str, set[Watcher]] = {}
        self._revision = 0
        self._oldest_servable = 0
        self._advanced = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._decoder = msgspec.json.Decoder(dict[str, Any])
        self._encoder = msgspec.json.Encoder()

    @property
    def revision(self) -> int:
        return self._revision

    def cache_object(self, kv: KeyValue) -> CachedObject:
        """Decode a stored value and serialise it with its resourceVersion."""
        obj = self._decoder.decode(kv.value)
        metadata = obj.setdefault("metadata", {})
        metadata["resourceVersion"] = str(kv.mod_revision)
        return CachedObject(kv.key, obj, self._encoder.encode(obj), kv.mod_revision)

    async def start(self) -> None:
        """Load the current state, then follow the store from that revision on."""
        start_key: str | None = None
        revision = 0
        while True:
            page = await self._store.list(REGISTRY_PREFIX, limit=5000, start_key=start_key, revision=revision)
            revision = page.revision
            for kv in page.items:
                self._objects.setdefault(resource_key_of(kv.key), {})[kv.key] = self.cache_object(kv)
            if not page.more or not page.items:
                break
            start_key = page.items[-1].key + "\x00"
        self._revision = revision
        self._oldest_servable = revision
        self._task = asyncio.get_running_loop().create_task(self._follow(revision))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for watchers in self._watchers.values():
            for watcher in watchers:
                with contextlib.suppress(asyncio.QueueFull):
                    watcher.queue.put_nowait(None)

    async def _follow(self, after: int) -> None:
        while True:
            try:
                async for event in self._store.watch(REGISTRY_PREFIX, after_revision=after):
                    self._apply(event)
                    after = event.revision
                    async with self._advanced:
                        self._advanced.notify_all()
            except asyncio.CancelledError:
                raise
            except CompactedError:
                log.error("watch cache fell behind compaction at revision %d; reloading", after)
                raise
            except Exception:
                log.exception("store watch failed; resuming from revision %d", after)
                await asyncio.sleep(0.1)

    def _apply(self, event: WatchEvent) -> None:
        resource_key = resource_key_of(event.kv.key)
        objects = self._objects.setdefault(resource_key, {})
        prev = objects.get(event.kv.key)
        current = self.cache_object(event.kv)
        if event.type == "DELETE":
            objects.pop(event.kv.key, None)
            change = CacheEvent("DELETED", resource_key, event.revision, current, prev)
        else:
            objects[event.kv.key] = current
            change = CacheEvent(
                "MODIFIED" if prev is not None else "ADDED", resource_key, event.revision, current, prev
            )
        if len(self._history) == self._history.maxlen:
            self._oldest_servable = self._history[0].revision
        self._history.append(change)
        self._revision = event.revision
        self._dispatch(change)

    def _dispatch(self, change: CacheEvent) -> None:
        watchers = self._watchers.get(change.resource_key)
        if not watchers:
            return
        for watcher in list(watchers):
            message = _event_for(watcher, change)
            if message is None:
                continue
            try:
                watcher.queue.put_nowait(message)
            except asyncio.QueueFull:
                # A watcher that cannot keep up is closed, as Kubernetes does; it relists and resumes.
                watcher.overflowed = True
                watchers.discard(watcher)
                with contextlib.suppress(asyncio.QueueFull):
                    watcher.queue.put_nowait(None)

    async def wait_for(self, revision: int, timeout: float = 3.0) -> bool:
        """Wait until the cache has applied `revision` (a consistent read); False on timeout."""
        if self._revision >= revision:
            return True
        async with self._advanced:
            try:
                await asyncio.wait_for(self._advanced.wait_for(lambda: self._revision >= revision), timeout)
            except TimeoutError:
                return False
        return True

    def get(self, store_key: str) -> CachedObject | None:
        return self._objects.get(resource_key_of(store_key), {}).get(store_key)

    def list(self, resource_key: str, namespace: str | None) -> list[CachedObject]:
        """All cached objects of a resource (in one namespace, if given), in key order."""
        objects = self._objects.get(resource_key, {})
        if namespace is None:
            items = list(objects.values())
        else:
            prefix = f"{REGISTRY_PREFIX}{resource_key}/{namespace}/"
            items = [item for key, item in objects.items() if key.startswith(prefix)]
        items.sort(key=lambda item: item.key)
        return items

    def count(self, resource_key: str) -> int:
        return len(self._objects.get(resource_key, {}))

    def subscribe(self, watcher: Watcher, after_revision: int | None) -> None:
        """Register a watcher and queue the events it missed since `after_revision`.

        `after_revision` None means "current state first": synthetic ADDED events for every
        matching object. Raises `CompactedError` when the history no longer reaches back that far.
        """
        if after_revision is None:
            for item in self.list(watcher.resource_key, watcher.namespace):
                if watcher.matches(item.obj):
                    watcher.queue.put_nowait(("ADDED", item))
        else:
            if after_revision < self._oldest_servable:
                raise CompactedError(after_revision, self._oldest_servable)
            for change in self._history:
                if change.revision > after_revision and change.resource_key == watcher.resource_key:
                    message = _event_for(watcher, change)
                    if message is not None:
                        watcher.queue.put_nowait(message)
        self._watchers.setdefault(watcher.resource_key, set()).add(watcher)

    def unsubscribe(self, watcher: Watcher) -> None:
        watchers = self._watchers.get(watcher.resource_key)
        if watchers is not None:
            watchers.discard(watcher)

    def watcher_count(self) -> int:
        return sum(len(watchers) for watchers in self._watchers.values())


def _event_for(watcher: Watcher, change: CacheEvent) -> tuple[EventType, CachedObject] | None:
    """What this watcher should see of a change, given its namespace and filter."""
    if watcher.namespace is not None and namespace_of(change.current.obj) != watcher.namespace:
        return None
    now_matches = watcher.matches(change.current.obj)
    if change.type == "DELETED":
        was = change.prev is not None and watcher.matches(change.prev.obj)
        return ("DELETED", change.current) if was or now_matches else None
    was_matching = change.prev is not None and watcher.matches(change.prev.obj)
    if now_matches and was_matching:
        return ("MODIFIED", change.current)
    if now_matches:
        return ("ADDED", change.current)
    if was_matching:
        return ("DELETED", change.current)
    return None
