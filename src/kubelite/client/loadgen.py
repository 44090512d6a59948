"""A lean HTTP/1.1 load generator for benchmarks: prebuilt requests over keep-alive connections.

General-purpose clients spend far more CPU per request than a fast server, which would make the
client the thing measured. This one writes prebuilt request bytes and reads just enough of each
response (status line, Content-Length) to time it, over N persistent connections, optionally at a
fixed arrival rate (open loop, so slow responses show up as latency instead of fewer requests).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

RequestFactory = Callable[[int], bytes]


@dataclass(slots=True)
class LoadResult:
    """Latencies (seconds) of completed requests and the count of each status code."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0

    @property
    def completed(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.completed / self.elapsed if self.elapsed > 0 else 0.0

    def percentile(self, fraction: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def summary(self) -> dict[str, float | int | dict[str, int]]:
        return {
            "requests": self.completed,
            "requests_per_second": round(self.rate, 1),
            "p50_ms": round(self.percentile(0.50) * 1000, 3),
            "p99_ms": round(self.percentile(0.99) * 1000, 3),
            "max_ms": round(max(self.latencies, default=0.0) * 1000, 3),
            "status_codes": {str(code): count for code, count in sorted(self.statuses.items())},
        }


def request_bytes(
    method: str,
    target: str,
    host: str,
    body: bytes = b"",
    content_type: str = "application/json",
    extra_headers: dict[str, str] | None = None,
) -> bytes:
    head = [f"{method} {target} HTTP/1.1", f"Host: {host}", "Accept: application/json"]
    for name, value in (extra_headers or {}).items():
        head.append(f"{name}: {value}")
    if body:
        head.append(f"Content-Type: {content_type}")
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one response off a keep-alive connection; returns its status code."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    chunked = False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        lowered = name.strip().lower()
        if lowered == b"content-length":
            length = int(value.strip())
        elif lowered == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readline()).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def run_load(
    server: str,
    make_request: RequestFactory,
    *,
    total: int,
    connections: int = 32,
    rate: float | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> LoadResult:
    """Send `total` requests (request i is `make_request(i)`) over `connections` keep-alive connections.

    With `rate`, request i is due at start + i/rate and its latency is measured from that due time
    (open loop); without it, each connection sends as fast as responses come back (closed loop).
    """
    parts = urlsplit(server)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    context = ssl_context if parts.scheme == "https" else None
    result = LoadResult()
    counter = iter(range(total))
    loop = asyncio.get_running_loop()
    # Connect (and handshake) before the clock starts: the figures are per request, not per connection.
    streams = await asyncio.gather(*(asyncio.open_connection(host, port, ssl=context) for _ in range(connections)))
    start = loop.time()

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for index in counter:
                due = start + index / rate if rate else loop.time()
                if rate:
                    delay = due - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                writer.write(make_request(index))
                status = await read_response(reader)
                result.latencies.append(loop.time() - due)
                result.statuses[status] = result.statuses.get(status, 0) + 1
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker(reader, writer) for reader, writer in streams))
    result.elapsed = time.perf_counter() - began
    return result
