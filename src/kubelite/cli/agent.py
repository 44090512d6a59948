"""`kubelite agent`: join this host to a cluster as a node, or run N hollow nodes.

`kubelite agent --kubeconfig FILE [--name NAME] [--address IP] [--port N] [--data-dir DIR]
[--cpu Q --memory Q --pods N]` registers the node and runs its pods (see `kubelite.agent.agent`);
`--hollow N` instead runs N fake nodes in this process (see `kubelite.agent.hollow`). Both stop
cleanly on SIGINT or SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from pathlib import Path
from typing import Annotated

import typer

from kubelite.agent.agent import run_agent
from kubelite.agent.hollow import run_hollow_nodes
from kubelite.agent.settings import AgentSettings, default_data_dir
from kubelite.client import ApiClient
from kubelite.clock import RealClock


async def _serve(kubeconfig: Path, settings: AgentSettings, hollow: int) -> None:
    client = ApiClient.from_kubeconfig(kubeconfig)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        if hollow > 0:
            typer.echo(f"kubelite agent: running {hollow} hollow nodes {settings.node_name}-0..", err=True)
            await run_hollow_nodes(client, hollow, settings, RealClock(), stop)
        else:
            typer.echo(f"kubelite agent: node {settings.node_name} joining", err=True)
            await run_agent(client, settings, RealClock(), stop)
    finally:
        await client.close()


def agent(
    kubeconfig: Annotated[Path, typer.Option("--kubeconfig", help="The cluster to join.")],
    name: Annotated[str, typer.Option("--name", help="Node name (default: the hostname).")] = "",
    address: Annotated[
        str, typer.Option("--address", help="The node's InternalIP; the endpoint listens here.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="The agent endpoint's port (0: any free one).")] = 10250,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Pod state, logs and runtime files.")
    ] = None,
    image_root: Annotated[Path | None, typer.Option("--image-root", help="The local image store.")] = None,
    cpu: Annotated[str, typer.Option("--cpu", help="Override measured cpu capacity (e.g. 4).")] = "",
    memory: Annotated[
        str, typer.Option("--memory", help="Override measured memory capacity (e.g. 8Gi).")
    ] = "",
    pods: Annotated[int, typer.Option("--pods", help="Maximum pods on this node.")] = 110,
    hollow: Annotated[int, typer.Option("--hollow", help="Run this many hollow (fake) nodes instead.")] = 0,
    hollow_start_delay: Annotated[
        float, typer.Option("--hollow-start-delay", help="Seconds before a hollow node's pod shows Running.")
    ] = 0.0,
    log_level: Annotated[str, typer.Option("--log-level", help="Python logging level.")] = "WARNING",
) -> None:
    """Join this host to a cluster as a node (or run hollow nodes for scale tests)."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    overrides = {"pods": str(pods)}
    if cpu:
        overrides["cpu"] = cpu
    if memory:
        overrides["memory"] = memory
    settings = AgentSettings(
        node_name=name or (f"hollow-{socket.gethostname()}" if hollow else socket.gethostname()),
        data_dir=data_dir or default_data_dir(),
        image_root=image_root,
        address=address,
        port=port,
        capacity_overrides=overrides,
        hollow_start_delay_seconds=hollow_start_delay,
    )
    asyncio.run(_serve(kubeconfig, settings, hollow))
