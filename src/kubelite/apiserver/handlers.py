"""Resource verbs over HTTP: get, list, watch, create, update, patch, delete, deletecollection,
and the status, scale, binding, eviction and finalize subresources.

Each handler parses what it needs from the request, calls the registry, and answers with cached
bytes where it can (GET, LIST and watch events are never re-encoded per request).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from typing import Any

import msgspec
import yaml

from kubelite.api.resources import PODS, ResourceType
from kubelite.clock import Clock
from kubelite.store.interface import CompactedError, Store

from . import errors
from .agent_client import AgentClient
from .encoding import PATCH_TYPES, check_type, decode_body, media_type, wants_table, wants_yaml
from .http import Request, Response, StreamResponse
from .objects import collection_prefix, metadata, rfc3339
from .patch import PatchError, apply_patch
from .registry import DeleteOptions, Registry, Written
from .routing import ResourceRequest, int_param
from .selection import Selection, build_selection
from .strict import unknown_fields
from .subresources import handle_subresource
from .tables import render_table
from .watch import open_watch
from .watchcache import CachedObject, WatchCache

_encode = msgspec.json.encode
BOOKMARK_INTERVAL_SECONDS = 30.0


def _json(status: int, body: bytes) -> Response:
    return Response(status, body)


def _object_response(request: Request, written: Written) -> Response:
    if wants_yaml(request):
        return Response(written.code, yaml.safe_dump(written.obj).encode(), "application/yaml")
    return _json(written.code, written.raw())


def _dry_run(query: dict[str, str]) -> bool:
    value = query.get("dryRun", "")
    if value not in ("", "All"):
        raise errors.bad_request(f'unsupported dryRun value "{value}"; supported values: "All"')
    return value == "All"


def _check_fields(query: dict[str, str], resource: ResourceType, obj: Any) -> None:
    """With fieldValidation=Strict (kubectl's default), unknown fields are a 400, as in Kubernetes."""
    mode = query.get("fieldValidation", "")
    if mode not in ("", "Ignore", "Warn", "Strict"):
        raise errors.bad_request(
            f'fieldValidation: unsupported value "{mode}"; supported values: "Ignore", "Warn", "Strict"'
        )
    if mode != "Strict" or not isinstance(obj, dict):
        return
    cleaned = _without_directives(obj)
    unknown = unknown_fields(resource.key, cleaned)
    if unknown:
        raise errors.bad_request(
            "strict decoding error: " + ", ".join(f'unknown field "{path}"' for path in unknown)
        )


def _without_directives(value: Any) -> Any:
    """A strategic merge patch minus its `$patch`-style directives (they are not fields)."""
    if isinstance(value, dict):
        return {key: _without_directives(item) for key, item in value.items() if not key.startswith("$")}
    if isinstance(value, list):
        return [_without_directives(item) for item in value]
    return value


def _resource_version_of(body: Any) -> str | None:
    """The resourceVersion a request body names (the client's precondition), if any."""
    meta = body.get("metadata") if isinstance(body, dict) else None
    version = meta.get("resourceVersion") if isinstance(meta, dict) else None
    return str(version) if version not in (None, "") else None


class ResourceHandlers:
    """The verbs of every served resource, bound to one registry and watch cache."""

    def __init__(self, registry: Registry, cache: WatchCache, store: Store, clock: Clock) -> None:
        self._registry = registry
        self._cache = cache
        self._store = store
        self._clock = clock
        #: How node agents are reached (`pods/log`, metrics.k8s.io); secured by `install_security`.
        self.agents = AgentClient()

    async def handle(
        self, request: Request, target: ResourceRequest, query: dict[str, str]
    ) -> Response | StreamResponse:
        verb, sub = target.verb, target.subresource
        if sub is not None:
            return await self._subresource(request, target, query)
        if verb == "get":
            assert target.name is not None
            found = await self._registry.get(target.resource, target.namespace, target.name)
            return self._render_one(request, target.resource, found)
        if verb == "list":
            return await self._list(request, target, query)
        if verb == "watch":
            return self._watch(request, target, query)
        if verb == "create":
            return await self._create(request, target, query)
        if verb == "update":
            return await self._update(request, target, query, "")
        if verb == "patch":
            return await self._patch(request, target, query, "")
        if verb == "delete":
            assert target.name is not None
            options = self._delete_options(request, query)
            written = await self._registry.delete(target.resource, target.namespace, target.name, options)
            return _object_response(request, written)
        if verb == "deletecollection":
            return await self._delete_collection(request, target, query)
        raise errors.method_not_allowed(verb, target.resource.plural)

    # --- reads ------------------------------------------------------------------------------

    def _render_one(self, request: Request, resource: ResourceType, found: CachedObject) -> Response:
        if wants_table(request):
            return _json(
                200,
                _encode(
                    render_table(
                        resource,
                        [found.obj],
                        self._clock.now(),
                        request,
                        found.obj["metadata"]["resourceVersion"],
                        "",
                    )
                ),
            )
        if wants_yaml(request):
            return Response(200, yaml.safe_dump(found.obj).encode(), "application/yaml")
        return _json(200, found.raw)

    async def _list(self, request: Request, target: ResourceRequest, query: dict[str, str]) -> Response:
        resource = target.resource
        selection = build_selection(resource, query.get("labelSelector", ""), query.get("fieldSelector", ""))
        limit = int_param(query, "limit") or 0
        token = query.get("continue", "")
        if token:
            items, revision, next_token = await self._continue_list(
                resource, target.namespace, selection, limit, token
            )
            remaining: int | None = None
        else:
            if query.get("resourceVersion", "") != "0":
                await self._registry.consistent()
            revision = self._cache.revision
            matching = [
                item
                for item in self._cache.list(resource.key, target.namespace)
                if selection.matches(item.obj)
            ]
            next_token = ""
            remaining = None
            if limit and len(matching) > limit:
                next_token = _encode_continue(revision, matching[limit].key)
                remaining = len(matching) - limit
                matching = matching[:limit]
            items = matching
        if wants_table(request):
            table = render_table(
                resource, [item.obj for item in items], self._clock.now(), request, str(revision), next_token
            )
            return _json(200, _encode(table))
        list_meta: dict[str, Any] = {"resourceVersion": str(revision)}
        if next_token:
            list_meta["continue"] = next_token
        if remaining:
            list_meta["remainingItemCount"] = remaining
        if wants_yaml(request):
            doc = {
                "kind": resource.list_kind,
                "apiVersion": resource.api_version,
                "metadata": list_meta,
                "items": [i.obj for i in items],
            }
            return Response(200, yaml.safe_dump(doc).encode(), "application/yaml")
        head = _encode(
            {"kind": resource.list_kind, "apiVersion": resource.api_version, "metadata": list_meta}
        )
        body = head[:-1] + b',"items":[' + b",".join(item.raw for item in items) + b"]}"
        return _json(200, body)

    async def _continue_list(
        self, resource: ResourceType, namespace: str | None, selection: Selection, limit: int, token: str
    ) -> tuple[list[CachedObject], int, str]:
        revision, start_key = _decode_continue(token)
        prefix = collection_prefix(resource, namespace)
        if not start_key.startswith(prefix):
            raise errors.bad_request("the continue token does not belong to this list")
        items: list[CachedObject] = []
        while True:
            try:
                page = await self._store.list(
                    prefix, limit=max(limit, 500), start_key=start_key, revision=revision
                )
            except CompactedError:
                raise errors.gone(
                    "The provided continue parameter is too old to display a consistent list result. "
                    "You can start a new list without the continue parameter."
                ) from None
            for kv in page.items:
                cached = self._cache.cache_object(kv)
                if selection.matches(cached.obj):
                    if limit and len(items) == limit:
                        return items, revision, _encode_continue(revision, kv.key)
                    items.append(cached)
            if not page.more or not page.items:
                return items, revision, ""
            start_key = page.items[-1].key + "\x00"

    def _watch(self, request: Request, target: ResourceRequest, query: dict[str, str]) -> StreamResponse:
        return open_watch(self._cache, self._clock, request, target, query)

    # --- writes -----------------------------------------------------------------------------

    async def _create(self, request: Request, target: ResourceRequest, query: dict[str, str]) -> Response:
        resource = target.resource
        if target.name is not None:
            raise errors.method_not_allowed("POST", f"{resource.plural}/{target.name}")
        data = decode_body(request)
        check_type(data, resource.api_version, resource.kind)
        _check_fields(query, resource, data)
        written = await self._registry.create(resource, target.namespace, data, dry_run=_dry_run(query))
        return _object_response(request, written)

    async def _update(
        self, request: Request, target: ResourceRequest, query: dict[str, str], sub: str
    ) -> Response:
        resource = target.resource
        assert target.name is not None
        data = decode_body(request)
        check_type(data, resource.api_version, resource.kind)
        _check_fields(query, resource, data if sub != "status" else {"status": data.get("status")})
        body_name = data.get("metadata", {}).get("name")
        if body_name not in (None, target.name):
            raise errors.bad_request(
                f"the name of the object ({body_name}) does not match the name on the URL ({target.name})"
            )
        body_namespace = data.get("metadata", {}).get("namespace")
        if resource.namespaced and body_namespace not in (None, "", target.namespace):
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        written = await self._registry.update(
            resource,
            target.namespace,
            target.name,
            lambda _current: data,
            subresource=sub,
            dry_run=_dry_run(query),
            precondition=_resource_version_of(data),
        )
        return _object_response(request, written)

    async def _patch(
        self, request: Request, target: ResourceRequest, query: dict[str, str], sub: str
    ) -> Response:
        resource = target.resource
        assert target.name is not None
        kind = media_type(request)
        patch_type = PATCH_TYPES.get(kind)
        if patch_type is None or patch_type == "unsupported":
            raise errors.unsupported_media_type(kind)
        body = decode_body(request, allow_list=patch_type == "json")
        if patch_type != "json":
            _check_fields(query, resource, body)
        dry_run = _dry_run(query)

        def apply(current: dict[str, Any]) -> dict[str, Any]:
            try:
                patched = apply_patch(patch_type, current, body)
            except PatchError as error:
                raise errors.ApiError(
                    error.code, "BadRequest" if error.code == 400 else "Invalid", str(error)
                ) from None
            if not isinstance(patched, dict):
                raise errors.bad_request("the patch must produce an object")
            return patched

        create_if_missing = None
        if patch_type == "apply":
            check_type(body, resource.api_version, resource.kind)
            manager = query.get("fieldManager", "")
            if not manager:
                raise errors.bad_request(
                    'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'
                )
            _record_manager(body, manager, resource, self._clock.now())

            async def create_from_apply() -> Written:
                return await self._registry.create(resource, target.namespace, dict(body), dry_run=dry_run)

            create_if_missing = create_from_apply
        written = await self._registry.update(
            resource,
            target.namespace,
            target.name,
            apply,
            subresource=sub,
            dry_run=dry_run,
            create_if_missing=create_if_missing,
            precondition=_resource_version_of(body),
        )
        return _object_response(request, written)

    async def _delete_collection(
        self, request: Request, target: ResourceRequest, query: dict[str, str]
    ) -> Response:
        resource = target.resource
        selection = build_selection(resource, query.get("labelSelector", ""), query.get("fieldSelector", ""))
        options = self._delete_options(request, query)
        await self._registry.consistent()
        deleted = []
        for item in self._cache.list(resource.key, target.namespace):
            if not selection.matches(item.obj):
                continue
            meta = item.obj["metadata"]
            with contextlib.suppress(errors.ApiError):
                written = await self._registry.delete(resource, meta.get("namespace"), meta["name"], options)
                deleted.append(written.obj)
        doc = {
            "kind": resource.list_kind,
            "apiVersion": resource.api_version,
            "metadata": {},
            "items": deleted,
        }
        return _json(200, _encode(doc))

    def _delete_options(self, request: Request, query: dict[str, str]) -> DeleteOptions:
        body: dict[str, Any] = {}
        if request.body.strip():
            body = decode_body(request)
        preconditions = body.get("preconditions") or {}
        grace = body.get("gracePeriodSeconds", int_param(query, "gracePeriodSeconds"))
        if grace is not None and not isinstance(grace, int):
            raise errors.bad_request("gracePeriodSeconds must be an integer")
        policy = body.get("propagationPolicy", query.get("propagationPolicy")) or None
        if body.get("orphanDependents") is True or query.get("orphanDependents") == "true":
            policy = policy or "Orphan"
        if policy not in (None, "Orphan", "Background", "Foreground"):
            raise errors.ApiError(
                422,
                "Invalid",
                f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "{policy}": supported values: "Foreground", "Background", "Orphan"',
            )
        dry = body.get("dryRun") == ["All"] or _dry_run(query)
        return DeleteOptions(
            grace_period_seconds=grace,
            propagation_policy=policy,
            precondition_uid=preconditions.get("uid") if isinstance(preconditions, dict) else None,
            precondition_resource_version=preconditions.get("resourceVersion")
            if isinstance(preconditions, dict)
            else None,
            dry_run=dry,
        )

    # --- subresources -----------------------------------------------------------------------

    async def _subresource(
        self, request: Request, target: ResourceRequest, query: dict[str, str]
    ) -> Response | StreamResponse:
        return await handle_subresource(self, request, target, query)

    @property
    def registry(self) -> Registry:
        return self._registry

    @property
    def clock(self) -> Clock:
        return self._clock

    async def update_subresource(
        self, request: Request, target: ResourceRequest, query: dict[str, str]
    ) -> Response:
        """PUT or PATCH of the status subresource."""
        if target.verb == "patch":
            return await self._patch(request, target, query, "status")
        return await self._update(request, target, query, "status")

    async def bind_by_body(self, request: Request, namespace: str) -> Response:
        """POST /api/v1/namespaces/{ns}/bindings: the older form of pods/{name}/binding."""
        body = decode_body(request)
        meta = body.get("metadata")
        name = meta.get("name") if isinstance(meta, dict) else None
        if not isinstance(name, str) or not name:
            raise errors.invalid(
                "Binding", "", "", [errors.Cause("FieldValueRequired", "Required value", "metadata.name")]
            )
        target = ResourceRequest(PODS, namespace, name, "binding", "create")
        response = await handle_subresource(self, request, target, {})
        assert isinstance(response, Response)
        return response

    def render_object(self, request: Request, resource: ResourceType, found: CachedObject) -> Response:
        return self._render_one(request, resource, found)


def _record_manager(body: dict[str, Any], manager: str, resource: ResourceType, now: float) -> None:
    """Server-side apply: record which manager applied the object (fields are not tracked per manager)."""
    meta = metadata(body)
    meta["managedFields"] = [
        {
            "manager": manager,
            "operation": "Apply",
            "apiVersion": resource.api_version,
            "time": rfc3339(now),
            "fieldsType": "FieldsV1",
            "fieldsV1": {},
        }
    ]


def _encode_continue(revision: int, start_key: str) -> str:
    return base64.urlsafe_b64encode(_encode({"rv": revision, "start": start_key})).decode()


def _decode_continue(token: str) -> tuple[int, str]:
    try:
        data = msgspec.json.decode(base64.urlsafe_b64decode(token.encode()))
        return int(data["rv"]), str(data["start"])
    except (binascii.Error, msgspec.DecodeError, KeyError, TypeError, ValueError):
        raise errors.bad_request("the continue token is not valid") from None
