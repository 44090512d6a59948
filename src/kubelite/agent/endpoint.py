"""The agent's own HTTP endpoint (the kubelet's port 10250): container logs, stats and metrics.

Routes (GET only, one request per connection):
- `/containerLogs/{namespace}/{pod}/{container}?follow=&previous=&tailLines=&limitBytes=`: the
  container's output, stdout and stderr interleaved as written (the runtimes append both to one
  file); `follow` keeps streaming (chunked) until the attempt ends, `limitBytes` is reached, or the
  client goes away;
- `/stats/summary`: the last `Summary` (see `kubelite.agent.stats`) as JSON;
- `/metrics`: Prometheus exposition; `/healthz`: "ok".
HTTP is parsed with h11; the API server's `pods/log` proxy and metrics.k8s.io view call it. The
endpoint listens on the node's address. In a secure cluster the composition gives it a protocol
wrapper (`ProtocolWrapper`) that terminates post-quantum TLS and admits only the API server's
kubelet-client certificate, so every request that reaches `route` was authenticated by the
handshake; without one (in-process tests) it speaks plain HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import h11

from kubelite.agent.runtime.interface import LogPaths
from kubelite.clock import Clock

FOLLOW_POLL_SECONDS = 0.2
READ_CHUNK_BYTES = 65536
#: Wraps each accepted connection's protocol (TLS termination); see the module docstring.
ProtocolWrapper = Callable[[asyncio.Protocol], asyncio.Protocol]


@dataclass(frozen=True)
class LogTarget:
    """A container attempt's log files and whether it may still write to them."""

    paths: LogPaths
    still_running: Callable[[], bool]


class LogSource(Protocol):
    def find_logs(self, namespace: str, pod: str, container: str, previous: bool) -> LogTarget | str:
        """The container's logs, or a message saying why there are none."""
        ...


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes | AsyncIterator[bytes]
    content_type: str = "text/plain; charset=utf-8"


def tail_lines(data: bytes, count: int | None) -> bytes:
    if count is None:
        return data
    if count <= 0:
        return b""
    lines = data.splitlines(keepends=True)
    return b"".join(lines[-count:])


async def limited(chunks: AsyncIterator[bytes], limit: int | None) -> AsyncIterator[bytes]:
    """At most `limit` bytes of `chunks` (kubectl logs --limit-bytes), then the stream ends."""
    left = limit
    async for chunk in chunks:
        if left is not None:
            chunk, left = chunk[:left], left - len(chunk[:left])
        if chunk:
            yield chunk
        if left == 0:
            return


async def follow_logs(target: LogTarget, tail: int | None, clock: Clock) -> AsyncIterator[bytes]:
    """Existing output (tailed), then whatever the container writes until it ends."""
    offsets: dict[Path, int] = {}
    initial = b""
    for path in target.paths.files:
        data = path.read_bytes() if path.exists() else b""
        offsets[path] = len(data)
        initial += data
    initial = tail_lines(initial, tail)
    if initial:
        yield initial
    while True:
        running = target.still_running()
        for path in offsets:
            if not path.exists():
                continue
            with path.open("rb") as handle:
                handle.seek(offsets[path])
                fresh = handle.read()
            if fresh:
                offsets[path] += len(fresh)
                yield fresh
        if not running:
            return
        await clock.sleep(FOLLOW_POLL_SECONDS)


class AgentEndpoint:
    """Serves the routes in the module docstring."""

    def __init__(
        self,
        logs: LogSource,
        summary: Callable[[], dict[str, object]],
        metrics: Callable[[], bytes],
        clock: Clock,
        wrap: ProtocolWrapper | None = None,
    ) -> None:
        self._logs = logs
        self._summary = summary
        self._metrics = metrics
        self._clock = clock
        self._wrap = wrap
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.get_running_loop().create_server(self._protocol, host, port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    def _protocol(self) -> asyncio.Protocol:
        inner = asyncio.StreamReaderProtocol(asyncio.StreamReader(), self._serve)
        return self._wrap(inner) if self._wrap is not None else inner

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)

    def route(self, target: str) -> Reply:
        parts = urlsplit(target)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        segments = [unquote(s) for s in parts.path.strip("/").split("/")]
        if segments[0] == "containerLogs" and len(segments) == 4:
            namespace, pod, container = segments[1:]
            previous = query.get("previous", "false") == "true"
            found = self._logs.find_logs(namespace, pod, container, previous)
            if isinstance(found, str):
                return Reply(404, found.encode())
            tail = int(query["tailLines"]) if query.get("tailLines", "").lstrip("-").isdigit() else None
            limit = int(query["limitBytes"]) if query.get("limitBytes", "").isdigit() else None
            if query.get("follow", "false") == "true":
                return Reply(200, limited(follow_logs(found, tail, self._clock), limit))
            data = tail_lines(b"".join(p.read_bytes() for p in found.paths.files if p.exists()), tail)
            return Reply(200, data if limit is None else data[:limit])
        if parts.path == "/stats/summary":
            return Reply(200, json.dumps(self._summary()).encode(), "application/json")
        if parts.path == "/metrics":
            return Reply(200, self._metrics(), "text/plain; version=0.0.4; charset=utf-8")
        if parts.path == "/healthz":
            return Reply(200, b"ok")
        return Reply(404, b"not found")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = h11.Connection(h11.SERVER)
        try:
            request = await self._read_request(connection, reader)
            if request is None:
                return
            reply = self.route(request.target.decode()) if request.method == b"GET" else Reply(405, b"")
            headers = [("content-type", reply.content_type), ("connection", "close")]
            if isinstance(reply.body, bytes):
                headers.append(("content-length", str(len(reply.body))))
                writer.write(connection.send(h11.Response(status_code=reply.status, headers=headers)) or b"")
                writer.write(connection.send(h11.Data(data=reply.body)) or b"")
            else:
                headers.append(("transfer-encoding", "chunked"))
                writer.write(connection.send(h11.Response(status_code=reply.status, headers=headers)) or b"")
                async for chunk in reply.body:
                    writer.write(connection.send(h11.Data(data=chunk)) or b"")
                    await writer.drain()
            writer.write(connection.send(h11.EndOfMessage()) or b"")
            await writer.drain()
        except (ConnectionError, h11.ProtocolError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    @staticmethod
    async def _read_request(connection: h11.Connection, reader: asyncio.StreamReader) -> h11.Request | None:
        while True:
            event = connection.next_event()
            if isinstance(event, h11.Request):
                return event
            if event is h11.NEED_DATA:
                data = await reader.read(READ_CHUNK_BYTES)
                connection.receive_data(data)
                if not data:
                    return None
            elif isinstance(event, h11.ConnectionClosed):
                return None
