"""Watch streams: one subscriber of the watch cache per client watch, framed as Kubernetes does.

A watch starts from a resourceVersion (events after it, from the cache's history; 410 Gone as an
ERROR event when that history is gone) or from the current state (synthetic ADDED events). Events
are read from the watcher's queue, rendered from cached bytes (or as one-row Tables for kubectl),
batched while more are waiting, and interleaved with BOOKMARKs when the stream is idle.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import msgspec

from kubelite.api.resources import ResourceType
from kubelite.clock import Clock
from kubelite.store.interface import CompactedError

from . import errors
from .encoding import wants_table
from .http import Request, StreamResponse
from .routing import ResourceRequest, int_param
from .selection import build_selection
from .tables import render_table
from .watchcache import CachedObject, EventType, WatchCache, Watcher, frame

_encode = msgspec.json.encode
BOOKMARK_INTERVAL_SECONDS = 30.0


def open_watch(
    cache: WatchCache, clock: Clock, request: Request, target: ResourceRequest, query: dict[str, str]
) -> StreamResponse:
    """Subscribe a watcher and return the stream that serves it (an ERROR 410 event if too old)."""
    resource = target.resource
    selection = build_selection(resource, query.get("labelSelector", ""), query.get("fieldSelector", ""))
    if target.name is not None:
        selection = selection.with_name(target.name)
    version = query.get("resourceVersion", "")
    after: int | None = None
    if version not in ("", "0"):
        try:
            after = int(version)
        except ValueError:
            raise errors.bad_request(f'invalid resource version "{version}"') from None
    timeout = int_param(query, "timeoutSeconds")
    bookmarks = query.get("allowWatchBookmarks", "").lower() in ("true", "1")
    as_table = wants_table(request)
    watcher = Watcher(resource.key, target.namespace, selection.matches)
    try:
        cache.subscribe(watcher, after)
        gone = False
    except CompactedError:
        gone = True
    return StreamResponse(
        200, _stream(cache, clock, resource, watcher, gone, timeout, bookmarks, as_table, request)
    )


async def _stream(
    cache: WatchCache,
    clock: Clock,
    resource: ResourceType,
    watcher: Watcher,
    gone: bool,
    timeout: int | None,
    bookmarks: bool,
    as_table: bool,
    request: Request,
) -> AsyncIterator[bytes]:
    if gone:
        error = errors.gone("too old resource version")
        yield b'{"type":"ERROR","object":' + error.body() + b"}\n"
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout if timeout else None
    render: Callable[[EventType, CachedObject], bytes]
    if as_table:

        def render(event_type: EventType, item: CachedObject) -> bytes:
            table = render_table(
                resource,
                [item.obj],
                clock.now(),
                request,
                item.obj["metadata"]["resourceVersion"],
                "",
            )
            return frame(event_type, _encode(table))
    else:

        def render(event_type: EventType, item: CachedObject) -> bytes:
            return frame(event_type, item.raw)

    try:
        while True:
            wait = BOOKMARK_INTERVAL_SECONDS
            if deadline is not None:
                wait = min(wait, deadline - loop.time())
                if wait <= 0:
                    return
            try:
                message = await asyncio.wait_for(watcher.queue.get(), wait)
            except TimeoutError:
                if bookmarks:
                    yield _bookmark(cache, resource)
                continue
            if message is None:
                return
            chunk = [render(*message)]
            while not watcher.queue.empty() and len(chunk) < 256:
                extra = watcher.queue.get_nowait()
                if extra is None:
                    yield b"".join(chunk)
                    return
                chunk.append(render(*extra))
            yield b"".join(chunk)
    finally:
        cache.unsubscribe(watcher)


def _bookmark(cache: WatchCache, resource: ResourceType) -> bytes:
    body = _encode(
        {
            "kind": resource.kind,
            "apiVersion": resource.api_version,
            "metadata": {"resourceVersion": str(cache.revision)},
        }
    )
    return frame("BOOKMARK", body)
