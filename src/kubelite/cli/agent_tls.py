"""A node agent's endpoint over post-quantum TLS: what `kubelite up` and `kubelite agent` compose.

The endpoint (the kubelet's port) serves only TLS 1.3 with the hybrid groups, presents the agent's
ML-DSA-65 serving certificate, and completes a handshake only with a client certificate that
chains to the cluster roots and names the API server's kubelet-client user
(`kube-apiserver-kubelet-client`): no certificate, another CA or another identity (a node's, an
admin's) fails the handshake. The same `TlsTerminator` as the API server's does the work.

A joining agent starts listening before its serving certificate is issued (its port goes into the
Node it registers); until `install` is called, connections are closed at once. It renews the
certificate at 70-90% of its lifetime, as it does its client certificate.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import random

from cryptography import x509
from prometheus_client import CollectorRegistry

from kubelite.agent.settings import AgentSettings
from kubelite.api.resources import NODES
from kubelite.client import ApiClient
from kubelite.client.errors import ApiError, TransportError
from kubelite.clock import Clock, RealClock
from kubelite.security.join import (
    DEFAULT_CERT_SECONDS,
    JoinError,
    renewal_deadline,
    request_serving_certificate,
)
from kubelite.security.pki import KUBELET_CLIENT_USER, ClusterPki, agent_serving_identity
from kubelite.tls.server import TlsSettings, TlsTerminator

log = logging.getLogger(__name__)


class _Refuse(asyncio.Protocol):
    """Closes a connection at once: the endpoint has no serving certificate yet."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.close()


class EndpointTls:
    """The protocol wrapper of one agent endpoint; `install` sets (or replaces) its certificate."""

    def __init__(self, client_ca_pem: bytes) -> None:
        self._client_ca_pem = client_ca_pem
        self._terminator: TlsTerminator | None = None

    def install(self, cert_pem: bytes, key_pem: bytes) -> None:
        settings = TlsSettings(
            mldsa_cert_pem=cert_pem,
            mldsa_key_pem=key_pem,
            client_ca_pem=self._client_ca_pem,
            require_pq=True,
            required_client_users=(KUBELET_CLIENT_USER,),
        )
        self._terminator = TlsTerminator(settings, CollectorRegistry())

    @property
    def ready(self) -> bool:
        return self._terminator is not None

    @property
    def certificate_pem(self) -> bytes | None:
        """The serving certificate in use."""
        return self._terminator.settings.mldsa_cert_pem if self._terminator is not None else None

    def wrap(self, inner: asyncio.Protocol) -> asyncio.Protocol:
        return self._terminator.wrap(inner) if self._terminator is not None else _Refuse()


def local_endpoint_tls(pki: ClusterPki, settings: AgentSettings) -> EndpointTls:
    """For an agent inside `kubelite up`: a serving certificate issued directly by the cluster CA."""
    identity = agent_serving_identity(
        pki.ca_mldsa, settings.node_name, (settings.address,), datetime.datetime.now(datetime.UTC)
    )
    tls = EndpointTls(pki.ca_bundle_pem)
    tls.install(identity.cert_pem, identity.key_pem)
    return tls


async def _reports_address(client: ApiClient, settings: AgentSettings) -> bool:
    try:
        node = await client.get(NODES, settings.node_name)
    except (ApiError, TransportError):
        return False
    addresses = (node.get("status") or {}).get("addresses") or []
    return any(entry.get("address") == settings.address for entry in addresses)


async def bootstrap_serving_certificate(
    client: ApiClient,
    settings: AgentSettings,
    tls: EndpointTls,
    stop: asyncio.Event,
    clock: Clock | None = None,
    *,
    expiration_seconds: int = DEFAULT_CERT_SECONDS,
    seed: int | None = None,
) -> None:
    """For a joining agent: once its Node reports its address, ask for a serving certificate by CSR
    (`kubernetes.io/kubelet-serving`) and install it; renew it at a jittered 70-90% of its lifetime
    (as the client certificate is); retried on failure, until `stop`."""
    clock = clock or RealClock()
    rng = random.Random(seed)
    while not stop.is_set() and not await _reports_address(client, settings):
        # The approver checks the CSR's addresses against the Node's status: wait for it.
        await _pause(clock, 0.5, stop)
    while not stop.is_set():
        try:
            cert_pem, key_pem = await request_serving_certificate(
                client, settings.node_name, (settings.address,),
                expiration_seconds=expiration_seconds, timeout_seconds=60.0,
            )  # fmt: skip
        except (JoinError, ApiError, TransportError) as error:  # retried: the cluster may be restarting
            log.info("serving certificate for node %s not issued yet: %s", settings.node_name, error)
            await _pause(clock, 2.0, stop)
            continue
        tls.install(cert_pem, key_pem)
        log.info("node %s: endpoint serving certificate installed", settings.node_name)
        renew_at = renewal_deadline(x509.load_pem_x509_certificate(cert_pem), rng)
        await _pause(clock, max(0.0, renew_at - clock.now()), stop)


async def _pause(clock: Clock, seconds: float, stop: asyncio.Event) -> None:
    """Sleep on `clock`, or less if `stop` is set."""
    sleeping = asyncio.ensure_future(clock.sleep(seconds))
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({sleeping, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeping, stopped):
            task.cancel()
