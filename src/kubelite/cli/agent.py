"""`kubelite agent`: join this host to a cluster as a node, or run N hollow nodes.

`kubelite agent --kubeconfig FILE [--name NAME] [--address IP] [--port N] [--data-dir DIR]
[--cpu Q --memory Q --pods N]` registers the node and runs its pods (see `kubelite.agent.agent`);
`--server URL --token T --ca-cert-hash sha256:...` instead joins the way kubeadm does: the node
gets an ML-DSA-65 client certificate through a CSR and rotates it (see `kubelite.security.join`).
Either way the agent's endpoint serves post-quantum TLS once a `kubernetes.io/kubelet-serving`
CSR for its name and address is issued (`cli.agent_tls`);
`--hollow N` instead runs N fake nodes in this process (see `kubelite.agent.hollow`). Both stop
cleanly on SIGINT or SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from kubelite.agent.agent import run_agent
from kubelite.agent.hollow import run_hollow_nodes
from kubelite.agent.settings import AgentSettings, default_data_dir
from kubelite.client import ApiClient
from kubelite.client.kubeconfig import load_kubeconfig
from kubelite.clock import RealClock
from kubelite.security.join import (
    NodeCredentials,
    bootstrap_node_credentials,
    load_node_credentials,
    run_certificate_rotation,
)

from .agent_tls import EndpointTls, bootstrap_serving_certificate


@dataclass(frozen=True, slots=True)
class JoinOptions:
    """kubeadm-style join: a bootstrap token and the pinned CA hash instead of a kubeconfig."""

    server: str
    token: str
    ca_cert_hash: str


async def _join(
    join: JoinOptions, settings: AgentSettings, stop: asyncio.Event
) -> tuple[ApiClient, asyncio.Task[object], bytes]:
    """Get (or reuse) this node's ML-DSA-65 client certificate, and keep rotating it.

    The rotation swaps the client's transport, so new requests (and watches that reconnect) use the
    new certificate while the old connections finish."""
    directory = settings.data_dir / "pki"
    directory.mkdir(parents=True, exist_ok=True)
    credentials = load_node_credentials(directory, join.server, settings.node_name)
    if credentials is None:
        credentials = await bootstrap_node_credentials(
            join.server, join.token, join.ca_cert_hash, settings.node_name, directory
        )
    client = credentials.client()

    async def swap(renewed: NodeCredentials) -> None:
        previous = client.transport
        client.transport = renewed.client().transport
        await previous.close()

    rotation = asyncio.create_task(run_certificate_rotation(credentials, RealClock(), stop, on_rotated=swap))
    return client, rotation, credentials.ca_pem


async def _serve(
    kubeconfig: Path | None, join: JoinOptions | None, settings: AgentSettings, hollow: int
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    rotation: asyncio.Task[object] | None = None
    if join is not None:
        client, rotation, ca_pem = await _join(join, settings, stop)
    else:
        assert kubeconfig is not None
        client = ApiClient.from_kubeconfig(kubeconfig)
        ca_pem = load_kubeconfig(kubeconfig).certificate_authority_pem or b""
    serving: asyncio.Task[None] | None = None
    try:
        if hollow > 0:
            typer.echo(f"kubelite agent: running {hollow} hollow nodes {settings.node_name}-0..", err=True)
            await run_hollow_nodes(client, hollow, settings, RealClock(), stop)
        else:
            typer.echo(f"kubelite agent: node {settings.node_name} joining", err=True)
            # The endpoint listens at once (its port goes into the Node); it serves once the
            # kubelet-serving certificate is issued.
            tls = EndpointTls(ca_pem)
            serving = asyncio.create_task(bootstrap_serving_certificate(client, settings, tls, stop))
            await run_agent(client, settings, RealClock(), stop, endpoint_wrap=tls.wrap)
    finally:
        for task in (rotation, serving):
            if task is not None:
                task.cancel()
        await client.close()


def agent(
    kubeconfig: Annotated[Path | None, typer.Option("--kubeconfig", help="The cluster to join.")] = None,
    server: Annotated[str, typer.Option("--server", help="Join this API server (with --token).")] = "",
    token: Annotated[
        str, typer.Option("--token", help="A bootstrap token from `kubelite token create`.")
    ] = "",
    ca_cert_hash: Annotated[
        str,
        typer.Option(
            "--ca-cert-hash", help="sha256:<hex> pin of the cluster CA, from `kubelite token create`."
        ),
    ] = "",
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
    join = None
    if server or token or ca_cert_hash:
        if not (server and token and ca_cert_hash):
            raise typer.BadParameter("--server, --token and --ca-cert-hash go together")
        join = JoinOptions(server, token, ca_cert_hash)
    elif kubeconfig is None:
        raise typer.BadParameter(
            "give --kubeconfig FILE, or --server URL --token T --ca-cert-hash sha256:..."
        )
    asyncio.run(_serve(kubeconfig, join, settings, hollow))
