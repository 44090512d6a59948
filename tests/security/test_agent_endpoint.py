"""A node agent's endpoint (the kubelet's port): post-quantum TLS that admits only the API server.

The endpoint is the real `AgentEndpoint` behind the `EndpointTls` that `kubelite up` composes,
with a serving certificate from the cluster CA; clients are kubelite's own PQ transport."""

from __future__ import annotations

import asyncio
import base64
import datetime
import ipaddress
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa
from cryptography.x509.oid import NameOID

from kubelite.agent.endpoint import AgentEndpoint, LogTarget
from kubelite.agent.settings import AgentSettings
from kubelite.api.resources import CERTIFICATE_SIGNING_REQUESTS, NODES
from kubelite.cli.agent_tls import EndpointTls, bootstrap_serving_certificate, local_endpoint_tls
from kubelite.client import ApiClient
from kubelite.client.core import HttpRequest
from kubelite.client.errors import TransportError
from kubelite.client.pq_transport import PqTransport, TlsClientSettings
from kubelite.clock import FakeClock, RealClock
from kubelite.security.csr import decide_serving, issue, node_addresses
from kubelite.security.join import node_csr
from kubelite.security.pki import (
    KUBELET_CLIENT_USER,
    ClusterPki,
    Identity,
    create_root,
    generate_key,
    issue_certificate,
)

from .conftest import SecureServer, run


class _NoLogs:
    def find_logs(self, namespace: str, pod: str, container: str, previous: bool) -> LogTarget | str:
        return f'pod "{pod}" is not running on node test'


class _Endpoint:
    """An agent endpoint serving TLS on its own loop thread (through `run`)."""

    def __init__(self, pki: ClusterPki, tmp_path: Path) -> None:
        settings = AgentSettings(node_name="edge-1", data_dir=tmp_path, port=0)
        self.tls = local_endpoint_tls(pki, settings)
        self.endpoint = AgentEndpoint(
            _NoLogs(), lambda: {"node": {"nodeName": "edge-1"}}, lambda: b"# metrics\n", RealClock(), self.tls.wrap
        )

    async def start(self) -> str:
        port = await self.endpoint.start("127.0.0.1", 0)
        return f"https://127.0.0.1:{port}"


@pytest.fixture()
def endpoint(pki: ClusterPki, tmp_path: Path) -> Iterator[_Endpoint]:
    yield _Endpoint(pki, tmp_path)


def _client_tls(pki: ClusterPki, identity: Identity | None, *, groups: str | None = None) -> TlsClientSettings:
    if identity is None:
        return TlsClientSettings(ca_pem=pki.ca_bundle_pem, groups=groups)
    return TlsClientSettings(
        ca_pem=pki.ca_bundle_pem, client_cert_pem=identity.cert_pem, client_key_pem=identity.key_pem, groups=groups
    )


async def _get(url: str, tls: TlsClientSettings, path: str) -> tuple[int, bytes, str, Any]:
    transport = PqTransport(url, tls, session_resumption=False)
    connection = await transport.connect()
    assert connection.tls is not None
    group = connection.tls.get_group_name()
    server_key = connection.tls.get_peer_certificate().to_cryptography().public_key()
    connection.close()
    try:
        response = await transport.send(HttpRequest("GET", path))
    finally:
        await transport.close()
    return response.status, response.body, group, server_key


def _node_identity(pki: ClusterPki, name: str) -> Identity:
    key = generate_key("mldsa65")
    now = datetime.datetime.now(datetime.UTC)
    cert = issue_certificate(
        pki.ca_mldsa, key.public_key(), common_name=f"system:node:{name}", organizations=("system:nodes",),
        usage="client", now=now,
    )  # fmt: skip
    return Identity(key, cert)


def test_the_api_server_identity_reads_stats_over_pq_tls(endpoint: _Endpoint, pki: ClusterPki) -> None:
    async def go() -> tuple[int, bytes, str, Any]:
        url = await endpoint.start()
        try:
            return await _get(url, _client_tls(pki, pki.kubelet_client), "/stats/summary")
        finally:
            await endpoint.endpoint.stop()

    status, body, group, server_key = run(go())
    assert status == 200 and b"edge-1" in body
    assert group == "X25519MLKEM768"
    assert isinstance(server_key, mldsa.MLDSA65PublicKey)


