"""The API server: assembles store, watch cache, admission, registry and HTTP routes.

Request path: HTTP -> authentication -> authorization -> routing -> resource handler
(-> admission -> registry -> store) -> response. Authentication and authorization are pluggable;
the defaults accept every request, which is what a loopback-only development server wants.
Start-up creates the namespaces every cluster has (default, kube-system, kube-public,
kube-node-lease) when they are missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec

from kubelite import __version__
from kubelite.api.resources import CONVERTED_RESOURCE_TYPES, NAMESPACES, RESOURCE_TYPES, ResourceType
from kubelite.clock import Clock, RealClock
from kubelite.store.interface import Store
from kubelite.tls.server import TlsSettings, TlsTerminator

from . import errors
from .admission import Admission, AdmissionSettings
from .conversion import serve_v1
from .discovery import AGGREGATED_CONTENT_TYPE, Discovery
from .handlers import ResourceHandlers
from .http import HttpServer, Request, Response, StreamResponse
from .metrics import ApiServerMetrics
from .metrics_api import METRICS_RESOURCE_TYPES, serve_metrics
from .metrics_api import PREFIX as METRICS_API_PREFIX
from .objects import store_key
from .registry import Registry
from .routing import Router, parse_query
from .watchcache import WatchCache

log = logging.getLogger(__name__)

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
MAX_REQUEST_BYTES = 3 * 1024 * 1024  # Kubernetes' limit on a request body


class Authorizer(Protocol):
    """Decides whether a request may proceed; raises `ApiError` (401/403) when not. It may also
    answer the request itself (a review or token endpoint) by returning a `Response`."""

    async def authorize(self, request: Request) -> Response | None: ...


class AllowAll:
    """Every request is allowed: the development default on a loopback address."""

    async def authorize(self, request: Request) -> Response | None:
        return None


@dataclass(frozen=True, slots=True)
class ApiServerSettings:
    host: str = "127.0.0.1"
    port: int = 6443
    admission: AdmissionSettings = field(default_factory=AdmissionSettings)
    #: History older than this is compacted away, as kube-apiserver asks etcd every 5 minutes.
    compaction_interval_seconds: float = 300.0
    #: HTTPS with post-quantum key exchange; None serves plain HTTP (in-process tests only).
    tls: TlsSettings | None = None


class ApiServer:
    """A Kubernetes-compatible API server over one store."""

    def __init__(
        self,
        store: Store,
        settings: ApiServerSettings,
        *,
        clock: Clock | None = None,
        authorizer: Authorizer | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock or RealClock()
        self.cache = WatchCache(store)
        self.admission = Admission(settings.admission, self._lookup, self._list_all)
        self.registry = Registry(store, self.cache, self.admission, self.clock)
        self.handlers = ResourceHandlers(self.registry, self.cache, store, self.clock)
        self.discovery = Discovery(RESOURCE_TYPES + CONVERTED_RESOURCE_TYPES + METRICS_RESOURCE_TYPES, f"v1.32.0+kubelite.{__version__}")
        self.router = Router(RESOURCE_TYPES)
        self.metrics = ApiServerMetrics()
        self.authorizer: Authorizer = authorizer or AllowAll()
        self.tls = TlsTerminator(settings.tls, self.metrics.registry) if settings.tls is not None else None
        self._http = HttpServer(
            self.handle,
            max_body_bytes=MAX_REQUEST_BYTES,
            too_large_body=errors.too_large().body(),
            wrap_connection=self.tls.wrap if self.tls is not None else None,
        )
        self.port = settings.port
        self._ready = False
        self._compactor: asyncio.Task[None] | None = None

    def _lookup(self, resource: ResourceType, namespace: str | None, name: str) -> dict[str, Any] | None:
        found = self.cache.get(store_key(resource, namespace, name))
        return found.obj if found is not None else None

    def _list_all(self, resource: ResourceType) -> list[dict[str, Any]]:
        return [item.obj for item in self.cache.list(resource.key, None)]

    async def start(self) -> None:
        """Load the cache, create the system namespaces, and start listening."""
        await self.cache.start()
        for name in SYSTEM_NAMESPACES:
            if self.cache.get(store_key(NAMESPACES, None, name)) is None:
                body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
                try:
                    await self.registry.create(NAMESPACES, None, body)
                except errors.ApiError as error:
                    if error.code != 409:
                        raise
        self.port = await self._http.start(self.settings.host, self.settings.port)
        self._compactor = asyncio.get_running_loop().create_task(self._compact_periodically())
        self._ready = True

    async def _compact_periodically(self) -> None:
        """Each interval, compact to the revision seen one interval ago (so history spans 1-2 intervals)."""
        previous = self.store.revision
        while True:
            await self.clock.sleep(self.settings.compaction_interval_seconds)
            if previous > self.store.compacted_revision:
                try:
                    await self.store.compact(previous)
                except Exception:
                    log.exception("compaction to revision %d failed", previous)
            previous = self.store.revision

    async def stop(self) -> None:
        self._ready = False
        if self._compactor is not None:
            self._compactor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._compactor
        await self._http.stop()
        await self.cache.stop()

    @property
    def url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{self.settings.host}:{self.port}"

    async def handle(self, request: Request) -> Response | StreamResponse:
        """Serve one request; every failure becomes a Kubernetes Status."""
        started = time.perf_counter()
        verb = request.method.lower()
        try:
            answered = await self.authorizer.authorize(request)
            response = answered if answered is not None else await self._route(request)
            if isinstance(response, StreamResponse):
                verb = "watch"
        except errors.ApiError as error:
            response = Response(error.code, error.body())
        except Exception as error:
            log.exception("unexpected failure serving %s %s", request.method, request.path)
            failure = errors.internal(type(error).__name__)
            response = Response(failure.code, failure.body())
        self.metrics.observe(verb, _resource_label(request.path), response.status, time.perf_counter() - started)
        return response

    async def _route(self, request: Request) -> Response | StreamResponse:
        path = request.path.rstrip("/") or "/"
        segments = path.strip("/").split("/")
        head = segments[0]
        method = request.method
        if head in ("api", "apis") and (
            (head == "api" and len(segments) > 2) or (head == "apis" and len(segments) > 3)
        ):
            query = parse_query(request.query_string)
            if method == "GET" and segments[:3] == METRICS_API_PREFIX and len(segments) > 3:
                return await serve_metrics(segments, query, self._list_all, self.handlers.agents)
            if (
                method == "POST"
                and segments[:3] == ["api", "v1", "namespaces"]
                and segments[4:] == ["bindings"]
            ):
                return await self.handlers.bind_by_body(request, segments[3])
            if segments[:3] == ["apis", "autoscaling", "v1"]:
                return await serve_v1(request, self._route)
            target = self.router.resolve(method, segments, query)
            if target is not None:
                return await self.handlers.handle(request, target, query)
        if method not in ("GET", "HEAD"):
            raise errors.method_not_allowed(method, path)
        return self._static(request, path, segments)

    def _static(self, request: Request, path: str, segments: list[str]) -> Response:
        discovery = self.discovery
        accept = request.headers.get("accept", "")
        aggregated = "as=APIGroupDiscoveryList" in accept
        if path in ("/healthz", "/livez", "/readyz"):
            if path == "/readyz" and not self._ready:
                return Response(503, b"not ready", "text/plain; charset=utf-8")
            return Response(200, b"ok", "text/plain; charset=utf-8")
        if path == "/version":
            return Response(200, discovery.version)
        if path == "/metrics":
            self.metrics.watchers.set(self.cache.watcher_count())
            self.metrics.revision.set(self.store.revision)
            return Response(200, self.metrics.exposition(), "text/plain; version=0.0.4; charset=utf-8")
        if path == "/api":
            if aggregated:
                return Response(200, discovery.aggregated_core, AGGREGATED_CONTENT_TYPE)
            return Response(200, discovery.api_versions)
        if path == "/apis":
            if aggregated:
                return Response(200, discovery.aggregated_groups, AGGREGATED_CONTENT_TYPE)
            return Response(200, discovery.api_groups)
        if segments[0] == "api" and len(segments) == 2 and segments[1] in discovery.resource_lists:
            return Response(200, discovery.resource_lists[segments[1]])
        if segments[0] == "apis" and len(segments) == 2 and segments[1] in discovery.groups:
            return Response(200, discovery.groups[segments[1]])
        if segments[0] == "apis" and len(segments) == 3:
            listing = discovery.resource_lists.get(f"{segments[1]}/{segments[2]}")
            if listing is not None:
                return Response(200, listing)
        if path == "/openapi/v2":
            return Response(200, discovery.openapi_v2)
        if path == "/openapi/v3":
            return Response(200, discovery.openapi_v3_root)
        if path.startswith("/openapi/v3/"):
            document = discovery.openapi_v3_docs.get(path[len("/openapi/v3/") :])
            if document is not None:
                return Response(200, document)
        if path == "/":
            paths = [
                "/api",
                "/apis",
                "/healthz",
                "/livez",
                "/metrics",
                "/openapi/v2",
                "/openapi/v3",
                "/readyz",
                "/version",
            ]
            return Response(200, msgspec.json.encode({"paths": paths}))
        raise errors.path_not_found()


def _resource_label(path: str) -> str:
    """The resource a path names ("pods", "deployments"), or "" for non-resource paths."""
    segments = path.strip("/").split("/")
    if segments[0] == "api":
        rest = segments[2:]
    elif segments[0] == "apis":
        rest = segments[3:]
    else:
        return ""
    if len(rest) >= 3 and rest[0] == "namespaces":
        return rest[2]
    return rest[0] if rest else ""
