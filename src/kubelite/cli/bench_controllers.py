"""`kubelite bench controllers`: how fast Deployments turn into bound pods, printed as JSON.

One process holds an in-process API server (memory store), fake Node objects, the
controller-manager (ReplicaSet and Deployment controllers) and the scheduler, all on the real
clock. The benchmark creates N Deployments of R replicas and reports the time until every
ReplicaSet exists, until every pod exists, and until every pod is bound to a node: the path
`kubectl create deployment` exercises, without kubelets.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Annotated, Any

import typer

from kubelite.api.resources import DEPLOYMENTS, NODES, PODS, REPLICASETS
from kubelite.apiserver.inprocess import InProcessTransport
from kubelite.apiserver.server import ApiServer, ApiServerSettings
from kubelite.client import ApiClient
from kubelite.clock import RealClock
from kubelite.controllers.manager import run_controller_manager
from kubelite.controllers.settings import ControllerManagerSettings
from kubelite.scheduler.live import run_scheduler
from kubelite.scheduler.profiles import Profile
from kubelite.store import open_store

from .bench_event_pipeline import run_event_pipeline_bench


def _node(name: str) -> dict[str, Any]:
    allocatable = {"cpu": "64", "memory": "256Gi", "pods": "250"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "status": {
            "capacity": allocatable,
            "allocatable": allocatable,
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def _deployment(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    container = {"name": "main", "image": "busybox", "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }


async def _counts(client: ApiClient) -> tuple[int, int, int]:
    replicasets, _ = await client.list_all(REPLICASETS, all_namespaces=True, limit=5000)
    pods, _ = await client.list_all(PODS, all_namespaces=True, limit=5000)
    bound = sum(1 for pod in pods if (pod.get("spec") or {}).get("nodeName"))
    return len(replicasets), len(pods), bound


async def run_deployment_bench(deployments: int, replicas: int, nodes: int, timeout: float) -> dict[str, Any]:
    """Create the Deployments and time the three milestones (seconds from the first create)."""
    clock = RealClock()
    server = ApiServer(open_store("memory://"), ApiServerSettings(port=0), clock=clock)
    await server.start()
    client = ApiClient(InProcessTransport(server.handle))
    stop = asyncio.Event()
    try:
        for index in range(nodes):
            await client.create(NODES, _node(f"fake-{index}"))
        settings = ControllerManagerSettings(controllers=("replicaset", "deployment"))
        manager = asyncio.create_task(run_controller_manager(client, clock, settings, stop))
        scheduler = asyncio.create_task(run_scheduler(client, [Profile()], stop))
        await asyncio.sleep(0.5)  # let informers list before the load starts
        started = time.perf_counter()
        limit = asyncio.Semaphore(32)

        async def create(index: int) -> None:
            async with limit:
                await client.create(DEPLOYMENTS, _deployment(f"bench-{index}", replicas), "default")

        await asyncio.gather(*(create(index) for index in range(deployments)))
        created = time.perf_counter() - started
        wanted = deployments * replicas
        milestones: dict[str, float | None] = {"replicasets": None, "pods": None, "bound": None}
        while time.perf_counter() - started < timeout:
            replicaset_count, pod_count, bound = await _counts(client)
            elapsed = time.perf_counter() - started
            if milestones["replicasets"] is None and replicaset_count >= deployments:
                milestones["replicasets"] = elapsed
            if milestones["pods"] is None and pod_count >= wanted:
                milestones["pods"] = elapsed
            if bound >= wanted:
                milestones["bound"] = elapsed
                break
            await asyncio.sleep(0.25)
        _, pod_count, bound = await _counts(client)
        stop.set()
        await asyncio.gather(manager, scheduler, return_exceptions=True)
    finally:
        stop.set()
        await server.stop()
    total = milestones["bound"]
    return {
        "benchmark": "deployments",
        "deployments": deployments,
        "replicas_per_deployment": replicas,
        "fake_nodes": nodes,
        "seconds_to_create_deployments": round(created, 3),
        "seconds_to_all_replicasets": _rounded(milestones["replicasets"]),
        "seconds_to_all_pods": _rounded(milestones["pods"]),
        "seconds_to_all_bound": _rounded(total),
        "pods": pod_count,
        "bound": bound,
        "pods_per_second": round(wanted / total, 1) if total else None,
        "completed": total is not None,
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def bench_controllers(
    deployments: Annotated[int, typer.Option("--deployments", help="Deployments to create.")] = 1000,
    replicas: Annotated[int, typer.Option("--replicas", help="Replicas per Deployment.")] = 10,
    nodes: Annotated[int, typer.Option("--nodes", help="Fake nodes (objects only).")] = 100,
    timeout: Annotated[float, typer.Option("--timeout", help="Give up after this many seconds.")] = 600.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Deployments to bound pods on fake nodes, and the event pipeline (writes to reconciles)."""
    result = {
        "deployments": asyncio.run(run_deployment_bench(deployments, replicas, nodes, timeout)),
        "event_pipeline": asyncio.run(run_event_pipeline_bench()),
    }
    if as_json:
        typer.echo(json.dumps(result))
        return
    for part, figures in result.items():
        typer.echo(part)
        for key, value in figures.items():
            typer.echo(f"{key:>32}: {value}")
