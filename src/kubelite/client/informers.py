"""Shared informers: one list-and-watch per resource per process, a local cache with indexers, listers.

Data flow (client-go's reflector -> store -> handlers):

    list (paged) --> replace the cache --> watch from the list's resourceVersion --> apply each event
         ^                                        |  410 Gone: relist    | stream ends: re-watch
         +----------------------------------------+----------------------+

Every change to the cache is handed to the registered handlers as `on_add(obj)`,
`on_update(old, new)` or `on_delete(obj)`, synchronously and in watch order, so handlers must only
compute a key and enqueue it (the controller pattern). A relist diffs against the cache: objects
that vanished while the watch was down are delivered as deletes with their last known state (the
role client-go's `DeletedFinalStateUnknown` tombstone plays). Every `resync_period` seconds each
cached object is delivered again as `on_update(obj, obj)`, so level-triggered controllers repair
what an earlier sync missed.

`SharedInformerFactory` hands out one `SharedInformer` per `ResourceType`; all controllers in a
process share it, and its `Lister` answers `get(namespace, name)`, `list(namespace, selector)` and
index queries (by namespace, owner uid and node name) from memory, without calls to the server.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubelite.api.labels import Selector, parse_selector
from kubelite.api.resources import PODS, ResourceType
from kubelite.clock import Clock

from .client import ApiClient, Object
from .errors import ApiError, TransportError

log = logging.getLogger(__name__)

AddHandler = Callable[[Object], None]
UpdateHandler = Callable[[Object, Object], None]
DeleteHandler = Callable[[Object], None]
IndexFunc = Callable[[Object], Iterable[str]]

BY_NAMESPACE = "namespace"
BY_OWNER_UID = "owner-uid"
BY_NODE_NAME = "node-name"
BY_UID = "uid"


def meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """An object's metadata, or an empty mapping."""
    value = obj.get("metadata")
    return value if isinstance(value, dict) else {}


def object_key(obj: Mapping[str, Any]) -> str:
    """The cache key client-go uses: "namespace/name", or "name" for cluster-scoped objects."""
    metadata = meta(obj)
    namespace = metadata.get("namespace")
    name = str(metadata.get("name", ""))
    return f"{namespace}/{name}" if namespace else name


def split_key(key: str) -> tuple[str, str]:
    """(namespace, name) of a cache key; the namespace is "" for cluster-scoped objects."""
    namespace, _, name = key.rpartition("/")
    return namespace, name


def index_by_namespace(obj: Object) -> Iterable[str]:
    namespace = meta(obj).get("namespace")
    return (str(namespace),) if namespace else ()


def index_by_owner_uid(obj: Object) -> Iterable[str]:
    owners = meta(obj).get("ownerReferences") or []
    return tuple(str(owner["uid"]) for owner in owners if isinstance(owner, dict) and owner.get("uid"))


def index_by_uid(obj: Object) -> Iterable[str]:
    uid = meta(obj).get("uid")
    return (str(uid),) if uid else ()


def index_by_node_name(obj: Object) -> Iterable[str]:
    spec = obj.get("spec")
    node = spec.get("nodeName") if isinstance(spec, dict) else None
    return (str(node),) if node else ()


DEFAULT_INDEXERS: dict[str, IndexFunc] = {
    BY_NAMESPACE: index_by_namespace,
    BY_OWNER_UID: index_by_owner_uid,
    BY_UID: index_by_uid,
}


def strip_managed_fields(obj: Object) -> Object:
    """Drop `managedFields` before caching: controllers never read them and they double memory."""
    metadata = obj.get("metadata")
    if isinstance(metadata, dict) and "managedFields" in metadata:
        del metadata["managedFields"]
    return obj


