"""Generic REST storage: create, read, update, patch and delete for every served kind.

The registry turns API requests into conditional store writes with Kubernetes semantics:
system metadata (uid, creationTimestamp, generation, resourceVersion), generateName, optimistic
concurrency (409 on a stale resourceVersion), status split into a subresource, finalizers and
deletionTimestamp (an object goes when its finalizers are gone), graceful pod deletion, namespace
termination, and dry runs. Admission (defaulting, validation and mutating plugins) runs on every
write before anything reaches the store, so a rejected request leaves no partial state.

Reads come from the watch cache after it has caught up with the store (consistent reads);
read-modify-write cycles read the store itself and retry on conflict, as Kubernetes'
GuaranteedUpdate does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from kubelite.api.resources import NAMESPACES, PODS, ResourceType
from kubelite.clock import Clock
from kubelite.store.interface import KeyExistsError, KeyNotFoundError, RevisionConflictError, Store

from . import errors
from .admission import Admission
from .objects import clone_object, generate_name, metadata, new_uid, rfc3339, store_key
from .strategy import convert_input, merge_for_update, next_generation, prepare_for_create
from .strict import prune_unknown_fields
from .watchcache import CachedObject, WatchCache

MAX_OBJECT_BYTES = 1_572_864  # etcd's default request limit, which Kubernetes inherits
_UPDATE_RETRIES = 16

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(dict[str, Any]).decode


@dataclass(slots=True)
class Written:
    """The outcome of a write: the object as stored (or as it would be, for a dry run)."""

    obj: dict[str, Any]
    code: int

    def raw(self) -> bytes:
        return _encode(self.obj)


@dataclass(frozen=True, slots=True)
class DeleteOptions:
    grace_period_seconds: int | None = None
    propagation_policy: str | None = None
    precondition_uid: str | None = None
    precondition_resource_version: str | None = None
    dry_run: bool = False


Mutation = Callable[[dict[str, Any]], dict[str, Any]]


class Registry:
    """Kubernetes object semantics over a `Store`, with reads from a `WatchCache`."""

    def __init__(self, store: Store, cache: WatchCache, admission: Admission, clock: Clock) -> None:
        self._store = store
        self._cache = cache
        self._admission = admission
        self._clock = clock

    # --- reads ------------------------------------------------------------------------------

    async def consistent(self) -> None:
        """Wait until the cache reflects every acknowledged write (read-your-writes)."""
        if not await self._cache.wait_for(self._store.revision):
            raise errors.service_unavailable("the watch cache is not yet up to date; retry")

    async def get(self, resource: ResourceType, namespace: str | None, name: str) -> CachedObject:
        await self.consistent()
        found = self._cache.get(store_key(resource, namespace, name))
        if found is None:
            raise errors.not_found(resource.plural, resource.group, name)
        return found

    async def _read_store(
        self, resource: ResourceType, namespace: str | None, name: str
    ) -> tuple[dict[str, Any], int]:
        kv = await self._store.get(store_key(resource, namespace, name))
        if kv is None:
            raise errors.not_found(resource.plural, resource.group, name)
        obj = _decode(kv.value)
        metadata(obj)["resourceVersion"] = str(kv.mod_revision)
        return obj, kv.mod_revision

    async def ensure_namespace_open(self, namespace: str) -> None:
        """Objects may be created only in a namespace that exists and is not terminating.

        The cache answers at once when it knows the namespace (as Kubernetes' lifecycle admission
        uses its informer); only a miss waits for the cache to catch up, so a namespace created a
        moment ago is still found."""
        found = self._cache.get(store_key(NAMESPACES, None, namespace))
        if found is None:
            await self.consistent()
            found = self._cache.get(store_key(NAMESPACES, None, namespace))
        if found is None:
            raise errors.not_found("namespaces", "", namespace)
        if found.obj.get("status", {}).get("phase") == "Terminating" or found.obj["metadata"].get(
            "deletionTimestamp"
        ):
            raise errors.ApiError(
                403,
                "Forbidden",
                f"{namespace}: unable to create new content in namespace {namespace} because it is being terminated",
            )

    # --- create -----------------------------------------------------------------------------

    async def create(
        self, resource: ResourceType, namespace: str | None, obj: dict[str, Any], *, dry_run: bool = False
    ) -> Written:
        meta = metadata(obj)
        if resource.namespaced:
            assert namespace is not None
            body_namespace = meta.get("namespace")
            if body_namespace not in (None, "", namespace):
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = namespace
            await self.ensure_namespace_open(namespace)
        else:
            meta.pop("namespace", None)
        if meta.get("resourceVersion"):
            raise errors.bad_request("resourceVersion should not be set on objects to be created")
        name = meta.get("name")
        if not name:
            prefix = meta.get("generateName")
            if isinstance(prefix, str) and prefix:
                meta["name"] = generate_name(prefix)
        for field in ("uid", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            meta.pop(field, None)
        meta["uid"] = new_uid()
        meta["creationTimestamp"] = rfc3339(self._clock.now())
        meta["generation"] = 1
        prepare_for_create(resource, obj)
        convert_input(resource, obj)
        prune_unknown_fields(resource.key, obj)
        await self._admission.admit(resource, obj, None, "create")
        if dry_run:
            return Written(obj, 201)
        name = str(meta["name"])
        value = self._serialise(obj)
        try:
            kv = await self._store.create(store_key(resource, namespace, name), value)
        except KeyExistsError:
            raise errors.already_exists(resource.plural, resource.group, name) from None
        meta["resourceVersion"] = str(kv.mod_revision)
        return Written(obj, 201)

    # --- update and patch -------------------------------------------------------------------

    async def update(
        self,
        resource: ResourceType,
        namespace: str | None,
        name: str,
        mutate: Mutation,
        *,
        subresource: str = "",
        dry_run: bool = False,
        create_if_missing: Callable[[], Awaitable[Written]] | None = None,
        precondition: str | None = None,
    ) -> Written:
        """Read, apply `mutate` to a copy, admit, and write conditionally; retry on conflict.

        `precondition` is the resourceVersion the client said it read (a PUT body's, or one a
        patch sets): a mismatch is a 409. Without one, a concurrent write means read and retry,
        as Kubernetes' GuaranteedUpdate does for patches.
        """
        for _ in range(_UPDATE_RETRIES):
            try:
                current, revision = await self._read_store(resource, namespace, name)
            except errors.ApiError as error:
                if error.code == 404 and create_if_missing is not None:
                    return await create_if_missing()
                raise
            desired = mutate(clone_object(current))
            if not isinstance(desired, dict):
                raise errors.bad_request("the request body must be a JSON object")
            desired_meta = metadata(desired)
            if precondition and precondition != str(revision):
                raise errors.stale_resource_version(resource.plural, resource.group, name)
            if desired_meta.get("name", name) != name:
                raise errors.bad_request(
                    f"the name of the object ({desired_meta.get('name')}) does not match the name on the URL ({name})"
                )
            new = merge_for_update(resource, desired, current, subresource)
            self._keep_system_metadata(new, current)
            new_meta = metadata(new)
            new_meta["generation"] = next_generation(new, current)
            new_meta["resourceVersion"] = str(revision)
            convert_input(resource, new)
            prune_unknown_fields(resource.key, new)
            if subresource == "":
                await self._admission.admit(resource, new, current, "update")
            if new == current:
                return Written(current, 200)
            if dry_run:
                return Written(new, 200)
            key = store_key(resource, namespace, name)
            try:
                if (
                    new_meta.get("deletionTimestamp")
                    and not new_meta.get("finalizers")
                    and self._finalized(resource, new)
                ):
                    kv = await self._store.delete(key, expected_revision=revision)
                else:
                    kv = await self._store.update(key, self._serialise(new), expected_revision=revision)
            except RevisionConflictError:
                if precondition:
                    raise errors.stale_resource_version(resource.plural, resource.group, name) from None
                continue
            except KeyNotFoundError:
                raise errors.not_found(resource.plural, resource.group, name) from None
            new_meta["resourceVersion"] = str(kv.mod_revision)
            return Written(new, 200)
        raise errors.conflict(resource.plural, resource.group, name, "too many concurrent updates; try again")

    def _keep_system_metadata(self, new: dict[str, Any], current: dict[str, Any]) -> None:
        new_meta, old_meta = metadata(new), current["metadata"]
        for field in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "namespace",
            "name",
        ):
            if field in old_meta:
                new_meta[field] = old_meta[field]
            else:
                new_meta.pop(field, None)
        new.setdefault("apiVersion", current.get("apiVersion"))
        new.setdefault("kind", current.get("kind"))

    @staticmethod
    def _finalized(resource: ResourceType, obj: dict[str, Any]) -> bool:
        """Whether nothing but metadata.finalizers holds the object back (namespaces also wait on spec.finalizers)."""
        if resource.key == "namespaces":
            return not obj.get("spec", {}).get("finalizers")
        return True

    # --- delete -----------------------------------------------------------------------------

    async def delete(
        self, resource: ResourceType, namespace: str | None, name: str, options: DeleteOptions
    ) -> Written:
        for _ in range(_UPDATE_RETRIES):
            current, revision = await self._read_store(resource, namespace, name)
            meta = current["metadata"]
            if options.precondition_uid and options.precondition_uid != meta.get("uid"):
                raise errors.conflict(
                    resource.plural,
                    resource.group,
                    name,
                    f"Precondition failed: UID in precondition: {options.precondition_uid}, UID in object meta: {meta.get('uid')}",
                )
            if options.precondition_resource_version and options.precondition_resource_version != str(
                revision
            ):
                raise errors.conflict(
                    resource.plural,
                    resource.group,
                    name,
                    f"Precondition failed: ResourceVersion in precondition: {options.precondition_resource_version}, ResourceVersion in object meta: {revision}",
                )
            updated = self._mark_deleting(resource, current, options)
            key = store_key(resource, namespace, name)
            try:
                if updated is None:
                    if options.dry_run:
                        return Written(current, 200)
                    kv = await self._store.delete(key, expected_revision=revision)
                    meta["resourceVersion"] = str(kv.mod_revision)
                    return Written(current, 200)
                if updated == current or options.dry_run:
                    return Written(updated, 202 if updated.get("metadata", {}).get("finalizers") else 200)
                kv = await self._store.update(key, self._serialise(updated), expected_revision=revision)
            except RevisionConflictError:
                continue
            except KeyNotFoundError:
                raise errors.not_found(resource.plural, resource.group, name) from None
            metadata(updated)["resourceVersion"] = str(kv.mod_revision)
            return Written(updated, 202 if metadata(updated).get("finalizers") else 200)
        raise errors.conflict(resource.plural, resource.group, name, "too many concurrent updates; try again")

    def _mark_deleting(
        self, resource: ResourceType, current: dict[str, Any], options: DeleteOptions
    ) -> dict[str, Any] | None:
        """The object with deletion recorded, or None when it should be removed right now."""
        updated = clone_object(current)
        meta = updated["metadata"]
        finalizers: list[str] = [f for f in meta.get("finalizers", []) if isinstance(f, str)]
        policy = options.propagation_policy
        if policy == "Orphan" and "orphan" not in finalizers and not meta.get("deletionTimestamp"):
            finalizers.append("orphan")
        elif (
            policy == "Foreground"
            and "foregroundDeletion" not in finalizers
            and not meta.get("deletionTimestamp")
        ):
            finalizers.append("foregroundDeletion")
        now = self._clock.now()
        grace = 0
        if resource.key == PODS.key:
            grace = self._pod_grace(updated, options)
        if resource.key == "namespaces":
            if not meta.get("deletionTimestamp"):
                meta["deletionTimestamp"] = rfc3339(now)
                meta["deletionGracePeriodSeconds"] = 0
            updated.setdefault("status", {})["phase"] = "Terminating"
            if finalizers:
                meta["finalizers"] = finalizers
            if not finalizers and not updated.get("spec", {}).get("finalizers"):
                return None
            return updated
        if not finalizers and grace == 0:
            return None
        if finalizers:
            meta["finalizers"] = finalizers
        if not meta.get("deletionTimestamp"):
            meta["deletionTimestamp"] = rfc3339(now + grace)
            meta["deletionGracePeriodSeconds"] = grace
        elif grace < int(meta.get("deletionGracePeriodSeconds", grace) or 0):
            # A shorter grace period may replace a longer one, as Kubernetes allows.
            meta["deletionTimestamp"] = rfc3339(now + grace)
            meta["deletionGracePeriodSeconds"] = grace
            if grace == 0 and not finalizers:
                return None
        return updated

    @staticmethod
    def _pod_grace(pod: dict[str, Any], options: DeleteOptions) -> int:
        """Pods bound to a node terminate gracefully; unbound or finished pods go at once."""
        spec = pod.get("spec", {})
        phase = pod.get("status", {}).get("phase")
        if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
            return 0
        if options.grace_period_seconds is not None:
            return max(0, options.grace_period_seconds)
        grace = spec.get("terminationGracePeriodSeconds", 30)
        return grace if isinstance(grace, int) and grace >= 0 else 30

    # --- helpers ----------------------------------------------------------------------------

    def _serialise(self, obj: dict[str, Any]) -> bytes:
        """Stored form: the object without its resourceVersion (the store's revision is the truth)."""
        meta = metadata(obj)
        version = meta.pop("resourceVersion", None)
        try:
            value = _encode(obj)
        finally:
            if version is not None:
                meta["resourceVersion"] = version
        if len(value) > MAX_OBJECT_BYTES:
            raise errors.too_large(
                f"the object is {len(value)} bytes, more than the limit of {MAX_OBJECT_BYTES}"
            )
        return value
