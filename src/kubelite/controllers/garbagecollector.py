"""The garbage collector: deletes objects whose owners are gone, and runs cascading deletion.

Data flow, after kube-controller-manager's `pkg/controller/garbagecollector`: shared informers on
every served resource except Events keep the ownership graph (the owner-uid and uid indexes of the
informer caches). Handlers enqueue an object when it gains or loses owners, when it is being
deleted with the `orphan` or `foregroundDeletion` finalizer, and, when it disappears, its
dependents and its owners. A worker then syncs one object:

- **dependent** (it has ownerReferences and is not being deleted): classify each owner as *solid*
  (exists with that uid and is not in foreground deletion), *waiting* (in foreground deletion) or
  *dangling* (absent, or its uid differs; a cache miss is confirmed with a live GET, since a
  dependent may be seen before its owner). With a solid owner, dangling and waiting references are
  removed from the object; with no solid owner it is deleted — with Foreground propagation when a
  waiting owner needs its own dependents gone first, otherwise with the policy its finalizers ask for.
- **Background** deletion is therefore the API server removing the owner at once, after which its
  dependents dangle and are deleted.
- **Foreground** (`foregroundDeletion` finalizer on the owner): every dependent is deleted; once
  no dependent with `blockOwnerDeletion: true` remains, the finalizer is removed and the owner goes.
- **Orphan** (`orphan` finalizer): the owner's reference is removed from every dependent, then the
  finalizer, so the dependents outlive it.

Writes carry resourceVersion or uid preconditions, so a sync racing another writer retries
instead of overwriting.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Literal

from kubelite.api.resources import EVENTS, RESOURCE_TYPES, ResourceType, by_key, by_kind
from kubelite.client import ApiClient, ApiError, Object
from kubelite.client.informers import BY_OWNER_UID, BY_UID, SharedInformer, meta
from kubelite.client.workqueue import RateLimitingQueue

from .base import DONE, ControllerContext, SyncOutcome, run_workers

log = logging.getLogger(__name__)

ORPHAN_FINALIZER = "orphan"
FOREGROUND_FINALIZER = "foregroundDeletion"
NAME = "garbagecollector"

OwnerState = Literal["solid", "waiting", "dangling"]


def item_key(resource: ResourceType, obj: Object) -> str:
    """The queue key of one object: resource, namespace, name and uid (a new uid is a new object)."""
    metadata = meta(obj)
    return "|".join(
        (
            resource.key,
            str(metadata.get("namespace") or ""),
            str(metadata.get("name")),
            str(metadata.get("uid")),
        )
    )


def finalizers(obj: Object) -> list[str]:
    return [str(f) for f in meta(obj).get("finalizers") or []]


def owner_references(obj: Object) -> list[dict[str, Any]]:
    return [ref for ref in meta(obj).get("ownerReferences") or [] if isinstance(ref, dict)]


def deletion_policy(obj: Object) -> str:
    """The propagation an object's own finalizers ask for when the collector deletes it."""
    if ORPHAN_FINALIZER in finalizers(obj):
        return "Orphan"
    if FOREGROUND_FINALIZER in finalizers(obj):
        return "Foreground"
    return "Background"


