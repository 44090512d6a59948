"""Transports move `HttpRequest`s to a server and bring back `HttpResponse`s.

`HttpTransport` talks HTTP to a real API server (kubelite's or Kubernetes') with httpx;
an in-process transport (provided by the API server package) calls the server's handler directly.
Both satisfy the same `Transport` protocol, so every component runs unchanged either way.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from typing import Protocol

import httpx

from .core import HttpRequest, HttpResponse, error_from
from .errors import TransportError


class Transport(Protocol):
    async def send(self, request: HttpRequest) -> HttpResponse:
        """Send one request and read the whole response."""
        ...

    def stream_lines(self, request: HttpRequest) -> AsyncIterator[bytes]:
        """Send one request and yield the response body line by line (for watch); raises
        `ApiError` if the server answers with a failure."""
        ...

    async def close(self) -> None: ...


class HttpTransport:
    """HTTP/1.1 with keep-alive to one server."""

    def __init__(
        self,
        server: str,
        *,
        verify: ssl.SSLContext | bool = True,
        headers: dict[str, str] | None = None,
        timeout: float = 30.0,
        max_connections: int = 100,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=server,
            verify=verify,
            headers=headers or {},
            timeout=httpx.Timeout(timeout, read=None),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )

    async def send(self, request: HttpRequest) -> HttpResponse:
        try:
            response = await self._client.request(
                request.method,
                request.path,
                params=request.query,
                content=request.body or None,
                headers={"content-type": request.content_type, "accept": request.accept},
            )
        except httpx.HTTPError as error:
            raise TransportError(f"{request.method} {request.path}: {error}") from error
        return HttpResponse(response.status_code, response.content, response.headers.get("content-type", ""))

    async def stream_lines(self, request: HttpRequest) -> AsyncIterator[bytes]:
        try:
            async with self._client.stream(
                request.method, request.path, params=request.query, headers={"accept": request.accept}
            ) as response:
                if response.status_code >= 400:
                    body = await response.aread()
                    raise error_from(HttpResponse(response.status_code, body))
                buffer = b""
                async for chunk in response.aiter_bytes():
                    buffer += chunk
                    while b"\n" in buffer:
                        line, buffer = buffer.split(b"\n", 1)
                        if line.strip():
                            yield line
                if buffer.strip():
                    yield buffer
        except httpx.HTTPError as error:
            raise TransportError(f"{request.method} {request.path}: {error}") from error

    async def close(self) -> None:
        await self._client.aclose()
