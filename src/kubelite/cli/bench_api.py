"""`kubelite bench api`: API server throughput and latency over loopback, printed as JSON.

It drives a running server (`--kubeconfig`) or starts its own `kubelite up --agents 0` in a separate
process, so the server and the load generator each have a core. Scenarios: single-object GET,
create, mutating latency at a fixed 1,000 writes/s, LIST of 10,000 pods, and watch fan-out to 100
watchers. Targets (2 cores): GET >= 10,000/s, create >= 3,000/s, p99 mutating latency <= 10 ms at
1,000 writes/s, watch delivery >= 100,000 events/s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec

from kubelite.client.kubeconfig import ClusterAccess, load_kubeconfig
from kubelite.client.loadgen import LoadResult, request_bytes, run_load

_NAME = re.compile(rb'"name":"w-(\d+)"')


def _pod(name: str) -> bytes:
    return msgspec.json.encode(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": "bench"}},
            "spec": {
                "containers": [
                    {
                        "name": "c",
                        "image": "busybox",
                        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                    }
                ]
            },
        }
    )


def _config_map(name: str) -> bytes:
    return msgspec.json.encode(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}
    )


class Target:
    """Where the benchmark sends requests, with the credentials of a kubeconfig."""

    def __init__(self, access: ClusterAccess) -> None:
        self.access = access
        self.host = urlsplit(access.server).netloc
        context = access.ssl_context()
        self.ssl: ssl.SSLContext | None = context if isinstance(context, ssl.SSLContext) else None
        self.headers = access.headers()

    def request(self, method: str, target: str, body: bytes = b"") -> bytes:
        return request_bytes(method, target, self.host, body, extra_headers=self.headers)

    async def load(self, make: Any, total: int, connections: int, rate: float | None = None) -> LoadResult:
        return await run_load(
            self.access.server, make, total=total, connections=connections, rate=rate, ssl_context=self.ssl
        )


async def _post_latency_buckets(target: Target) -> dict[float, float]:
    """The server's own create-latency histogram for ConfigMaps (cumulative counts by bound)."""
    buckets: dict[float, float] = {}
    result: list[bytes] = []

    async def fetch() -> None:
        parts = urlsplit(target.access.server)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port, ssl=target.ssl)
        writer.write(target.request("GET", "/metrics").replace(b"Accept: application/json", b"Connection: close"))
        result.append(await reader.read())
        writer.close()

    await fetch()
    for line in result[0].decode(errors="replace").splitlines():
        if line.startswith("apiserver_request_duration_seconds_bucket{") and 'resource="configmaps"' in line and 'verb="post"' in line:
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[float("inf") if bound == "+Inf" else float(bound)] = float(line.rsplit(" ", 1)[1])
    return buckets


def _server_p99_ms(before: dict[float, float], after: dict[float, float]) -> float | None:
    """Upper bound of the histogram bucket holding the 99th percentile of the requests in between."""
    deltas = sorted((bound, after.get(bound, 0.0) - before.get(bound, 0.0)) for bound in after)
    if not deltas or deltas[-1][1] <= 0:
        return None
    total = deltas[-1][1]
    return next(bound * 1000 for bound, count in deltas if count >= 0.99 * total)