class GarbageCollector:
    """The `garbagecollector` controller."""

    name = NAME

    def __init__(self, context: ControllerContext) -> None:
        self._client: ApiClient = context.client
        self._recorder = context.recorder
        self.queue: RateLimitingQueue[str] = RateLimitingQueue(context.clock, name=NAME)
        self._informers: dict[str, SharedInformer] = {}
        for resource in RESOURCE_TYPES:
            if resource == EVENTS or not resource.listable:
                continue  # Events are never owners nor, in practice, dependents; they churn most.
            informer = context.informers.informer(resource)
            self._informers[resource.key] = informer
            self._watch(informer)

    def _watch(self, informer: SharedInformer) -> None:
        resource = informer.resource
        informer.add_event_handler(
            lambda obj: self._on_add(resource, obj),
            lambda old, new: self._on_update(resource, old, new),
            lambda obj: self._on_delete(resource, obj),
        )

    async def run(self, workers: int, stop: asyncio.Event) -> None:
        await run_workers(NAME, self.queue, self.sync, workers, stop)

    # --- event handlers: compute keys, enqueue, nothing else -------------------------------------

    def _on_add(self, resource: ResourceType, obj: Object) -> None:
        if owner_references(obj) or self._deleting_with_gc_finalizer(obj):
            self.queue.add(item_key(resource, obj))

    def _on_update(self, resource: ResourceType, old: Object, new: Object) -> None:
        if self._deleting_with_gc_finalizer(new) or owner_references(old) != owner_references(new):
            self.queue.add(item_key(resource, new))
        if owner_references(old) != owner_references(new):
            # An owner in foreground deletion may have just lost a blocking dependent.
            self._enqueue_owners(old)

    def _on_delete(self, resource: ResourceType, obj: Object) -> None:
        uid = str(meta(obj).get("uid") or "")
        for informer in self._informers.values():
            for dependent in informer.lister.by_index(BY_OWNER_UID, uid):
                self.queue.add(item_key(informer.resource, dependent))
        self._enqueue_owners(obj)

    def _enqueue_owners(self, obj: Object) -> None:
        for ref in owner_references(obj):
            for resource, owner in self._cached_by_uid(str(ref.get("uid", ""))):
                self.queue.add(item_key(resource, owner))

    @staticmethod
    def _deleting_with_gc_finalizer(obj: Object) -> bool:
        if not meta(obj).get("deletionTimestamp"):
            return False
        held = finalizers(obj)
        return ORPHAN_FINALIZER in held or FOREGROUND_FINALIZER in held

    # --- sync -------------------------------------------------------------------------------------

    async def sync(self, key: str) -> SyncOutcome:
        resource_key, namespace, name, uid = key.split("|")
        resource = by_key(resource_key)
        informer = self._informers.get(resource_key)
        if resource is None or informer is None:
            return DONE
        obj = informer.lister.get(namespace or None, name)
        if obj is None or meta(obj).get("uid") != uid:
            return DONE  # gone already; a new object of that name is a different item
        if meta(obj).get("deletionTimestamp"):
            held = finalizers(obj)
            if ORPHAN_FINALIZER in held:
                return await self._orphan_dependents(resource, obj)
            if FOREGROUND_FINALIZER in held:
                return await self._process_deleting_dependents(resource, obj)
            return DONE
        if owner_references(obj):
            return await self._attempt_to_delete(resource, obj)
        return DONE

    async def _attempt_to_delete(self, resource: ResourceType, obj: Object) -> SyncOutcome:
        classified: dict[OwnerState, list[dict[str, Any]]] = {"solid": [], "waiting": [], "dangling": []}
        for ref in owner_references(obj):
            classified[await self._owner_state(obj, ref)].append(ref)
        metadata = meta(obj)
        if classified["solid"]:
            stale = {str(ref.get("uid")) for ref in classified["dangling"] + classified["waiting"]}
            if stale:
                kept = [ref for ref in owner_references(obj) if str(ref.get("uid")) not in stale]
                await self._set_owner_references(resource, obj, kept)
            return DONE
        # A waiting (foreground) owner needs this object's own dependents gone before it.
        needs_foreground = bool(classified["waiting"]) and bool(self._dependents(obj))
        policy = "Foreground" if needs_foreground else deletion_policy(obj)
        log.info(
            "deleting %s %s/%s (%s): its owners are gone",
            resource.kind,
            metadata.get("namespace"),
            metadata.get("name"),
            policy,
        )
        await self._delete(resource, obj, policy)
        return DONE

    async def _owner_state(self, dependent: Object, ref: dict[str, Any]) -> OwnerState:
        owner_resource = by_kind(str(ref.get("apiVersion", "")), str(ref.get("kind", "")))
        if owner_resource is None:
            return "solid"  # a kind this collector cannot see: never delete on a guess
        namespace = str(meta(dependent).get("namespace") or "") if owner_resource.namespaced else None
        if owner_resource.namespaced and not namespace:
            return "dangling"  # a cluster-scoped object cannot be owned by a namespaced one
        informer = self._informers.get(owner_resource.key)
        owner = informer.lister.get(namespace, str(ref.get("name"))) if informer is not None else None
        if owner is None or meta(owner).get("uid") != ref.get("uid"):
            # The cache may lag behind the dependent's informer: ask the server before deleting.
            try:
                owner = await self._client.get(owner_resource, str(ref.get("name")), namespace)
            except ApiError as error:
                if error.code == 404:
                    return "dangling"
                raise
        if meta(owner).get("uid") != ref.get("uid"):
            return "dangling"
        if meta(owner).get("deletionTimestamp") and FOREGROUND_FINALIZER in finalizers(owner):
            return "waiting"
        return "solid"

    async def _process_deleting_dependents(self, resource: ResourceType, owner: Object) -> SyncOutcome:
        uid = str(meta(owner).get("uid"))
        dependents = self._dependents(owner)
        blocking = [
            (dep_resource, dependent)
            for dep_resource, dependent in dependents
            if any(
                ref.get("uid") == uid and ref.get("blockOwnerDeletion") for ref in owner_references(dependent)
            )
        ]
        if not blocking:
            # Watches of different resources are not ordered with each other, so a dependent
            # created just before the owner's deletion may not be cached yet: ask the server.
            blocking = await self._live_dependents(owner, blocking_only=True)
        if not blocking:
            await self._remove_finalizer(resource, owner, FOREGROUND_FINALIZER)
            return DONE
        for dep_resource, dependent in dependents:
            if not meta(dependent).get("deletionTimestamp"):
                self.queue.add(item_key(dep_resource, dependent))
        return DONE  # re-enqueued when a dependent goes (`_on_delete` enqueues its owners)

    async def _orphan_dependents(self, resource: ResourceType, owner: Object) -> SyncOutcome:
        uid = str(meta(owner).get("uid"))
        # From the server, not the cache: a dependent the cache has not seen yet would otherwise
        # keep a reference to an owner that is gone, and be collected instead of orphaned.
        for dep_resource, dependent in await self._live_dependents(owner, blocking_only=False):
            kept = [ref for ref in owner_references(dependent) if ref.get("uid") != uid]
            await self._set_owner_references(dep_resource, dependent, kept)
        await self._remove_finalizer(resource, owner, ORPHAN_FINALIZER)
        return DONE

    # --- reads and writes -------------------------------------------------------------------------

    def _dependents(self, owner: Object) -> list[tuple[ResourceType, Object]]:
        uid = str(meta(owner).get("uid") or "")
        return [
            (informer.resource, dependent)
            for informer in self._informers.values()
            for dependent in informer.lister.by_index(BY_OWNER_UID, uid)
        ]

    async def _live_dependents(
        self, owner: Object, *, blocking_only: bool
    ) -> list[tuple[ResourceType, Object]]:
        """Dependents as the server has them now (for decisions a lagging cache must not make)."""
        uid = str(meta(owner).get("uid"))
        namespace = meta(owner).get("namespace")
        found: list[tuple[ResourceType, Object]] = []
        for informer in self._informers.values():
            if namespace and not informer.resource.namespaced:
                continue  # a cluster-scoped object cannot depend on a namespaced owner
            items, _ = await self._client.list_all(
                informer.resource, namespace, all_namespaces=not namespace, limit=500
            )
            found.extend(
                (informer.resource, item)
                for item in items
                if any(
                    ref.get("uid") == uid and ref.get("blockOwnerDeletion") for ref in owner_references(item)
                )
            )
        return found

    def _cached_by_uid(self, uid: str) -> list[tuple[ResourceType, Object]]:
        return [
            (informer.resource, obj)
            for informer in self._informers.values()
            for obj in informer.lister.by_index(BY_UID, uid)
        ]

    async def _delete(self, resource: ResourceType, obj: Object, policy: str) -> None:
        metadata = meta(obj)
        try:
            await self._client.delete(
                resource,
                str(metadata.get("name")),
                metadata.get("namespace"),
                propagation_policy=policy,
                precondition_uid=str(metadata.get("uid")),
            )
        except ApiError as error:
            if error.code not in (404, 409):  # gone, or replaced by a new object of that name
                raise

    async def _set_owner_references(
        self, resource: ResourceType, obj: Object, refs: list[dict[str, Any]]
    ) -> None:
        metadata = meta(obj)
        patch = {
            "metadata": {"ownerReferences": refs or None, "resourceVersion": metadata.get("resourceVersion")}
        }
        await self._patch(resource, obj, patch)

    async def _remove_finalizer(self, resource: ResourceType, obj: Object, finalizer: str) -> None:
        metadata = meta(obj)
        kept = [f for f in finalizers(obj) if f != finalizer]
        patch = {"metadata": {"finalizers": kept or None, "resourceVersion": metadata.get("resourceVersion")}}
        await self._patch(resource, obj, patch)

    async def _patch(self, resource: ResourceType, obj: Object, patch: Object) -> None:
        metadata = meta(obj)
        try:
            await self._client.patch(resource, str(metadata.get("name")), patch, metadata.get("namespace"))
        except ApiError as error:
            if error.code == 404:
                return
            raise  # 409: the cache was stale; the retry reads the newer object


def new_controller(context: ControllerContext) -> GarbageCollector:
    return GarbageCollector(context)