def _foreign_kubelet_client() -> Identity:
    now = datetime.datetime.now(datetime.UTC)
    root = create_root("not-the-cluster", "mldsa65", now)
    key = generate_key("mldsa65")
    cert = issue_certificate(
        root, key.public_key(), common_name=KUBELET_CLIENT_USER, organizations=("system:masters",),
        usage="client", now=now,
    )  # fmt: skip
    return Identity(key, cert)


@pytest.mark.parametrize(
    "caller",
    ["no-certificate", "admin", "a-node", "foreign-ca", "classical-only-client"],
)
def test_everyone_else_is_refused_at_the_handshake(endpoint: _Endpoint, pki: ClusterPki, caller: str) -> None:
    identities: dict[str, tuple[Identity | None, str | None]] = {
        "no-certificate": (None, None),
        "admin": (pki.admin, None),  # system:masters, but not the API server's identity
        "a-node": (_node_identity(pki, "edge-2"), None),
        "foreign-ca": (_foreign_kubelet_client(), None),
        "classical-only-client": (pki.kubelet_client, "X25519"),
    }
    identity, groups = identities[caller]

    async def go() -> None:
        url = await endpoint.start()
        try:
            with pytest.raises(TransportError):
                await _get(url, _client_tls(pki, identity, groups=groups), "/containerLogs/default/p/c")
        finally:
            await endpoint.endpoint.stop()

    run(go())


def test_plain_http_gets_nothing(endpoint: _Endpoint) -> None:
    async def go() -> None:
        url = (await endpoint.start()).replace("https://", "http://")
        transport = PqTransport(url)
        try:
            with pytest.raises(TransportError):
                await transport.send(HttpRequest("GET", "/healthz"))
        finally:
            await transport.close()
            await endpoint.endpoint.stop()

    run(go())


def _classical_request(node: str, address: str) -> str:
    subject = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:nodes"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"system:node:{node}"),
    ])  # fmt: skip
    sans = x509.SubjectAlternativeName([x509.DNSName(node), x509.IPAddress(ipaddress.ip_address(address))])
    request = (
        x509.CertificateSigningRequestBuilder().subject_name(subject).add_extension(sans, critical=False)
        .sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
    )  # fmt: skip
    return base64.b64encode(request.public_bytes(serialization.Encoding.PEM)).decode()


def _serving_csr(
    node: str, addresses: tuple[str, ...], *, requester: str | None = None, classical: bool = False
) -> dict[str, Any]:
    body = node_csr(node, mldsa.MLDSA65PrivateKey.generate(), 3600, serving_addresses=addresses)
    if classical:
        body["spec"]["request"] = _classical_request(node, addresses[0])
    body["metadata"] = {"name": "csr-1"}
    body["spec"].update(username=requester or f"system:node:{node}", groups=["system:nodes"])
    return body


EDGE_NODE = {"metadata": {"name": "edge-1"}, "status": {"addresses": [
    {"type": "InternalIP", "address": "10.0.0.5"}, {"type": "Hostname", "address": "edge-1"}]}}  # fmt: skip


@pytest.mark.parametrize(
    ("csr", "node", "verdict"),
    [
        pytest.param(lambda: _serving_csr("edge-1", ("10.0.0.5",)), EDGE_NODE, "approve", id="own-name-and-address"),
        pytest.param(lambda: _serving_csr("edge-1", ("10.0.0.9",)), EDGE_NODE, "ignore", id="another-address"),
        pytest.param(lambda: _serving_csr("edge-1", ("edge-2",)), EDGE_NODE, "ignore", id="another-host-name"),
        pytest.param(
            lambda: _serving_csr("edge-1", ("10.0.0.5",), requester="system:node:edge-2"), EDGE_NODE, "ignore",
            id="asked-by-another-node",
        ),
        pytest.param(lambda: _serving_csr("edge-1", ("10.0.0.5",)), None, "ignore", id="node-not-registered"),
        pytest.param(
            lambda: _serving_csr("edge-1", ("10.0.0.5",), classical=True), EDGE_NODE, "deny",
            id="classical-key",
        ),
    ],
)
def test_serving_csr_approval(csr: Any, node: dict[str, Any] | None, verdict: str) -> None:
    assert decide_serving(csr(), node_addresses(node)).verdict == verdict


