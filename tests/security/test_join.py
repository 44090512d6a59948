"""Node join end to end over HTTPS: bootstrap token -> pinned discovery -> ML-DSA-65 CSR ->
approval and signing -> client-certificate access -> rotation before expiry.

The API server (TLS, authentication, RBAC) and the CSR controller run on a background loop, as
`kubelite up` runs them; the joining node uses only the public library, over real sockets.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import random
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, mldsa

from kubelite.api.resources import CERTIFICATE_SIGNING_REQUESTS, SECRETS, SELF_SUBJECT_REVIEWS
from kubelite.client import ApiClient
from kubelite.client.errors import ApiError
from kubelite.clock import FakeClock
from kubelite.security import csr as csr_rules
from kubelite.security.join import (
    JoinError,
    bootstrap_node_credentials,
    node_csr,
    renewal_deadline,
    run_certificate_rotation,
)
from kubelite.security.pki import ClusterPki, key_algorithm, subject_identity
from kubelite.security.tokens import UserInfo, bootstrap_token_secret, new_bootstrap_token

from .conftest import SecureServer


def _token(server: SecureServer, ttl: datetime.timedelta = datetime.timedelta(hours=1)) -> str:
    token = new_bootstrap_token()
    expires = datetime.datetime.now(datetime.UTC) + ttl
    server.call(server.server.registry.create(SECRETS, "kube-system", bootstrap_token_secret(token, expires)))
    return token.value


def test_join_issues_an_mldsa65_node_identity_that_authenticates(joinable: SecureServer, pki: ClusterPki, tmp_path: Path) -> None:
    async def go() -> tuple[Any, dict[str, Any]]:
        credentials = await bootstrap_node_credentials(
            joinable.url, _token(joinable), pki.ca_cert_hash, "node-7", tmp_path, timeout_seconds=30
        )
        client = ApiClient.from_kubeconfig(credentials.kubeconfig)
        try:
            review = await client.create(SELF_SUBJECT_REVIEWS, {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
        finally:
            await client.close()
        return credentials, review

    credentials, review = asyncio.run(go())
    certificate = credentials.certificate
    assert key_algorithm(certificate.public_key()) == "mldsa65"  # type: ignore[arg-type]
    assert subject_identity(certificate) == ("system:node:node-7", ("system:nodes",))
    assert review["status"]["userInfo"]["username"] == "system:node:node-7"
    assert "system:nodes" in review["status"]["userInfo"]["groups"]
    assert (tmp_path / "node.key").stat().st_mode & 0o077 == 0
    csrs = [item for item in joinable.call(_list_csrs(joinable)) if item["spec"]["username"].startswith("system:bootstrap:")]
    assert csrs and csrs[-1]["status"]["conditions"][0]["reason"] == "AutoApproved"


async def _list_csrs(server: SecureServer) -> list[dict[str, Any]]:
    return [item.obj for item in server.server.cache.list(CERTIFICATE_SIGNING_REQUESTS.key, None)]


def test_wrong_pin_is_refused_before_any_credential_is_sent(joinable: SecureServer, tmp_path: Path) -> None:
    with pytest.raises(JoinError, match="matches the pin"):
        asyncio.run(bootstrap_node_credentials(joinable.url, _token(joinable), "sha256:" + "0" * 64, "n", tmp_path))
    assert not (tmp_path / "kubeconfig").exists()


def test_expired_token_cannot_submit_a_csr(joinable: SecureServer, pki: ClusterPki, tmp_path: Path) -> None:
    token = _token(joinable, ttl=datetime.timedelta(seconds=-1))
    with pytest.raises(ApiError) as raised:
        asyncio.run(bootstrap_node_credentials(joinable.url, token, pki.ca_cert_hash, "n", tmp_path, timeout_seconds=5))
    assert raised.value.code == 401


def test_rotation_renews_with_the_node_certificate_before_expiry(joinable: SecureServer, pki: ClusterPki, tmp_path: Path) -> None:
    async def go() -> tuple[Any, Any, list[Any]]:
        first = await bootstrap_node_credentials(
            joinable.url, _token(joinable), pki.ca_cert_hash, "node-r", tmp_path, expiration_seconds=3600, timeout_seconds=30
        )
        clock = FakeClock(first.certificate.not_valid_before_utc.timestamp())
        stop = asyncio.Event()
        rotated: list[Any] = []

        async def on_rotated(credentials: Any) -> None:
            rotated.append(credentials)
            stop.set()

        task = asyncio.create_task(run_certificate_rotation(first, clock, stop, on_rotated=on_rotated, expiration_seconds=3600))
        for _ in range(200):
            await asyncio.sleep(0)
        assert not rotated  # nothing happens before 70% of the lifetime
        clock.advance(0.9 * 3900)  # lifetime = 3600 s + 5 min backdating
        last = await asyncio.wait_for(task, 30)
        return first, last, rotated

    first, last, rotated = asyncio.run(go())
    assert len(rotated) == 1 and last.cert_pem != first.cert_pem and last.key_pem != first.key_pem
    assert last.certificate.serial_number != first.certificate.serial_number
    assert last.certificate.not_valid_after_utc >= first.certificate.not_valid_after_utc
    assert (tmp_path / "node.crt").read_bytes() == last.cert_pem
    renewal = [item for item in joinable.call(_list_csrs(joinable)) if item["spec"]["username"] == "system:node:node-r"]
    assert renewal and "selfnodeclient" in renewal[-1]["status"]["conditions"][0]["message"]


# --- the approver's rules, as a table --------------------------------------------------------------

BOOTSTRAPPER = UserInfo("system:bootstrap:abcdef", ("system:bootstrappers",))
NODE = UserInfo("system:node:n1", ("system:nodes",))
STRANGER = UserInfo("alice", ("developers",))


def _csr(requester: UserInfo, *, node: str = "n1", key: Any = None, usages: list[str] | None = None,
         signer: str | None = None) -> dict[str, Any]:
    body = node_csr(node, mldsa.MLDSA65PrivateKey.generate(), 3600)
    if key is not None and not isinstance(key, mldsa.MLDSA65PrivateKey):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.x509.oid import NameOID

        subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:nodes"),
                             x509.NameAttribute(NameOID.COMMON_NAME, f"system:node:{node}")])
        request = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
        body["spec"]["request"] = base64.b64encode(request.public_bytes(serialization.Encoding.PEM)).decode()
    body["spec"].update(username=requester.name, groups=list(requester.groups))
    if usages is not None:
        body["spec"]["usages"] = usages
    if signer is not None:
        body["spec"]["signerName"] = signer
    return body


DECISIONS = [
    ("bootstrapper-any-node", _csr(BOOTSTRAPPER), "approve"),
    ("node-renews-itself", _csr(NODE), "approve"),
    ("node-asks-for-another-node", _csr(NODE, node="n2"), "ignore"),
    ("stranger", _csr(STRANGER), "ignore"),
    ("server-auth-usage", _csr(BOOTSTRAPPER, usages=["digital signature", "server auth"]), "ignore"),
    ("other-signer", _csr(BOOTSTRAPPER, signer="example.com/custom"), "ignore"),
    ("classical-key", _csr(BOOTSTRAPPER, key=ec.generate_private_key(ec.SECP256R1())), "deny"),
]


@pytest.mark.parametrize(("csr", "verdict"), [case[1:] for case in DECISIONS], ids=[case[0] for case in DECISIONS])
def test_approver_decisions(csr: dict[str, Any], verdict: str) -> None:
    assert csr_rules.decide(csr, csr_rules.group_rule).verdict == verdict


def test_renewal_deadline_is_jittered_between_70_and_90_percent(pki: ClusterPki) -> None:
    certificate = pki.serving_mldsa.certificate
    start = certificate.not_valid_before_utc.timestamp()
    span = certificate.not_valid_after_utc.timestamp() - start
    fractions = [(renewal_deadline(certificate, random.Random(seed)) - start) / span for seed in range(50)]
    assert all(0.7 <= fraction <= 0.9 for fraction in fractions) and max(fractions) - min(fractions) > 0.1


