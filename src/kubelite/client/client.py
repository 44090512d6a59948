"""`ApiClient`: the Kubernetes verbs for every kind, over any `Transport`.

Objects travel as JSON dicts (what the wire carries); callers that want typed models convert
with `msgspec.convert(obj, Pod)`. Failures raise `ApiError` with the server's `Status`.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from kubelite.api.resources import PODS, ResourceType

from . import core
from .core import PATCH_CONTENT_TYPES, PatchType
from .kubeconfig import load_kubeconfig
from .pq_transport import PqTransport, TlsClientSettings
from .transport import HttpTransport, Transport

Object = dict[str, Any]


def _meta(obj: Object) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


class ApiClient:
    """Create, read, update, patch, delete and watch any served resource."""

    def __init__(self, transport: Transport, *, default_namespace: str = "default") -> None:
        self.transport = transport
        self.default_namespace = default_namespace

    @classmethod
    def from_kubeconfig(cls, path: str | Path, *, context: str | None = None) -> ApiClient:
        access = load_kubeconfig(path, context)
        transport: Transport
        if access.server.startswith("https://"):
            # Post-quantum TLS (X25519MLKEM768, ML-DSA-65 certificates) needs OpenSSL 4, not `ssl`.
            tls = TlsClientSettings(
                ca_pem=access.certificate_authority_pem,
                client_cert_pem=access.client_certificate_pem,
                client_key_pem=access.client_key_pem,
                insecure=access.insecure_skip_tls_verify,
            )
            transport = PqTransport(access.server, tls, headers=access.headers())
        else:
            transport = HttpTransport(access.server, verify=access.ssl_context(), headers=access.headers())
        return cls(transport, default_namespace=access.namespace)

    async def close(self) -> None:
        await self.transport.close()

    def _namespace(
        self, resource: ResourceType, namespace: str | None, obj: Object | None = None
    ) -> str | None:
        if not resource.namespaced:
            return None
        if namespace is not None:
            return namespace
        if obj is not None and _meta(obj).get("namespace"):
            return str(_meta(obj)["namespace"])
        return self.default_namespace

    async def _call(self, request: core.HttpRequest) -> Object:
        return core.parse(await self.transport.send(request))

    async def get(self, resource: ResourceType, name: str, namespace: str | None = None) -> Object:
        ns = self._namespace(resource, namespace)
        return await self._call(core.build("GET", resource, namespace=ns, name=name))

    async def list(
        self,
        resource: ResourceType,
        namespace: str | None = None,
        *,
        all_namespaces: bool = False,
        label_selector: str = "",
        field_selector: str = "",
        limit: int = 0,
        continue_token: str = "",
        resource_version: str = "",
    ) -> Object:
        """One page of a list (`metadata.continue` says whether there is more)."""
        ns = None if all_namespaces else self._namespace(resource, namespace)
        query = core.selector_query(label_selector, field_selector, limit, continue_token, resource_version)
        return await self._call(core.build("GET", resource, namespace=ns, query=query))

    async def list_all(
        self, resource: ResourceType, namespace: str | None = None, **kwargs: Any
    ) -> tuple[builtins.list[Object], str]:
        """Every item, following continue tokens; returns (items, resourceVersion of the first page)."""
        items: builtins.list[Object] = []
        token, version = "", ""
        while True:
            page = await self.list(resource, namespace, continue_token=token, **kwargs)
            items.extend(page.get("items") or [])
            version = version or str(_meta(page).get("resourceVersion", ""))
            token = str(_meta(page).get("continue") or "")
            if not token:
                return items, version

    async def create(
        self, resource: ResourceType, obj: Object, namespace: str | None = None, *, dry_run: bool = False
    ) -> Object:
        ns = self._namespace(resource, namespace, obj)
        query = {"dryRun": "All"} if dry_run else {}
        return await self._call(core.build("POST", resource, namespace=ns, query=query, body=obj))

    async def replace(
        self,
        resource: ResourceType,
        obj: Object,
        namespace: str | None = None,
        *,
        subresource: str | None = None,
    ) -> Object:
        ns = self._namespace(resource, namespace, obj)
        name = str(_meta(obj).get("name", ""))
        return await self._call(
            core.build("PUT", resource, namespace=ns, name=name, subresource=subresource, body=obj)
        )

    async def replace_status(
        self, resource: ResourceType, obj: Object, namespace: str | None = None
    ) -> Object:
        return await self.replace(resource, obj, namespace, subresource="status")

    async def patch(
        self,
        resource: ResourceType,
        name: str,
        patch: Any,
        namespace: str | None = None,
        *,
        patch_type: PatchType = "merge",
        subresource: str | None = None,
        field_manager: str = "",
        force: bool = False,
    ) -> Object:
        ns = self._namespace(resource, namespace)
        query: dict[str, str] = {}
        if field_manager:
            query["fieldManager"] = field_manager
        if force:
            query["force"] = "true"
        request = core.build(
            "PATCH",
            resource,
            namespace=ns,
            name=name,
            subresource=subresource,
            query=query,
            body=patch,
            content_type=PATCH_CONTENT_TYPES[patch_type],
        )
        return await self._call(request)

    async def delete(
        self,
        resource: ResourceType,
        name: str,
        namespace: str | None = None,
        *,
        grace_period_seconds: int | None = None,
        propagation_policy: str | None = None,
        precondition_uid: str | None = None,
    ) -> Object:
        ns = self._namespace(resource, namespace)
        options: Object = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        if propagation_policy:
            options["propagationPolicy"] = propagation_policy
        if precondition_uid:
            options["preconditions"] = {"uid": precondition_uid}
        return await self._call(core.build("DELETE", resource, namespace=ns, name=name, body=options))

    async def bind(
        self, namespace: str, pod_name: str, node_name: str, *, annotations: dict[str, str] | None = None
    ) -> Object:
        """Assign a pod to a node through the `pods/binding` subresource (the scheduler's write)."""
        binding: Object = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": pod_name, "namespace": namespace},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node_name},
        }
        if annotations:
            binding["metadata"]["annotations"] = annotations
        return await self._call(
            core.build("POST", PODS, namespace=namespace, name=pod_name, subresource="binding", body=binding)
        )

    async def get_scale(self, resource: ResourceType, name: str, namespace: str | None = None) -> Object:
        ns = self._namespace(resource, namespace)
        return await self._call(core.build("GET", resource, namespace=ns, name=name, subresource="scale"))

    async def set_scale(
        self, resource: ResourceType, name: str, replicas: int, namespace: str | None = None
    ) -> Object:
        return await self.patch(
            resource, name, {"spec": {"replicas": replicas}}, namespace, subresource="scale"
        )

    async def watch(
        self,
        resource: ResourceType,
        namespace: str | None = None,
        *,
        all_namespaces: bool = False,
        resource_version: str = "",
        label_selector: str = "",
        field_selector: str = "",
        timeout_seconds: int | None = None,
        bookmarks: bool = True,
    ) -> AsyncIterator[tuple[str, Object]]:
        """Yield (type, object) events; raises `ApiError` (410 when the version is too old)."""
        ns = None if all_namespaces else self._namespace(resource, namespace)
        query = core.selector_query(label_selector, field_selector, resource_version=resource_version)
        query["watch"] = "true"
        if bookmarks:
            query["allowWatchBookmarks"] = "true"
        if timeout_seconds is not None:
            query["timeoutSeconds"] = str(timeout_seconds)
        request = core.build("GET", resource, namespace=ns, query=query)
        async for line in self.transport.stream_lines(request):
            yield core.parse_watch_line(line)
