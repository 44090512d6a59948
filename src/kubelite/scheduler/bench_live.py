"""`kubelite bench scheduler --kubeconfig FILE`: the same benchmark against a live API server.

Fake nodes (objects only) and `--existing-pods` pods (created already bound) are written through
the API first. Then the scheduler runs in this process as an API client (`run_scheduler`), M pods
are created through the API, and a watch records when each pod's binding is persisted (its
`spec.nodeName` appears). The window runs from the first pod created to the last binding seen.
Objects are deleted afterwards, outside the window.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine, Iterable
from typing import Any

import numpy as np

from kubelite.api.resources import NODES, PODS
from kubelite.client import ApiClient, ApiError
from kubelite.scheduler.bench import BenchResult, Workload, fake_node, fake_pod, peak_rss_mb
from kubelite.scheduler.live import run_scheduler
from kubelite.scheduler.profiles import Profile

CONCURRENCY = 32


async def _bounded(calls: Iterable[Coroutine[Any, Any, Any]]) -> None:
    """Await the coroutines with at most CONCURRENCY requests in flight."""
    semaphore = asyncio.Semaphore(CONCURRENCY)

    async def one(call: Coroutine[Any, Any, Any]) -> None:
        async with semaphore:
            await call

    await asyncio.gather(*(one(call) for call in calls))


async def run_live(
    client: ApiClient,
    nodes: int,
    pods: int,
    existing_pods: int = 0,
    workload: Workload = "basic",
    seed: int = 0,
) -> BenchResult:
    node_objects = [fake_node(index, workload) for index in range(nodes)]
    await _bounded([client.create(NODES, obj) for obj in node_objects])
    rng = np.random.default_rng(seed)
    existing = []
    for index in range(existing_pods):
        obj = fake_pod(index, "basic", prefix="existing")
        obj["spec"]["nodeName"] = f"node-{int(rng.integers(nodes))}"
        existing.append(obj)
    await _bounded([client.create(PODS, obj, "default") for obj in existing])
    bound_at: dict[str, float] = {}
    created_at: dict[str, float] = {}
    all_bound = asyncio.Event()

    async def watch_bindings(version: str) -> None:
        async for event_type, obj in client.watch(PODS, "default", resource_version=version):
            name = str((obj.get("metadata") or {}).get("name", ""))
            if (
                event_type in ("ADDED", "MODIFIED")
                and name.startswith("pod-")
                and (obj.get("spec") or {}).get("nodeName")
            ):
                bound_at.setdefault(name, time.perf_counter())
                if len(bound_at) >= pods:
                    all_bound.set()
                    return

    listing = await client.list(PODS, "default", limit=1)
    watcher = asyncio.create_task(
        watch_bindings(str((listing.get("metadata") or {}).get("resourceVersion", "")))
    )
    stop = asyncio.Event()
    scheduler_task = asyncio.create_task(run_scheduler(client, [Profile()], stop, seed=seed))
    objects = [fake_pod(index, workload) for index in range(pods)]
    start = time.perf_counter()
    cpu_start = time.process_time()

    async def create(obj: dict[str, Any]) -> None:
        created_at[str(obj["metadata"]["name"])] = time.perf_counter()
        await client.create(PODS, obj, "default")

    try:
        await _bounded([create(obj) for obj in objects])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_bound.wait(), timeout=max(60.0, pods / 20))
    finally:
        stop.set()
        watcher.cancel()
        await asyncio.gather(watcher, scheduler_task, return_exceptions=True)
    end = max(bound_at.values(), default=time.perf_counter())
    cpu_seconds = time.process_time() - cpu_start
    latencies = np.array([bound_at[name] - created_at[name] for name in bound_at]) * 1000
    seconds = end - start
    await _cleanup(client, [*objects, *existing], node_objects)
    return BenchResult(
        mode="live",
        workload=workload,
        nodes=nodes,
        pods=pods,
        existing_pods=existing_pods,
        scheduled=len(bound_at),
        unschedulable=pods - len(bound_at),
        seconds=round(seconds, 3),
        pods_per_second=round(len(bound_at) / seconds, 1) if seconds > 0 else 0.0,
        p50_latency_ms=round(float(np.percentile(latencies, 50)), 2) if latencies.size else 0.0,
        p99_latency_ms=round(float(np.percentile(latencies, 99)), 2) if latencies.size else 0.0,
        peak_rss_mb=round(peak_rss_mb(), 1),
        cpu_seconds=round(cpu_seconds, 3),
    )


async def _cleanup(client: ApiClient, pods: list[dict[str, Any]], nodes: list[dict[str, Any]]) -> None:
    async def delete(resource: Any, name: str, namespace: str | None) -> None:
        with contextlib.suppress(ApiError):
            await client.delete(resource, name, namespace, grace_period_seconds=0)

    await _bounded([delete(PODS, str(pod["metadata"]["name"]), "default") for pod in pods])
    await _bounded([delete(NODES, str(node["metadata"]["name"]), None) for node in nodes])