class Indexer:
    """The cache: objects by key, plus secondary indexes from an index value to keys."""

    def __init__(self, indexers: Mapping[str, IndexFunc]) -> None:
        self._items: dict[str, Object] = {}
        self._index_funcs = dict(indexers)
        self._indexes: dict[str, dict[str, set[str]]] = {name: {} for name in indexers}

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> Object | None:
        return self._items.get(key)

    def add_index(self, name: str, func: IndexFunc) -> None:
        """Add a named index over the objects already held and those to come (once per name)."""
        if name in self._index_funcs:
            return
        self._index_funcs[name] = func
        self._indexes[name] = {}
        for key, obj in self._items.items():
            for value in func(obj):
                self._indexes[name].setdefault(value, set()).add(key)

    def snapshot_keys(self) -> list[str]:
        """The keys at this moment (a copy, safe to iterate while the cache changes)."""
        return list(self._items)

    def values(self) -> list[Object]:
        return list(self._items.values())

    def upsert(self, key: str, obj: Object) -> Object | None:
        """Store the object; returns the previous one."""
        old = self._items.get(key)
        if old is not None:
            self._unindex(key, old)
        self._items[key] = obj
        for name, func in self._index_funcs.items():
            index = self._indexes[name]
            for value in func(obj):
                index.setdefault(value, set()).add(key)
        return old

    def remove(self, key: str) -> Object | None:
        old = self._items.pop(key, None)
        if old is not None:
            self._unindex(key, old)
        return old

    def by_index(self, index_name: str, value: str) -> list[Object]:
        """Objects whose index function yields `value` (KeyError for an unknown index)."""
        keys = self._indexes[index_name].get(value, ())
        return [self._items[key] for key in sorted(keys)]

    def _unindex(self, key: str, obj: Object) -> None:
        for name, func in self._index_funcs.items():
            index = self._indexes[name]
            for value in func(obj):
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]


class Lister:
    """Read-only queries over an informer's cache (client-go's generated listers)."""

    def __init__(self, resource: ResourceType, indexer: Indexer) -> None:
        self.resource = resource
        self._indexer = indexer

    def get(self, namespace: str | None, name: str) -> Object | None:
        """One object, or None if the cache does not hold it."""
        key = f"{namespace}/{name}" if self.resource.namespaced and namespace else name
        return self._indexer.get(key)

    def list(self, namespace: str | None = None, selector: Selector | str | None = None) -> list[Object]:
        """Objects in a namespace (all namespaces if None) whose labels match the selector."""
        if isinstance(selector, str):
            selector = parse_selector(selector)
        if namespace and self.resource.namespaced:
            items = self._indexer.by_index(BY_NAMESPACE, namespace)
        else:
            items = self._indexer.values()
        if selector is None:
            return items
        return [obj for obj in items if selector.matches(meta(obj).get("labels") or {})]

    def by_index(self, index_name: str, value: str) -> builtins.list[Object]:
        return self._indexer.by_index(index_name, value)


@dataclass(frozen=True, slots=True)
class EventHandler:
    """The three callbacks one consumer registers; any may be None."""

    on_add: AddHandler | None = None
    on_update: UpdateHandler | None = None
    on_delete: DeleteHandler | None = None


@dataclass(slots=True)
class InformerStats:
    """Counters for benchmarks and metrics."""

    lists: int = 0
    watches: int = 0
    events: int = 0
    relists_after_gone: int = 0
    errors: int = 0
    last_resource_version: str = ""
    handler_errors: int = field(default=0)


