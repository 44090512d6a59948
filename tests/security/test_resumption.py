"""TLS 1.3 session resumption: repeat connections skip the certificate exchange but keep identity.

A resumed connection must authenticate as the same client as the full handshake did, and a
session whose client certificate failed verification must not become verified by resuming it.
"""

from __future__ import annotations

import asyncio
import datetime
import json

import pytest
from cryptography.hazmat.bindings.openssl.binding import Binding

from kubelite.client.core import HttpRequest
from kubelite.client.pq_transport import PqTransport, TlsClientSettings
from kubelite.security.pki import ClusterPki, Identity, create_root, generate_key, issue_certificate

from .conftest import SecureServer

_lib = Binding().lib
WHOAMI = HttpRequest(
    "POST",
    "/apis/authentication.k8s.io/v1/selfsubjectreviews",
    body=b'{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}',
)


def _settings(pki: ClusterPki, issuer: Identity) -> TlsClientSettings:
    key = generate_key("mldsa65")
    now = datetime.datetime.now(datetime.UTC)
    cert = issue_certificate(issuer, key.public_key(), common_name="system:node:r1",
                             organizations=("system:nodes",), usage="client", now=now)
    identity = Identity(key, cert)
    return TlsClientSettings(ca_pem=pki.ca_bundle_pem, client_cert_pem=identity.cert_pem, client_key_pem=identity.key_pem)


async def _twice(url: str, tls: TlsClientSettings) -> list[tuple[bool, int, str]]:
    """Two requests on two fresh connections of one transport: (resumed?, status, username)."""
    transport = PqTransport(url, tls)
    outcomes = []
    try:
        for _ in range(2):
            connection = await transport.connect()
            resumed = bool(_lib.SSL_session_reused(connection.tls._ssl))  # type: ignore[union-attr]
            response = await transport._exchange(connection, WHOAMI)
            body = json.loads(response.body)
            user = body["status"]["userInfo"]["username"] if response.status == 201 else ""
            outcomes.append((resumed, response.status, user))
            await transport.close()
    finally:
        await transport.close()
    return outcomes


@pytest.mark.parametrize(
    ("issuer_name", "status", "user"),
    [("cluster-mldsa-root", 201, "system:node:r1"), ("foreign-root", 401, "")],
    ids=["trusted-client-keeps-identity", "rejected-client-stays-rejected"],
)
def test_resumed_connection_authenticates_like_the_first(
    secure_server: SecureServer, pki: ClusterPki, issuer_name: str, status: int, user: str
) -> None:
    issuer = pki.ca_mldsa if issuer_name == "cluster-mldsa-root" else create_root(
        "foreign", "mldsa65", datetime.datetime.now(datetime.UTC)
    )
    first, second = asyncio.run(_twice(secure_server.url, _settings(pki, issuer)))
    assert first == (False, status, user)
    assert second == (True, status, user)