async def _setup(target: Target, namespaces: list[str]) -> None:
    bodies = [
        msgspec.json.encode({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        for ns in namespaces
    ]
    await target.load(lambda i: target.request("POST", "/api/v1/namespaces", bodies[i]), len(bodies), 1)


async def _watch_fanout(target: Target, namespace: str, watchers: int, events: int) -> dict[str, Any]:
    parts = urlsplit(target.access.server)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    received = 0
    delays: list[float] = []
    acked: dict[int, float] = {}
    ready = 0
    done = asyncio.Event()
    loop = asyncio.get_running_loop()

    async def watcher(sample: bool) -> None:
        nonlocal received, ready
        reader, writer = await asyncio.open_connection(host, port, ssl=target.ssl)
        writer.write(
            target.request("GET", f"/api/v1/namespaces/{namespace}/configmaps?watch=true&resourceVersion=0")
        )
        await reader.readuntil(b"\r\n\r\n")
        ready += 1
        seen = 0
        try:
            while seen < events:
                chunk = await reader.read(1 << 16)
                if not chunk:
                    break
                now = loop.time()
                names = _NAME.findall(chunk)
                seen += len(names)
                received += len(names)
                if sample:
                    delays.extend(now - acked.get(int(n), now) for n in names)
        finally:
            writer.close()
            if received >= watchers * events:
                done.set()

    tasks = [asyncio.create_task(watcher(index == 0)) for index in range(watchers)]
    while ready < watchers:
        await asyncio.sleep(0.01)
    start = loop.time()

    def make(index: int) -> bytes:
        acked[index] = loop.time()
        return target.request("POST", f"/api/v1/namespaces/{namespace}/configmaps", _config_map(f"w-{index}"))

    await target.load(make, events, 16)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), timeout=60)
    elapsed = loop.time() - start
    for task in tasks:
        task.cancel()
    delays.sort()
    return {
        "watchers": watchers,
        "events_written": events,
        "events_delivered": received,
        "events_per_second": round(received / elapsed, 1) if elapsed else 0.0,
        "p50_delay_ms": round(delays[len(delays) // 2] * 1000, 3) if delays else None,
        "p99_delay_ms": round(delays[int(len(delays) * 0.99)] * 1000, 3) if delays else None,
    }


async def run_api_benchmark(access: ClusterAccess, *, quick: bool = False) -> dict[str, Any]:
    target = Target(access)
    scale = 10 if quick else 1
    suffix = str(int(time.time() * 1000) % 10_000_000)
    ns_get, ns_create, ns_rate, ns_list, ns_watch = (
        f"bench-{kind}-{suffix}" for kind in ("get", "create", "rate", "list", "watch")
    )
    await _setup(target, [ns_get, ns_create, ns_rate, ns_list, ns_watch])
    await target.load(
        lambda i: target.request("POST", f"/api/v1/namespaces/{ns_get}/configmaps", _config_map("target")),
        1,
        1,
    )
    get_request = target.request("GET", f"/api/v1/namespaces/{ns_get}/configmaps/target")
    # The baseline, measured in the same run: the cheapest request the server answers (/livez), so
    # the GET ratio says what the API path costs on top of the HTTP server and load generator.
    livez_request = target.request("GET", "/livez")
    baseline = await target.load(lambda i: livez_request, 60_000 // scale, 32)
    gets = await target.load(lambda i: get_request, 60_000 // scale, 32)
    creates = await target.load(
        lambda i: target.request("POST", f"/api/v1/namespaces/{ns_create}/configmaps", _config_map(f"c-{i}")),
        15_000 // scale,
        64,
    )
    before = await _post_latency_buckets(target)
    paced = await target.load(
        lambda i: target.request("POST", f"/api/v1/namespaces/{ns_rate}/configmaps", _config_map(f"r-{i}")),
        5_000 // scale,
        64,
        rate=1000.0,
    )
    server_p99 = _server_p99_ms(before, await _post_latency_buckets(target))
    pods = 10_000 // scale
    await target.load(
        lambda i: target.request("POST", f"/api/v1/namespaces/{ns_list}/pods", _pod(f"p-{i}")), pods, 64
    )
    lists = await target.load(lambda i: target.request("GET", f"/api/v1/namespaces/{ns_list}/pods"), 20, 1)
    watch = await _watch_fanout(target, ns_watch, 100 // min(scale, 10) if not quick else 10, 2_000 // scale)
    results = {
        "server": access.server,
        "baseline_livez": baseline.summary(),
        "get": {**gets.summary(), "ratio_to_baseline": round(gets.rate / baseline.rate, 3) if baseline.rate else None},
        "create": creates.summary(),
        "mutating_at_1000_per_second": {**paced.summary(), "server_side_p99_ms_at_most": server_p99},
        "list_10000_pods" if not quick else "list_pods": {**lists.summary(), "pods": pods},
        "watch_fanout": watch,
    }
    results["targets"] = {
        "get_per_second>=10000": gets.rate >= 10_000,
        "create_per_second>=3000": creates.rate >= 3_000,
        "mutating_p99_ms<=10_at_1000_per_second": paced.percentile(0.99) * 1000 <= 10,
        "watch_events_per_second>=100000": watch["events_per_second"] >= 100_000,
    }
    return results


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_local_server(data_dir: Path) -> subprocess.Popen[str]:
    """`kubelite up --agents 0` in its own process; returns once it prints its ready line."""
    command = [
        sys.executable,
        "-m",
        "kubelite.cli.main",
        "up",
        "--data-dir",
        str(data_dir),
        "--port",
        str(_free_port()),
        "--agents",
        "0",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if "kubelite is ready" in line:
            return process
    raise RuntimeError("kubelite up exited before it was ready")


def bench_api(kubeconfig: Path | None, quick: bool) -> dict[str, Any]:
    """Run the benchmark against `kubeconfig`'s server, or a fresh local one."""
    if kubeconfig is not None:
        return asyncio.run(run_api_benchmark(load_kubeconfig(kubeconfig), quick=quick))
    with tempfile.TemporaryDirectory() as folder:
        process = start_local_server(Path(folder))
        try:
            results = asyncio.run(
                run_api_benchmark(load_kubeconfig(Path(folder) / "kubeconfig"), quick=quick)
            )
            results["server_started_by_benchmark"] = True
            return results
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def print_json(results: dict[str, Any]) -> None:
    print(json.dumps(results, indent=2))