async def cancel_and_wait(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel tasks and wait for them, cancelling again if one swallowed the cancellation
    (Python 3.11's `asyncio.wait_for` can, when its timeout and a cancel coincide)."""
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=1.0)


class SharedInformer:
    """List-and-watch one resource into an `Indexer` and fan changes out to handlers."""

    def __init__(
        self,
        client: ApiClient,
        resource: ResourceType,
        clock: Clock,
        *,
        resync_period: float = 0.0,
        indexers: Mapping[str, IndexFunc] | None = None,
        seed: int = 0,
        page_size: int = 500,
    ) -> None:
        self.client = client
        self.resource = resource
        self._clock = clock
        self.resync_period = resync_period
        self.indexer = Indexer(indexers if indexers is not None else DEFAULT_INDEXERS)
        self.lister = Lister(resource, self.indexer)
        self._handlers: list[EventHandler] = []
        self._synced = asyncio.Event()
        self._random = random.Random(seed)
        self._page_size = page_size
        self._resource_version = ""
        self.stats = InformerStats()

    def add_event_handler(
        self,
        on_add: AddHandler | None = None,
        on_update: UpdateHandler | None = None,
        on_delete: DeleteHandler | None = None,
    ) -> None:
        """Register callbacks; a handler added after sync first receives every cached object as an add."""
        handler = EventHandler(on_add, on_update, on_delete)
        self._handlers.append(handler)
        if handler.on_add is not None:
            for obj in self.indexer.values():
                handler.on_add(obj)

    def add_indexer(self, name: str, func: IndexFunc) -> None:
        """Add an index (for example by a label or a field) that listers can query."""
        self.indexer.add_index(name, func)

    def has_synced(self) -> bool:
        """True once the first list has been loaded into the cache."""
        return self._synced.is_set()

    async def wait_for_sync(self) -> None:
        await self._synced.wait()

    async def run(self, stop: asyncio.Event) -> None:
        """List and watch until `stop` is set."""
        tasks = [asyncio.create_task(self._list_and_watch_forever())]
        if self.resync_period > 0:
            tasks.append(asyncio.create_task(self._resync_forever()))
        try:
            await stop.wait()
        finally:
            await cancel_and_wait(tasks)

    async def _list_and_watch_forever(self) -> None:
        failures = 0
        while True:
            try:
                if not self._resource_version:
                    await self._relist()
                await self._watch()
                failures = 0
            except ApiError as error:
                if error.code == 410:
                    # The server compacted past our version: only a fresh list can resume.
                    self.stats.relists_after_gone += 1
                    self._resource_version = ""
                    continue
                failures += 1
                self.stats.errors += 1
                log.warning("%s list/watch failed: %s", self.resource.key, error)
            except TransportError as error:
                failures += 1
                self.stats.errors += 1
                log.warning("%s list/watch failed: %s", self.resource.key, error)
            except asyncio.CancelledError:
                raise
            except Exception:
                # A malformed event or a bug must not end the one watch every consumer shares.
                failures += 1
                self.stats.errors += 1
                log.exception("%s list/watch failed unexpectedly", self.resource.key)
            if failures:
                # client-go's reflector backs off 800 ms doubling to 30 s, with jitter.
                delay = min(30.0, 0.8 * 2 ** min(failures - 1, 6)) * (1 + 0.1 * self._random.random())
                await self._clock.sleep(delay)

    async def _relist(self) -> None:
        items, version = await self.client.list_all(self.resource, all_namespaces=True, limit=self._page_size)
        self.stats.lists += 1
        fresh = {object_key(obj): strip_managed_fields(obj) for obj in items}
        for key in self.indexer.snapshot_keys():
            if key not in fresh:
                old = self.indexer.remove(key)
                if old is not None:
                    self._dispatch_delete(old)
        for key, obj in fresh.items():
            old = self.indexer.upsert(key, obj)
            if old is None:
                self._dispatch_add(obj)
            elif meta(old).get("resourceVersion") != meta(obj).get("resourceVersion"):
                self._dispatch_update(old, obj)
        self._resource_version = version
        self.stats.last_resource_version = version
        self._synced.set()

    async def _watch(self) -> None:
        # client-go picks a random timeout between 5 and 10 minutes so that watches spread out.
        timeout = int(300 * (1 + self._random.random()))
        self.stats.watches += 1
        stream = self.client.watch(
            self.resource,
            all_namespaces=True,
            resource_version=self._resource_version,
            timeout_seconds=timeout,
        )
        async for event_type, obj in stream:
            self.apply(event_type, obj)

    def apply(self, event_type: str, obj: Object) -> None:
        """Apply one watch event to the cache and notify handlers."""
        version = str(meta(obj).get("resourceVersion", ""))
        if event_type == "BOOKMARK":
            self._resource_version = version or self._resource_version
            return
        self.stats.events += 1
        key = object_key(obj)
        if event_type in ("ADDED", "MODIFIED"):
            obj = strip_managed_fields(obj)
            old = self.indexer.upsert(key, obj)
            if old is None:
                self._dispatch_add(obj)
            else:
                self._dispatch_update(old, obj)
        elif event_type == "DELETED":
            self.indexer.remove(key)
            # The DELETED event carries the object's final state, newer than the cached copy.
            self._dispatch_delete(obj)
        if version:
            self._resource_version = version
            self.stats.last_resource_version = version

    async def _resync_forever(self) -> None:
        while True:
            await self._clock.sleep(self.resync_period)
            for obj in self.indexer.values():
                self._dispatch_update(obj, obj)

    def _dispatch_add(self, obj: Object) -> None:
        for handler in self._handlers:
            if handler.on_add is not None:
                self._call(handler.on_add, obj)

    def _dispatch_update(self, old: Object, new: Object) -> None:
        for handler in self._handlers:
            if handler.on_update is not None:
                self._call(handler.on_update, old, new)

    def _dispatch_delete(self, obj: Object) -> None:
        for handler in self._handlers:
            if handler.on_delete is not None:
                self._call(handler.on_delete, obj)

    def _call(self, callback: Callable[..., None], *args: Object) -> None:
        # One consumer's bug must not stop the watch that every other consumer shares.
        try:
            callback(*args)
        except Exception:
            self.stats.handler_errors += 1
            log.exception("%s event handler failed", self.resource.key)


class SharedInformerFactory:
    """One `SharedInformer` per resource type for a whole process; start them all with `start`."""

    def __init__(self, client: ApiClient, clock: Clock, *, resync_period: float = 0.0, seed: int = 0) -> None:
        self.client = client
        self._clock = clock
        self.resync_period = resync_period
        self._seed = seed
        self._informers: dict[str, SharedInformer] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stop: asyncio.Event | None = None

    def informer(self, resource: ResourceType) -> SharedInformer:
        """The process's informer for a resource, created on first use (pods also index by node)."""
        informer = self._informers.get(resource.key)
        if informer is None:
            indexers = dict(DEFAULT_INDEXERS)
            if resource == PODS:
                indexers[BY_NODE_NAME] = index_by_node_name
            informer = SharedInformer(
                self.client,
                resource,
                self._clock,
                resync_period=self.resync_period,
                indexers=indexers,
                seed=self._seed + len(self._informers),
            )
            self._informers[resource.key] = informer
            if self._stop is not None:
                self._launch(informer, self._stop)
        return informer

    def lister(self, resource: ResourceType) -> Lister:
        return self.informer(resource).lister

    def start(self, stop: asyncio.Event) -> None:
        """Start every informer requested so far (and, from now on, each one as it is requested)."""
        self._stop = stop
        for informer in self._informers.values():
            self._launch(informer, stop)

    def _launch(self, informer: SharedInformer, stop: asyncio.Event) -> None:
        if informer.resource.key not in self._tasks:
            self._tasks[informer.resource.key] = asyncio.create_task(informer.run(stop))

    def has_synced(self) -> bool:
        return all(informer.has_synced() for informer in self._informers.values())

    async def wait_for_sync(self) -> None:
        """Wait until every started informer has loaded its first list."""
        await asyncio.gather(*(informer.wait_for_sync() for informer in self._informers.values()))

    async def shutdown(self) -> None:
        """Wait for the informers to finish after `stop` was set."""
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
