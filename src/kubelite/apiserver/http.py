"""A small, fast HTTP/1.1 server on asyncio and httptools.

The API server needs three things a generic ASGI stack makes awkward: responses served straight
from cached bytes (the hot GET path should cost one dict lookup and one write), long-lived chunked
watch streams with back-pressure, and a transport that can later be wrapped in a TLS layer of our
own choosing. So this module owns the connection: it parses requests with httptools, enforces the
request size limit before reading a body, runs one request at a time per connection (HTTP/1.1
keep-alive), and writes either a complete response or a chunked stream.

Data flow: bytes -> `HttpConnection.data_received` -> httptools callbacks -> `Request` ->
`handler(request)` -> `Response` | `StreamResponse` -> bytes on the transport.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import cast
from urllib.parse import unquote

import httptools

log = logging.getLogger(__name__)

_REASONS = {status.value: status.phrase for status in HTTPStatus}
_REASONS[422] = "Unprocessable Entity"


@dataclass(slots=True)
class Request:
    """One parsed HTTP request. Header names are lower-case."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    body: bytes = b""
    peer: str = ""
    #: Facts established by the connection (e.g. the TLS client identity), read by authentication.
    connection_info: dict[str, object] = field(default_factory=dict)


@dataclass(slots=True)
class Response:
    """A complete response."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class StreamResponse:
    """A chunked response whose body is produced over time (watch, log follow)."""

    status: int
    chunks: AsyncIterator[bytes]
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


Handler = Callable[[Request], Awaitable[Response | StreamResponse]]


def _head(status: int, content_type: str, headers: list[tuple[str, str]], extra: str) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}\r\nContent-Type: {content_type}\r\n"]
    for name, value in headers:
        lines.append(f"{name}: {value}\r\n")
    lines.append(extra)
    lines.append("\r\n")
    return "".join(lines).encode("latin-1")


class HttpConnection(asyncio.Protocol):
    """One client connection: parse, dispatch, write, repeat."""

    def __init__(self, handler: Handler, max_body_bytes: int, too_large_body: bytes) -> None:
        self._handler = handler
        self._max_body_bytes = max_body_bytes
        self._too_large_body = too_large_body
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._peer = ""
        self._url = b""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._body_size = 0
        self._pending: asyncio.Queue[Request | None] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._writable = asyncio.Event()
        self._writable.set()
        self._closed = asyncio.Event()
        self._rejected = False
        self.connection_info: dict[str, object] = {}

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses
        peer = transport.get_extra_info("peername")
        self._peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer or "")
        self._worker = asyncio.get_running_loop().create_task(self._serve())

    def data_received(self, data: bytes) -> None:
        if self._rejected:
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(
                400,
                b'{"kind":"Status","apiVersion":"v1","status":"Failure","message":"upgrade is not supported","reason":"BadRequest","code":400}',
            )
        except httptools.HttpParserError:
            self._fail(
                400,
                b'{"kind":"Status","apiVersion":"v1","status":"Failure","message":"malformed HTTP request","reason":"BadRequest","code":400}',
            )

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed.set()
        self._writable.set()
        self._pending.put_nowait(None)

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = {}
        self._body = []
        self._body_size = 0

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        self._headers[key] = f"{self._headers[key]},{text}" if key in self._headers else text

    def on_headers_complete(self) -> None:
        length = self._headers.get("content-length", "")
        if length.isdigit() and int(length) > self._max_body_bytes:
            self._fail(413, self._too_large_body)

    def on_body(self, body: bytes) -> None:
        self._body_size += len(body)
        if self._body_size > self._max_body_bytes:
            self._fail(413, self._too_large_body)
            return
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._rejected:
            return
        raw_path, _, query = self._url.decode("latin-1").partition("?")
        request = Request(
            method=self._parser.get_method().decode("ascii"),
            path=unquote(raw_path),
            query_string=query,
            headers=self._headers,
            body=b"".join(self._body),
            peer=self._peer,
            connection_info=self.connection_info,
        )
        self._pending.put_nowait(request)

    # serving
    def _fail(self, status: int, body: bytes) -> None:
        """Answer immediately and close: the rest of the stream cannot be trusted."""
        self._rejected = True
        if self._transport is not None and not self._transport.is_closing():
            head = _head(
                status, "application/json", [], f"Content-Length: {len(body)}\r\nConnection: close\r\n"
            )
            self._transport.write(head + body)
            self._transport.close()

    async def _serve(self) -> None:
        while True:
            request = await self._pending.get()
            if request is None or self._transport is None or self._transport.is_closing():
                return
            keep_alive = request.headers.get("connection", "").lower() != "close"
            try:
                response = await self._handler(request)
            except Exception:  # a bug in a handler must not kill the connection silently
                log.exception("handler failed for %s %s", request.method, request.path)
                response = Response(
                    500,
                    b'{"kind":"Status","apiVersion":"v1","status":"Failure","message":"internal error","reason":"InternalError","code":500}',
                )
            if isinstance(response, StreamResponse):
                await self._stream(response)
                keep_alive = keep_alive and not self._closed.is_set()
            else:
                self._write_full(response, keep_alive)
            if not keep_alive:
                self._transport.close()
                return

    def _write_full(self, response: Response, keep_alive: bool) -> None:
        assert self._transport is not None
        extra = f"Content-Length: {len(response.body)}\r\n" + ("" if keep_alive else "Connection: close\r\n")
        self._transport.write(
            _head(response.status, response.content_type, response.headers, extra) + response.body
        )

    async def _stream(self, response: StreamResponse) -> None:
        assert self._transport is not None
        transport = self._transport
        transport.write(
            _head(response.status, response.content_type, response.headers, "Transfer-Encoding: chunked\r\n")
        )
        closed_wait = asyncio.ensure_future(self._closed.wait())
        chunks = response.chunks
        try:
            while not self._closed.is_set():
                next_chunk = asyncio.ensure_future(anext(chunks))
                done, _ = await asyncio.wait({next_chunk, closed_wait}, return_when=asyncio.FIRST_COMPLETED)
                if next_chunk not in done:
                    next_chunk.cancel()
                    with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                        await next_chunk
                    break
                try:
                    chunk = next_chunk.result()
                except StopAsyncIteration:
                    transport.write(b"0\r\n\r\n")
                    break
                if chunk:
                    transport.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                if not self._writable.is_set():
                    await self._writable.wait()
        finally:
            closed_wait.cancel()
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()


class HttpServer:
    """Listens on a host and port and hands each connection an `HttpConnection`."""

    def __init__(
        self,
        handler: Handler,
        *,
        max_body_bytes: int,
        too_large_body: bytes,
        wrap_connection: Callable[[HttpConnection], asyncio.Protocol] | None = None,
    ) -> None:
        self._handler = handler
        self._max_body_bytes = max_body_bytes
        self._too_large_body = too_large_body
        # A layer (TLS) that owns the raw socket and feeds the HTTP connection plaintext.
        self._wrap_connection = wrap_connection
        self._server: asyncio.base_events.Server | None = None

    def protocol(self) -> asyncio.Protocol:
        connection = HttpConnection(self._handler, self._max_body_bytes, self._too_large_body)
        return self._wrap_connection(connection) if self._wrap_connection is not None else connection

    async def start(self, host: str, port: int) -> int:
        """Start listening; returns the bound port (useful with port 0)."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self.protocol, host, port, reuse_address=True, backlog=1024)
        sockets = self._server.sockets
        return int(sockets[0].getsockname()[1]) if sockets else port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), timeout=2)
            self._server = None
