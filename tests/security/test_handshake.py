"""Which key-exchange group and which server certificate each kind of client gets."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from cryptography import x509

from kubelite.client.errors import TransportError
from kubelite.client.pq_transport import TlsClientSettings
from kubelite.security.pki import ClusterPki

from .conftest import SecureServer, request

KUBECTLS = {
    "kubectl-v1.33": "/usr/lib/google-cloud-sdk/bin/kubectl.1.33",
    "kubectl-v1.32": "/usr/bin/kubectl",
}


def _delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {group: after[group] - before.get(group, 0) for group in after if after[group] != before.get(group, 0)}


@pytest.mark.parametrize(
    ("groups", "expected_group"),
    [
        pytest.param(None, "X25519MLKEM768", id="kubelite-default-offers-hybrid"),
        pytest.param("X25519", "x25519", id="classical-only-client"),
        pytest.param("X25519:X25519MLKEM768", "X25519MLKEM768", id="hybrid-listed-second-still-wins"),
        pytest.param("SecP256r1MLKEM768", "SecP256r1MLKEM768", id="p256-hybrid"),
    ],
)
def test_negotiated_group(secure_server: SecureServer, pki: ClusterPki, groups: str | None, expected_group: str) -> None:
    before = secure_server.handshakes()
    response = request(secure_server.url, TlsClientSettings(ca_pem=pki.ca_bundle_pem, groups=groups), "GET", "/version")
    assert response.status == 200
    assert _delta(before, secure_server.handshakes()) == {expected_group: 1}


def test_require_pq_refuses_classical_only_clients(pq_only_server: SecureServer, pki: ClusterPki) -> None:
    with pytest.raises(TransportError, match="handshake"):
        request(pq_only_server.url, TlsClientSettings(ca_pem=pki.ca_bundle_pem, groups="X25519"), "GET", "/version")
    ok = request(pq_only_server.url, TlsClientSettings(ca_pem=pki.ca_bundle_pem), "GET", "/version")
    assert ok.status == 200
    assert pq_only_server.handshakes() == {"X25519MLKEM768": 1}


def test_kubelite_client_gets_the_ml_dsa_certificate(secure_server: SecureServer, pki: ClusterPki) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, mldsa
    from OpenSSL import SSL

    from kubelite.client.pq_transport import _Connection, client_context

    async def peer_key_types() -> list[str]:
        kinds = []
        for sigalgs in (None, b"ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256"):
            context = client_context(TlsClientSettings(ca_pem=pki.ca_bundle_pem))
            if sigalgs:
                from cryptography.hazmat.bindings.openssl.binding import Binding

                assert Binding().lib.SSL_CTX_set1_sigalgs_list(context._context, sigalgs) == 1
            connection = await _Connection.open("127.0.0.1", secure_server.server.port, context, True)
            assert isinstance(connection.tls, SSL.Connection)
            key = connection.tls.get_peer_certificate().to_cryptography().public_key()
            # Only the leaf travels: the client holds the roots, and a 5 KB ML-DSA root on every
            # handshake would be waste (RFC 8446 section 4.4.2 lets the server omit it).
            chain = connection.tls.get_peer_cert_chain(as_cryptography=True)
            assert chain is not None and len(chain) == 1
            kinds.append("mldsa65" if isinstance(key, mldsa.MLDSA65PublicKey) else "ecdsa" if isinstance(key, ec.EllipticCurvePublicKey) else "other")
            connection.close()
        return kinds

    import asyncio

    assert asyncio.run(peer_key_types()) == ["mldsa65", "ecdsa"]


def test_wrong_host_name_is_refused(secure_server: SecureServer, pki: ClusterPki) -> None:
    url = secure_server.url.replace("127.0.0.1", "127.0.0.2")  # not a SAN
    with pytest.raises(TransportError):
        request(url, TlsClientSettings(ca_pem=pki.ca_bundle_pem), "GET", "/version")


def test_untrusted_server_is_refused(secure_server: SecureServer, tmp_path: Path) -> None:
    from kubelite.security.pki import ensure_pki

    stranger = ensure_pki(tmp_path / "other")
    with pytest.raises(TransportError):
        request(secure_server.url, TlsClientSettings(ca_pem=stranger.ca_bundle_pem), "GET", "/version")


@pytest.mark.parametrize(("binary", "expected_group"), [
    pytest.param(KUBECTLS["kubectl-v1.33"], "X25519MLKEM768", id="kubectl-v1.33-go1.24"),
    pytest.param(KUBECTLS["kubectl-v1.32"], "x25519", id="kubectl-v1.32-go1.23"),
])
def test_kubectl_with_the_written_kubeconfig(
    secure_server: SecureServer, tmp_path: Path, binary: str, expected_group: str
) -> None:
    if not os.path.exists(binary):
        pytest.skip(f"{binary} is not installed")
    kubeconfig = secure_server.write_admin_kubeconfig(tmp_path / "kubeconfig")
    before = secure_server.handshakes()
    result = subprocess.run(
        [binary, "--kubeconfig", str(kubeconfig), "get", "namespaces", "-o", "name"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "namespace/kube-system" in result.stdout
    delta = _delta(before, secure_server.handshakes())
    assert set(delta) == {expected_group}


def test_kubernetes_python_client_with_the_written_kubeconfig(secure_server: SecureServer, tmp_path: Path) -> None:
    kubernetes = pytest.importorskip("kubernetes")
    kubeconfig = secure_server.write_admin_kubeconfig(tmp_path / "kubeconfig")
    api_client = kubernetes.config.new_client_from_config(config_file=str(kubeconfig))
    names = [ns.metadata.name for ns in kubernetes.client.CoreV1Api(api_client).list_namespace().items]
    assert "kube-system" in names
    certificate = x509.load_pem_x509_certificates(secure_server.pki.ca_bundle_pem)
    assert len(certificate) == 2