def test_an_approved_serving_csr_is_signed_for_its_names(pki: ClusterPki) -> None:
    csr = _serving_csr("edge-1", ("10.0.0.5",))
    csr["status"] = {"conditions": [{"type": "Approved", "status": "True"}]}
    encoded = issue(csr, pki.ca_mldsa, datetime.datetime.now(datetime.UTC), datetime.timedelta(days=30))
    assert encoded is not None
    certificate = x509.load_pem_x509_certificate(base64.b64decode(encoded))
    sans = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["edge-1"]
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["10.0.0.5"]
    usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.oid.ExtendedKeyUsageOID.SERVER_AUTH in usages
    assert isinstance(certificate.public_key(), mldsa.MLDSA65PublicKey)




def test_a_joined_agent_gets_its_serving_certificate_by_csr_and_renews_it(
    joinable: SecureServer, pki: ClusterPki, tmp_path: Path
) -> None:
    """The CSR path of `kubelite agent --server ... --token ...`, against a server running the approver."""

    async def go() -> tuple[bytes, bytes]:
        client = ApiClient(PqTransport(joinable.url, _client_tls(pki, _node_identity(pki, "edge-r"))))
        node = await client.create(NODES, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "edge-r"}})
        node["status"] = {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}]}
        await client.replace_status(NODES, node)
        tls = EndpointTls(pki.ca_bundle_pem)
        clock, stop = FakeClock(time.time()), asyncio.Event()
        settings = AgentSettings(node_name="edge-r", data_dir=tmp_path, port=0)
        task = asyncio.create_task(
            bootstrap_serving_certificate(client, settings, tls, stop, clock, expiration_seconds=600, seed=1)
        )
        try:
            first = await _changed(tls, None)
            clock.advance(600)  # past 70-90% of its life
            second = await _changed(tls, first)
        finally:
            stop.set()
            await task
            await client.close()
        return first, second

    first, second = run(go())
    certificates = [x509.load_pem_x509_certificate(pem) for pem in (first, second)]
    assert certificates[0].serial_number != certificates[1].serial_number
    for certificate in certificates:
        assert isinstance(certificate.public_key(), mldsa.MLDSA65PublicKey)
        assert certificate.subject.rfc4514_string() == "CN=system:node:edge-r,O=system:nodes"
        sans = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]


async def _changed(tls: EndpointTls, previous: bytes | None) -> bytes:
    for _ in range(600):
        current = tls.certificate_pem
        if current is not None and current != previous:
            return current
        await asyncio.sleep(0.05)
    raise AssertionError("no (new) serving certificate was installed")


def test_an_agent_run_with_an_admin_kubeconfig_approves_its_own_serving_csr(
    joinable: SecureServer, pki: ClusterPki, tmp_path: Path
) -> None:
    """`kubelite agent --kubeconfig admin.kubeconfig`: the approver leaves a CSR not asked for by the
    node itself, and the admin's credential approves it as `kubectl certificate approve` would."""

    async def go() -> tuple[bytes, list[dict[str, Any]]]:
        client = ApiClient(PqTransport(joinable.url, _client_tls(pki, pki.admin)))
        node = await client.create(NODES, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "edge-a"}})
        node["status"] = {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}]}
        await client.replace_status(NODES, node)
        tls, stop = EndpointTls(pki.ca_bundle_pem), asyncio.Event()
        settings = AgentSettings(node_name="edge-a", data_dir=tmp_path, port=0)
        task = asyncio.create_task(bootstrap_serving_certificate(client, settings, tls, stop))
        try:
            certificate = await _changed(tls, None)
        finally:
            stop.set()
            await task
        csrs, _ = await client.list_all(CERTIFICATE_SIGNING_REQUESTS)
        await client.close()
        return certificate, csrs

    certificate, csrs = run(go())
    assert x509.load_pem_x509_certificate(certificate).subject.rfc4514_string() == "CN=system:node:edge-a,O=system:nodes"
    mine = [c for c in csrs if c["spec"]["username"] == "kubelite-admin" and c["spec"]["signerName"].endswith("kubelet-serving")]
    assert mine and mine[-1]["status"]["conditions"][0]["reason"] == "ApprovedByRequester"
