"""The in-process transport: a client in the same process calls the API server's handler directly.

Same requests and responses as over HTTP, minus sockets and parsing, so the scheduler,
controllers and simulator can share one process with the server and still use the one client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlencode

from kubelite.client.core import HttpRequest, HttpResponse, error_from

from .http import Handler, Request, Response, StreamResponse


class InProcessTransport:
    """A `kubelite.client.Transport` over an API server handler in this process."""

    def __init__(self, handler: Handler, identity: tuple[str, tuple[str, ...]] | None = None) -> None:
        """`identity` (user, groups) is who the requests act as; None is the server's own
        privileged loopback identity. Components pass their own, so RBAC applies to them as it
        would over the network."""
        self._handler = handler
        self._connection_info: dict[str, object] = {"in_process_identity": identity} if identity else {}

    def _request(self, request: HttpRequest) -> Request:
        headers = {"content-type": request.content_type, "accept": request.accept}
        return Request(
            request.method,
            request.path,
            urlencode(request.query),
            headers,
            request.body,
            "in-process",
            dict(self._connection_info),
        )

    async def send(self, request: HttpRequest) -> HttpResponse:
        response = await self._handler(self._request(request))
        if isinstance(response, StreamResponse):
            chunks = [chunk async for chunk in response.chunks]
            return HttpResponse(response.status, b"".join(chunks), response.content_type)
        return HttpResponse(response.status, response.body, response.content_type)

    async def stream_lines(self, request: HttpRequest) -> AsyncIterator[bytes]:
        response = await self._handler(self._request(request))
        if isinstance(response, Response):
            if response.status >= 400:
                raise error_from(HttpResponse(response.status, response.body))
            for line in response.body.splitlines():
                if line.strip():
                    yield line
            return
        buffer = b""
        async for chunk in response.chunks:
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if line.strip():
                    yield line

    async def close(self) -> None:
        return None
