"""How the API server reaches node agents (the kubelet's port): for `pods/log` and metrics.k8s.io.

A node advertises its agent by `status.addresses` (InternalIP, else Hostname) and
`status.daemonEndpoints.kubeletEndpoint.Port`. A secure cluster dials it over post-quantum TLS
with kubelite's own transport, presenting the API server's kubelet-client certificate
(`kube-apiserver-kubelet-client`, ML-DSA-65) and verifying the agent's serving certificate against
the cluster roots and the address dialled, as kube-apiserver does with `--kubelet-client-certificate`
and `--kubelet-certificate-authority`. A server without security (in-process tests) dials plain
HTTP, as its agents serve it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from kubelite.client.core import HttpRequest
from kubelite.client.errors import TransportError
from kubelite.client.pq_transport import PqTransport, StreamedResponse, TlsClientSettings


class AgentUnreachable(Exception):
    """The agent did not answer (connection, TLS or timeout): a 503 to the caller."""


class AgentClient:
    """Opens requests to node agents; `tls` None means plain HTTP."""

    def __init__(self, tls: TlsClientSettings | None = None) -> None:
        self.tls = tls

    def base_url(self, node: dict[str, Any]) -> str | None:
        """https://InternalIP:port of a node's agent, or None when the node advertises none."""
        status = node.get("status") or {}
        port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port") or 0
        addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
        address = addresses.get("InternalIP") or addresses.get("Hostname")
        if not port or not address:
            return None
        scheme = "https" if self.tls is not None else "http"
        host = f"[{address}]" if ":" in str(address) else address
        return f"{scheme}://{host}:{int(port)}"

    async def open(self, base: str, target: str, timeout: float) -> StreamedResponse:
        """GET `target` from the agent at `base`; the status must arrive within `timeout` seconds."""
        transport = PqTransport(base, self.tls, session_resumption=False)
        try:
            return await asyncio.wait_for(transport.open_stream(HttpRequest("GET", target)), timeout)
        except (TransportError, OSError, TimeoutError) as error:
            raise AgentUnreachable(str(error) or type(error).__name__) from error

    async def get(self, base: str, target: str, timeout: float) -> tuple[int, bytes]:
        """GET `target` and read the whole body, all within `timeout` seconds."""

        async def fetch() -> tuple[int, bytes]:
            response = await self.open(base, target, timeout)
            return response.status, await response.read()

        try:
            return await asyncio.wait_for(fetch(), timeout)
        except (TransportError, TimeoutError) as error:
            raise AgentUnreachable(str(error) or type(error).__name__) from error
