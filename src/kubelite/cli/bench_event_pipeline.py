"""The controllers' event-pipeline benchmark: pod status writes -> API server -> watch -> informer ->
work queue -> reconcile start, with the controller side in its own process.

Data flow: this process runs an API server (memory store, HTTP on 127.0.0.1) and a writer that
offers `rate` pod status updates per second for `seconds` (each PATCH of `pods/status` carries a
sequence number in `status.message`, and its acknowledgement time is noted). A child process,
`kubelite.controllers.pipeline_probe` (the controller side, importing only the client), runs a
pod informer and a `RateLimitingQueue` with `workers` workers over HTTP, and notes when each
reconcile starts and which sequence number the cache then holds. Both use CLOCK_MONOTONIC, which is one clock for all
processes of a Linux host.

Reported: the offered and sustained write rates, reconciles per second, the delay from a write's
acknowledgement to the first reconcile that sees it (p50/p99/max; writes the queue coalesced
count at the reconcile that covers them, as in client-go), and the child's peak RSS and CPU.
Reference (Go controllers): 10,000 pod events/s at p99 2 ms, 45 MB RSS, 15% of a core.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import os
import sys
import time
from typing import Annotated, Any
from urllib.parse import urlsplit

import numpy as np
import typer

from kubelite.api.resources import PODS
from kubelite.apiserver.server import ApiServer, ApiServerSettings
from kubelite.client import ApiClient, HttpTransport
from kubelite.client.informers import SharedInformerFactory
from kubelite.client.loadgen import read_response, request_bytes
from kubelite.clock import RealClock
from kubelite.controllers.pipeline_probe import record_reconciles
from kubelite.store import open_store

REFERENCE = {"events_per_second": 10_000, "p99_ms": 2.0, "rss_mb": 45.0, "cpu_percent": 15.0}
NAMESPACE = "default"


async def _write_load(
    server: str, pods: int, rate: float, seconds: float, concurrency: int
) -> tuple[dict[str, list[tuple[int, float]]], float, float, int]:
    """Offer `rate` status PATCHes a second, round-robin over the pods; returns acks per pod,
    when the load began, how long it took and how many writes failed.

    The writes go over raw keep-alive connections with prebuilt requests (`client.loadgen`):
    this process also hosts the API server, so a heavier client would be what is measured."""
    acks: dict[str, list[tuple[int, float]]] = {f"bench-{i}": [] for i in range(pods)}
    total = int(rate * seconds)
    failures = 0
    next_index = 0
    names = list(acks)
    parts = urlsplit(server)
    host = parts.netloc
    streams = await asyncio.gather(
        *(asyncio.open_connection(parts.hostname, parts.port) for _ in range(concurrency))
    )
    begin = time.monotonic()

    async def writer(reader: asyncio.StreamReader, stream: asyncio.StreamWriter) -> None:
        nonlocal next_index, failures
        try:
            # Offer the load for `seconds` only: what the server has not taken by then is not sent.
            while next_index < total and time.monotonic() < begin + seconds:
                index = next_index
                next_index += 1
                delay = begin + index / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                name = names[index % pods]
                body = json.dumps({"status": {"message": str(index)}}).encode()
                path = f"/api/v1/namespaces/{NAMESPACE}/pods/{name}/status"
                stream.write(request_bytes("PATCH", path, host, body, "application/merge-patch+json"))
                if await read_response(reader) >= 400:
                    failures += 1
                    continue
                acks[name].append((index, time.monotonic()))
        finally:
            stream.close()

    await asyncio.gather(*(writer(reader, stream) for reader, stream in streams))
    return acks, begin, time.monotonic() - begin, failures


def _delays(acks: dict[str, list[tuple[int, float]]], starts: list[tuple[str, int, float]]) -> list[float]:
    """For each acknowledged write, the wait until the first reconcile of its pod that saw it."""
    by_pod: dict[str, list[tuple[int, float]]] = {}
    for name, sequence, started in starts:
        by_pod.setdefault(name, []).append((sequence, started))
    delays: list[float] = []
    for name, writes in acks.items():
        seen = sorted(by_pod.get(name, []), key=lambda item: item[1])
        # The highest sequence seen so far, at each reconcile start, in time order.
        best: list[int] = []
        for sequence, _ in seen:
            best.append(max(sequence, best[-1]) if best else sequence)
        times = [started for _, started in seen]
        for sequence, acked in writes:
            position = bisect.bisect_left(best, sequence)
            if position < len(best):
                delays.append(max(0.0, times[position] - acked))
    return delays


async def run_event_pipeline_bench(
    rate: float = 10_000, seconds: float = 10.0, pods: int = 1_000, workers: int = 4, concurrency: int = 64
) -> dict[str, Any]:
    """Run the benchmark and return its figures as a dict (see the module docstring)."""
    server = ApiServer(open_store("memory://"), ApiServerSettings(port=0))
    await server.start()
    client = ApiClient(HttpTransport(server.url, max_connections=concurrency))
    child: asyncio.subprocess.Process | None = None
    try:
        semaphore = asyncio.Semaphore(concurrency)

        async def create(index: int) -> None:
            async with semaphore:
                body = {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": f"bench-{index}"},
                    "spec": {"containers": [{"name": "c", "image": "busybox"}]},
                }
                await client.create(PODS, body, NAMESPACE)

        await asyncio.gather(*(create(i) for i in range(pods)))
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "kubelite.controllers.pipeline_probe",
            server.url,
            str(workers),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert child.stdin is not None and child.stdout is not None
        synced = await asyncio.wait_for(child.stdout.readline(), 120)
        if synced.strip() != b"synced":
            raise RuntimeError(f"the controller side did not start: {synced!r}")
        acks, _began, elapsed, failures = await _write_load(server.url, pods, rate, seconds, concurrency)
        child.stdin.write(b"done\n")
        await child.stdin.drain()
        # The report holds every reconcile start: read to the end, not a (size-limited) line.
        report: dict[str, Any] = json.loads(await asyncio.wait_for(child.stdout.read(), 120))
        await child.wait()
    finally:
        await client.close()
        if child is not None and child.returncode is None:
            child.kill()
            await child.wait()
        await server.stop()
    written = sum(len(w) for w in acks.values())
    delays = np.array(_delays(acks, report["starts"])) * 1000.0
    # Reconciles of real writes only (the informer's initial adds carry no sequence number).
    reconciles = sum(1 for _, sequence, _ in report["starts"] if sequence >= 0)

    def percentile(q: float) -> float | None:
        return round(float(np.percentile(delays, q)), 2) if delays.size else None

    return {
        "benchmark": "event_pipeline",
        "offered_writes_per_second": rate,
        "sustained_writes_per_second": round(written / elapsed, 1) if elapsed > 0 else 0.0,
        "reconciles_per_second": round(reconciles / elapsed, 1) if elapsed > 0 else 0.0,
        "writes": written,
        "write_failures": failures,
        "watch_events": report["watch_events"],
        "coalesced_by_queue": report["deduplicated"],
        "writes_measured": int(delays.size),
        "p50_ms": percentile(50),
        "p99_ms": percentile(99),
        "max_ms": round(float(delays.max()), 2) if delays.size else None,
        "controller_rss_mb": round(report["rss_mb"], 1),
        "controller_cpu_percent": round(report["cpu_percent"], 1),
        "pods": pods,
        "workers": workers,
        "reference_go": REFERENCE,
    }


async def run_informer_queue_capacity(
    events: int = 200_000, pods: int = 1_000, workers: int = 4
) -> dict[str, Any]:
    """The controller side alone, in this process: watch events applied to a `SharedInformer` as
    fast as it takes them, through its handler and the work queue to reconcile start. This is the
    ceiling of the Python pipeline, independent of the API server's write rate."""
    clock = RealClock()
    unused_client = ApiClient(HttpTransport("http://127.0.0.1:9"))  # apply() never calls the server
    factory = SharedInformerFactory(unused_client, clock)
    informer = factory.informer(PODS)
    queue, starts, worker = record_reconciles(informer, clock, "capacity")

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    applied: dict[str, list[tuple[int, float]]] = {f"bench-{i}": [] for i in range(pods)}
    names = list(applied)
    cpu_before, begin = os.times(), time.monotonic()
    for index in range(events):
        name = names[index % pods]
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": NAMESPACE, "resourceVersion": str(index + 1)},
            "status": {"message": str(index)},
        }
        informer.apply("MODIFIED", pod)
        applied[name].append((index, time.monotonic()))
        if index % 64 == 63:
            await asyncio.sleep(0)  # a watch stream yields between chunks; so do we
    while len(queue):
        await asyncio.sleep(0)
    for _ in range(2 * workers):
        await asyncio.sleep(0)  # let the last keys' workers finish
    elapsed = time.monotonic() - begin
    cpu_after = os.times()
    queue.shutdown()
    await asyncio.gather(*tasks)
    await unused_client.close()
    delays = np.array(_delays(applied, starts)) * 1000.0
    cpu = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    return {
        "benchmark": "informer_queue_capacity",
        "events": events,
        "events_per_second": round(events / elapsed, 1),
        "reconciles": len(starts),
        "p50_ms": round(float(np.percentile(delays, 50)), 3),
        "p99_ms": round(float(np.percentile(delays, 99)), 3),
        "cpu_percent": round(100.0 * cpu / elapsed, 1),
    }


def bench_event_pipeline(
    rate: Annotated[float, typer.Option("--rate", help="Pod status writes offered per second.")] = 10_000,
    seconds: Annotated[float, typer.Option("--seconds", help="How long the load is offered.")] = 10.0,
    pods: Annotated[int, typer.Option("--pods", help="Pods the writes are spread over.")] = 1_000,
    workers: Annotated[int, typer.Option("--workers", help="Work-queue workers.")] = 4,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Event pipeline: pod status writes through API server, watch, informer and work queue."""
    result = asyncio.run(run_event_pipeline_bench(rate, seconds, pods, workers))
    result["informer_queue_capacity"] = asyncio.run(run_informer_queue_capacity(pods=pods, workers=workers))
    if as_json:
        typer.echo(json.dumps(result))
        return
    for key, value in result.items():
        typer.echo(f"{key:>28}: {value}")
