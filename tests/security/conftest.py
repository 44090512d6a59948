"""Fixtures: a secure API server (PKI, TLS, authentication, RBAC) on its own event-loop thread.

The server runs in a background thread so that tests can drive it with real external clients
(kubectl, the `kubernetes` package) as well as with kubelite's own asyncio transport.
"""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Awaitable, Coroutine, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import pytest

from kubelite.apiserver.auth_setup import csr_signer_settings, install_security, tls_settings
from kubelite.apiserver.authz import SecurityGate
from kubelite.apiserver.inprocess import InProcessTransport
from kubelite.apiserver.server import ApiServer, ApiServerSettings
from kubelite.cli.kubeconfig import kubeconfig_document, write_kubeconfig
from kubelite.cli.token import publish_cluster_info
from kubelite.client import ApiClient
from kubelite.client.core import HttpRequest, HttpResponse
from kubelite.client.pq_transport import PqTransport, TlsClientSettings
from kubelite.security import csr as csr_rules
from kubelite.security.pki import ClusterPki, ensure_pki
from kubelite.security.tokens import UserInfo
from kubelite.store import open_store

T = TypeVar("T")
STATIC_TOKEN = "static-token-for-tests-0123456789"


class SecureServer:
    """`ApiServer` with TLS and the security gate, served from a private loop thread."""

    def __init__(self, pki: ClusterPki, *, require_pq: bool = False) -> None:
        self.pki = pki
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.server: ApiServer = self.call(self._start(require_pq))
        self.gate: SecurityGate = self.server.authorizer  # type: ignore[assignment]

    async def _start(self, require_pq: bool) -> ApiServer:
        server = ApiServer(open_store("memory://"), ApiServerSettings(port=0, tls=tls_settings(self.pki, require_pq=require_pq)))
        install_security(server, self.pki, {STATIC_TOKEN: UserInfo("static-user", ("static-group",), "42")})
        await server.start()
        await server.authorizer.bootstrap_policy()  # type: ignore[attr-defined]
        return server

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout=60)

    @property
    def url(self) -> str:
        return self.server.url

    def handshakes(self) -> dict[str, float]:
        """Handshake counts by group, from the server's own metric."""
        counts: dict[str, float] = {}
        for metric in self.server.metrics.registry.collect():
            if metric.name == "kubelite_tls_handshakes":
                for sample in metric.samples:
                    if sample.name.endswith("_total"):
                        counts[sample.labels["group"]] = sample.value
        return counts

    def write_admin_kubeconfig(self, path: Path) -> Path:
        user = {
            "client-certificate-data": base64.b64encode(self.pki.admin.cert_pem).decode(),
            "client-key-data": base64.b64encode(self.pki.admin.key_pem).decode(),
        }
        ca = base64.b64encode(self.pki.ca_bundle_pem).decode()
        write_kubeconfig(path, kubeconfig_document(self.url, user=user, certificate_authority_data=ca))
        return path

    def stop(self) -> None:
        self.call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)


def request(
    url: str,
    tls: TlsClientSettings,
    method: str,
    path: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """One request on a fresh connection (so every call is also one handshake)."""

    extra = dict(headers or {})
    content_type = extra.pop("content-type", "application/json")

    async def go() -> HttpResponse:
        transport = PqTransport(url, tls, headers=extra)
        try:
            return await transport.send(HttpRequest(method, path, body=body, content_type=content_type))
        finally:
            await transport.close()

    return asyncio.run(go())


def run(awaitable: Awaitable[T]) -> T:
    async def wrapper() -> T:
        return await awaitable

    return asyncio.run(wrapper())


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> ClusterPki:
    return ensure_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def secure_server(pki: ClusterPki) -> Iterator[SecureServer]:
    server = SecureServer(pki)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pq_only_server(pki: ClusterPki) -> Iterator[SecureServer]:
    server = SecureServer(pki, require_pq=True)
    yield server
    server.stop()


@pytest.fixture()
def admin_tls(pki: ClusterPki) -> TlsClientSettings:
    return TlsClientSettings(ca_pem=pki.ca_bundle_pem, client_cert_pem=pki.admin.cert_pem, client_key_pem=pki.admin.key_pem)


@pytest.fixture(scope="module")
def joinable(pki: ClusterPki) -> Iterator[SecureServer]:
    server = SecureServer(pki)
    stop = asyncio.Event()

    async def start() -> None:
        client = ApiClient(InProcessTransport(server.server.handle))
        await publish_cluster_info(server.server, pki)
        settings = csr_signer_settings(pki, server.gate)
        asyncio.get_running_loop().create_task(csr_rules.run_csr_controller(client, server.server.clock, settings, stop))

    server.call(start())
    yield server

    async def halt() -> None:
        stop.set()
        await asyncio.sleep(0)

    server.call(halt())
    server.stop()
