"""`kubelite scheduler` (the scheduler as a process) and `kubelite bench scheduler` (its benchmark).

`kubelite scheduler --kubeconfig FILE [--scheduler-name NAME] [--config FILE] [--metrics-port N]`
connects to any Kubernetes API server (kubelite's or a real cluster's), schedules the pods whose
`spec.schedulerName` matches one of its profiles, and serves Prometheus metrics when asked.

`kubelite bench scheduler` prints one JSON object (`--json`) or a short table: pods/s, p50/p99
creation-to-binding latency, peak RSS, and whether it ran in-process or against a live server,
next to kube-scheduler's scheduler_perf reference figures at 5,000 nodes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.console import Console

from kubelite.client import ApiClient
from kubelite.scheduler.bench import BenchResult, Workload, run_in_process
from kubelite.scheduler.bench_live import run_live
from kubelite.scheduler.live import run_scheduler
from kubelite.scheduler.metrics import SchedulerMetrics
from kubelite.scheduler.profiles import load_configuration

# kube-scheduler scheduler_perf at 5,000 nodes (pods/s): SchedulingBasic, TopologySpreading, MixedChurn.
REFERENCE_PODS_PER_SECOND: dict[str, float] = {"basic": 270.0, "spread": 85.0, "mixed": 265.0}

def bench_scheduler(
    nodes: Annotated[int, typer.Option("--nodes", help="Fake nodes (objects only).")] = 5000,
    pods: Annotated[int, typer.Option("--pods", help="Pods created in the measured window.")] = 10000,
    existing_pods: Annotated[int, typer.Option("--existing-pods", help="Pods bound before measuring.")] = 0,
    workload: Annotated[str, typer.Option("--workload", help="basic | spread | affinity | mixed")] = "basic",
    seed: Annotated[int, typer.Option("--seed")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    kubeconfig: Annotated[
        Path | None,
        typer.Option("--kubeconfig", help="Run against this live API server instead of in-process."),
    ] = None,
) -> None:
    """Measure scheduling throughput and latency, modelled on kube-scheduler's scheduler_perf."""
    if workload not in ("basic", "spread", "affinity", "mixed"):
        raise typer.BadParameter("workload must be basic, spread, affinity or mixed", param_hint="--workload")
    chosen = cast(Workload, workload)
    if kubeconfig is None:
        outcome = asyncio.run(run_in_process(nodes, pods, existing_pods, chosen, seed))
    else:
        outcome = asyncio.run(_bench_live(kubeconfig, nodes, pods, existing_pods, chosen, seed))
    result = outcome.as_dict()
    reference = REFERENCE_PODS_PER_SECOND.get(workload)
    if reference is not None:
        result["reference_kube_scheduler_pods_per_second"] = reference
        result["ratio_to_reference"] = round(float(result["pods_per_second"]) / reference, 2)
    if as_json:
        typer.echo(json.dumps(result))
        return
    console = Console()
    for key, value in result.items():
        console.print(f"{key:>40}: {value}")


async def _bench_live(
    kubeconfig: Path, nodes: int, pods: int, existing_pods: int, workload: Workload, seed: int
) -> BenchResult:
    client = ApiClient.from_kubeconfig(kubeconfig)
    try:
        return await run_live(client, nodes, pods, existing_pods, workload, seed)
    finally:
        await client.close()


async def _serve(
    kubeconfig: Path, scheduler_name: str | None, config: Path | None, metrics_port: int
) -> None:
    profiles = load_configuration(config, scheduler_name)
    client = ApiClient.from_kubeconfig(kubeconfig)
    metrics = SchedulerMetrics()
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, registry=metrics.registry)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    names = ", ".join(p.scheduler_name for p in profiles)
    typer.echo(f"kubelite scheduler is running for schedulerName {names}", err=True)
    try:
        await run_scheduler(client, profiles, stop, metrics=metrics)
    finally:
        await client.close()


def scheduler(
    kubeconfig: Annotated[Path, typer.Option("--kubeconfig", help="The cluster to schedule for.")],
    scheduler_name: Annotated[
        str | None, typer.Option("--scheduler-name", help="Serve pods with this spec.schedulerName.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="A KubeSchedulerConfiguration file (YAML or JSON).")
    ] = None,
    metrics_port: Annotated[int, typer.Option("--metrics-port", help="Serve /metrics here (0: off).")] = 0,
    log_level: Annotated[str, typer.Option("--log-level")] = "WARNING",
) -> None:
    """Run the scheduler against a Kubernetes API server (kubelite's or a real cluster's)."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(kubeconfig, scheduler_name, config, metrics_port))
