"""`kubelite controller-manager`: the controllers as a process, against any Kubernetes API server.

`kubelite controller-manager --kubeconfig FILE [--leader-elect] [--controllers LIST]
[--node-monitor-grace-period S] ...` connects with the kubeconfig, runs the ReplicaSet, Deployment,
garbage-collector, namespace and node-lifecycle controllers until SIGINT/SIGTERM, and exits with
status 1 if it loses leadership (a supervisor restarts it as a standby), as kube-controller-manager
does. `kubelite up` runs the same `run_controller_manager` in-process.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import Annotated

import typer

from kubelite.client import ApiClient
from kubelite.clock import RealClock
from kubelite.controllers.manager import run_controller_manager
from kubelite.controllers.settings import (
    ControllerManagerSettings,
    LeaderElectionFlags,
    NodeLifecycleSettings,
)


async def _serve(kubeconfig: Path, settings: ControllerManagerSettings) -> bool:
    client = ApiClient.from_kubeconfig(kubeconfig)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    typer.echo("kubelite controller-manager is running", err=True)
    try:
        return await run_controller_manager(client, RealClock(), settings, stop)
    finally:
        await client.close()


def controller_manager(
    kubeconfig: Annotated[Path, typer.Option("--kubeconfig", help="The cluster to manage.")],
    leader_elect: Annotated[
        bool, typer.Option("--leader-elect", help="Run only while holding the kube-system Lease (HA).")
    ] = False,
    controllers: Annotated[
        str, typer.Option("--controllers", help='Comma-separated names, "*" for all, "-name" to skip one.')
    ] = "*",
    node_monitor_grace_period: Annotated[
        float,
        typer.Option(
            "--node-monitor-grace-period", help="Seconds without a heartbeat before a node is lost."
        ),
    ] = 40.0,
    node_monitor_period: Annotated[
        float, typer.Option("--node-monitor-period", help="Seconds between node health checks.")
    ] = 5.0,
    node_eviction_rate: Annotated[
        float, typer.Option("--node-eviction-rate", help="Nodes per second evicted in a healthy zone.")
    ] = 0.1,
    secondary_node_eviction_rate: Annotated[
        float, typer.Option("--secondary-node-eviction-rate", help="Nodes per second in a disrupted zone.")
    ] = 0.01,
    unhealthy_zone_threshold: Annotated[
        float,
        typer.Option("--unhealthy-zone-threshold", help="Share of not-Ready nodes that slows evictions."),
    ] = 0.55,
    large_cluster_size_threshold: Annotated[
        int,
        typer.Option(
            "--large-cluster-size-threshold", help="Zones up to this size stop evicting when disrupted."
        ),
    ] = 50,
    lease_duration: Annotated[float, typer.Option("--leader-elect-lease-duration")] = 15.0,
    renew_deadline: Annotated[float, typer.Option("--leader-elect-renew-deadline")] = 10.0,
    retry_period: Annotated[float, typer.Option("--leader-elect-retry-period")] = 2.0,
    log_level: Annotated[str, typer.Option("--log-level")] = "WARNING",
) -> None:
    """Run the controllers (ReplicaSet, Deployment, GC, namespace, node lifecycle) against a cluster."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = ControllerManagerSettings(
        controllers=tuple(name.strip() for name in controllers.split(",") if name.strip()),
        leader_election=LeaderElectionFlags(
            enabled=leader_elect,
            lease_duration=lease_duration,
            renew_deadline=renew_deadline,
            retry_period=retry_period,
        ),
        node_lifecycle=NodeLifecycleSettings(
            grace_period=node_monitor_grace_period,
            monitor_period=node_monitor_period,
            eviction_rate=node_eviction_rate,
            secondary_eviction_rate=secondary_node_eviction_rate,
            unhealthy_zone_threshold=unhealthy_zone_threshold,
            large_cluster_size_threshold=large_cluster_size_threshold,
        ),
    )
    if not asyncio.run(_serve(kubeconfig, settings)):
        typer.echo("leadership lost; exiting", err=True)
        raise typer.Exit(1)
