"""Assembling a secure API server from the cluster PKI: TLS settings, authenticator and gate.

`kubelite up` (and tests that want the real thing) call:

    pki = ensure_pki(data_dir / "pki", advertise_addresses)
    server = ApiServer(store, ApiServerSettings(host=..., port=..., tls=tls_settings(pki)))
    gate = install_security(server, pki)
    await server.start(); await gate.bootstrap_policy()

`ApiServerSettings(tls=None)` without a gate stays the plain-HTTP, allow-all server that
in-process tests use. Secrets are sealed at rest by wrapping the store first:
`store = encrypt_secrets_at_rest(open_store(url), data_dir / "pki")`.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from kubelite.client.pq_transport import TlsClientSettings
from kubelite.security.csr import CsrSignerSettings
from kubelite.security.encryption import AesGcmTransformer, ensure_encryption_config
from kubelite.security.pki import ClusterPki
from kubelite.security.rbac import Attributes
from kubelite.security.tokens import UserInfo, parse_token_file
from kubelite.store.interface import Store
from kubelite.tls.server import TlsSettings

from .agent_client import AgentClient
from .auth_encryption import EncryptingStore
from .auth_endpoints import TokenIssuer
from .authn import Authenticator, AuthnSettings
from .authz import SecurityGate
from .server import ApiServer


def tls_settings(pki: ClusterPki, *, require_pq: bool = False) -> TlsSettings:
    return TlsSettings(
        ecdsa_cert_pem=pki.serving_ecdsa.cert_pem,
        ecdsa_key_pem=pki.serving_ecdsa.key_pem,
        mldsa_cert_pem=pki.serving_mldsa.cert_pem,
        mldsa_key_pem=pki.serving_mldsa.key_pem,
        client_ca_pem=pki.ca_bundle_pem,
        require_pq=require_pq,
    )


def load_static_tokens(path: Path | None) -> dict[str, UserInfo]:
    return parse_token_file(path.read_text()) if path is not None and path.exists() else {}


def install_security(
    server: ApiServer, pki: ClusterPki, static_tokens: dict[str, UserInfo] | None = None
) -> SecurityGate:
    """Make `server` authenticate and authorize every request with the cluster's credentials."""
    authenticator = Authenticator(
        AuthnSettings(static_tokens=static_tokens or {}, service_account_key=pki.service_account_key.public_key()),
        server.cache,
        server.clock,
    )
    gate = SecurityGate(server, authenticator, TokenIssuer(pki.service_account_key, server.clock))
    server.authorizer = gate
    # Node agents are reached over post-quantum TLS, as the API server's kubelet-client identity.
    server.handlers.agents = AgentClient(
        TlsClientSettings(
            ca_pem=pki.ca_bundle_pem,
            client_cert_pem=pki.kubelet_client.cert_pem,
            client_key_pem=pki.kubelet_client.key_pem,
        )
    )
    return gate


ENCRYPTION_CONFIG = "encryption-config.yaml"


def encrypt_secrets_at_rest(store: Store, pki_directory: Path) -> EncryptingStore:
    """Wrap `store` so Secrets are AES-GCM sealed under `pki_directory/encryption-config.yaml`
    (created with one fresh key on first start)."""
    pki_directory.mkdir(parents=True, exist_ok=True)
    config = ensure_encryption_config(pki_directory / ENCRYPTION_CONFIG, datetime.datetime.now(datetime.UTC))
    return EncryptingStore(store, AesGcmTransformer(config))


def csr_signer_settings(pki: ClusterPki, gate: SecurityGate) -> CsrSignerSettings:
    """Node CSRs signed by the ML-DSA-65 root; requesters authorised by the gate's own RBAC
    (the SubjectAccessReview kube-controller-manager's approver sends)."""

    def may_request(user: UserInfo, subresource: str) -> bool:
        attributes = Attributes(
            user, "create", api_group="certificates.k8s.io", resource="certificatesigningrequests", subresource=subresource
        )
        return gate.authorize_attributes(attributes)

    return CsrSignerSettings(signer=pki.ca_mldsa, may_request=may_request)
