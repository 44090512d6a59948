"""Joining a node the way kubeadm does, with an ML-DSA-65 identity, and keeping that identity fresh.

`bootstrap_node_credentials(server_url, token, ca_cert_hash, node_name, directory)`:
1. Discovery: read kube-public/cluster-info anonymously over TLS, trusting nothing yet, take the CA
   bundle from its kubeconfig, and keep it only if one of its roots has the pinned SPKI hash
   (kubeadm's `--discovery-token-ca-cert-hash sha256:...`). From here on the server is verified.
2. Generate an ML-DSA-65 key and submit a certificates.k8s.io/v1 CertificateSigningRequest for
   `CN=system:node:<name>, O=system:nodes` with signerName
   `kubernetes.io/kube-apiserver-client-kubelet`, authenticated by the bootstrap token.
3. Watch that CSR until it is approved and `status.certificate` is set (or denied/failed).
4. Write `node.key` (0600), `node.crt`, `ca.crt` and a `kubeconfig` using the client certificate.

`renew_node_credentials` does steps 2-4 authenticated by the current certificate (the approver
then checks `selfnodeclient`), and `run_certificate_rotation` calls it when a jittered 70-90% of
the certificate's lifetime has passed, as client-go's certificate manager does.

Data flow: token -> PqTransport (insecure, discovery only) -> pinned CA -> PqTransport(token) ->
CSR -> watch -> files -> `NodeCredentials` (which the agent turns into an `ApiClient`).
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import os
import random
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import mldsa
from cryptography.x509.oid import NameOID

from kubelite.api.models.certificates import KUBE_APISERVER_CLIENT_KUBELET, KUBELET_SERVING
from kubelite.api.resources import CERTIFICATE_SIGNING_REQUESTS, CONFIGMAPS
from kubelite.client import ApiClient
from kubelite.client.errors import ApiError
from kubelite.client.pq_transport import PqTransport, TlsClientSettings
from kubelite.clock import Clock

from .pki import ca_cert_hash, key_pem, split_addresses

NODE_USAGES = ["digital signature", "client auth"]
SERVING_USAGES = ["digital signature", "server auth"]
DEFAULT_CERT_SECONDS = 365 * 24 * 3600


class JoinError(Exception):
    """The join cannot proceed: the pin does not match, the CSR was denied, or it timed out."""


@dataclass(frozen=True, slots=True)
class NodeCredentials:
    """A node's client identity on disk, and what an `ApiClient` needs to use it."""

    server_url: str
    node_name: str
    directory: Path
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes

    @property
    def kubeconfig(self) -> Path:
        return self.directory / "kubeconfig"

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)

    def tls(self) -> TlsClientSettings:
        return TlsClientSettings(ca_pem=self.ca_pem, client_cert_pem=self.cert_pem, client_key_pem=self.key_pem)

    def client(self) -> ApiClient:
        return ApiClient(PqTransport(self.server_url, self.tls()))


def _write_private(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        handle.write(data)
    temporary.replace(path)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def write_credentials(credentials: NodeCredentials) -> None:
    """Key first, then certificate, then kubeconfig, each atomically, so a crash never pairs a key with a foreign cert
    in the kubeconfig (which is what the agent reads)."""
    directory = credentials.directory
    directory.mkdir(parents=True, exist_ok=True)
    _write_private(directory / "node.key", credentials.key_pem)
    _write_private(directory / "node.crt", credentials.cert_pem)
    _write_private(directory / "ca.crt", credentials.ca_pem)
    user = f"system:node:{credentials.node_name}"
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kubelite", "cluster": {"server": credentials.server_url,
                                                     "certificate-authority-data": _b64(credentials.ca_pem)}}],
        "users": [{"name": user, "user": {"client-certificate-data": _b64(credentials.cert_pem),
                                          "client-key-data": _b64(credentials.key_pem)}}],
        "contexts": [{"name": "kubelite", "context": {"cluster": "kubelite", "user": user}}],
        "current-context": "kubelite",
    }
    _write_private(directory / "kubeconfig", yaml.safe_dump(document, sort_keys=False).encode())


def load_node_credentials(directory: Path, server_url: str, node_name: str) -> NodeCredentials | None:
    """The credentials an earlier join wrote under `directory`, or None (a restart skips the join)."""
    try:
        ca_pem = (directory / "ca.crt").read_bytes()
        cert_pem = (directory / "node.crt").read_bytes()
        key = (directory / "node.key").read_bytes()
    except FileNotFoundError:
        return None
    return NodeCredentials(server_url, node_name, directory, ca_pem, cert_pem, key)


async def discover_ca(server_url: str, pin: str) -> bytes:
    """The cluster's CA bundle from cluster-info, accepted only if a root matches `pin`.

    Read anonymously (cluster-info is public, as in kubeadm), so the token is never sent to a
    server that has not yet proved it holds the pinned CA."""
    transport = PqTransport(server_url, TlsClientSettings(insecure=True))
    client = ApiClient(transport)
    try:
        info = await client.get(CONFIGMAPS, "cluster-info", namespace="kube-public")
    finally:
        await client.close()
    kubeconfig = yaml.safe_load(str((info.get("data") or {}).get("kubeconfig", ""))) or {}
    clusters = kubeconfig.get("clusters") or [{}]
    bundle = base64.b64decode(str((clusters[0].get("cluster") or {}).get("certificate-authority-data", "")))
    roots = x509.load_pem_x509_certificates(bundle) if bundle else []
    if not any(secrets.compare_digest(ca_cert_hash(root), pin) for root in roots):
        raise JoinError(f"no CA certificate in cluster-info matches the pin {pin}")
    return bundle


def node_csr(
    node_name: str,
    key: mldsa.MLDSA65PrivateKey,
    expiration_seconds: int,
    *,
    serving_addresses: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """A node's CSR: its client certificate, or with `serving_addresses` its endpoint's serving
    certificate (signer `kubernetes.io/kubelet-serving`, SANs the node name and those addresses)."""
    subject = x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:nodes"),
         x509.NameAttribute(NameOID.COMMON_NAME, f"system:node:{node_name}")]
    )
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    signer, usages = KUBE_APISERVER_CLIENT_KUBELET, NODE_USAGES
    if serving_addresses is not None:
        signer, usages = KUBELET_SERVING, SERVING_USAGES
        dns, ips = split_addresses((node_name, *serving_addresses))
        names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns]
        names += [x509.IPAddress(ipaddress.ip_address(address)) for address in ips]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    pem = builder.sign(key, None).public_bytes(serialization.Encoding.PEM)
    return {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"generateName": "node-csr-"},
        "spec": {
            "request": _b64(pem),
            "signerName": signer,
            "usages": usages,
            "expirationSeconds": expiration_seconds,
        },
    }


def _issued(csr: dict[str, Any]) -> bytes | None:
    status = csr.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("type") in ("Denied", "Failed"):
            reason = f"{condition.get('reason', '')}: {condition.get('message', '')}"
            raise JoinError(f"certificate signing request {csr['metadata']['name']} {condition['type'].lower()}: {reason}")
    certificate = status.get("certificate")
    return base64.b64decode(certificate) if certificate else None


async def _approve_if_allowed(client: ApiClient, csr: dict[str, Any]) -> dict[str, Any]:
    condition = {
        "type": "Approved",
        "status": "True",
        "reason": "ApprovedByRequester",
        "message": "approved by its requester, who may approve certificate signing requests",
    }
    approved = {**csr, "status": {**(csr.get("status") or {}), "conditions": [condition]}}
    try:
        return await client.replace(CERTIFICATE_SIGNING_REQUESTS, approved, subresource="approval")
    except ApiError as error:
        if error.code in (403, 409):  # not allowed (a node), or the approver got there first
            return csr
        raise


async def request_certificate(
    client: ApiClient,
    node_name: str,
    key: mldsa.MLDSA65PrivateKey,
    expiration_seconds: int,
    *,
    serving_addresses: tuple[str, ...] | None = None,
    approve_own: bool = False,
) -> bytes:
    """Submit a node CSR and wait (on a watch, no polling) until it is issued; the PEM certificate.
    With `approve_own`, a requester who may approve CSRs (an admin's kubeconfig) approves its own,
    as `kubectl certificate approve` would; anyone else leaves it to the approver."""
    body = node_csr(node_name, key, expiration_seconds, serving_addresses=serving_addresses)
    csr = await client.create(CERTIFICATE_SIGNING_REQUESTS, body)
    if approve_own:
        csr = await _approve_if_allowed(client, csr)
    name = csr["metadata"]["name"]
    while True:
        issued = _issued(csr)
        if issued is not None:
            return issued
        version = str(csr["metadata"].get("resourceVersion", ""))
        async for event_type, obj in client.watch(
            CERTIFICATE_SIGNING_REQUESTS, field_selector=f"metadata.name={name}", resource_version=version
        ):
            if event_type == "DELETED":
                raise JoinError(f"certificate signing request {name} was deleted")
            if event_type in ("ADDED", "MODIFIED"):
                csr = obj
                if _issued(csr) is not None:
                    break
        else:
            csr = await client.get(CERTIFICATE_SIGNING_REQUESTS, name)  # the watch ended: re-read, then re-watch


async def bootstrap_node_credentials(
    server_url: str,
    token: str,
    ca_cert_hash: str,
    node_name: str,
    directory: Path,
    *,
    expiration_seconds: int = DEFAULT_CERT_SECONDS,
    timeout_seconds: float = 300.0,
) -> NodeCredentials:
    """Join: pinned discovery, ML-DSA-65 key, CSR by bootstrap token, wait for issuance, write files."""
    ca_pem = await discover_ca(server_url, ca_cert_hash)
    key = mldsa.MLDSA65PrivateKey.generate()
    transport = PqTransport(server_url, TlsClientSettings(ca_pem=ca_pem), headers={"authorization": f"Bearer {token}"})
    client = ApiClient(transport)
    try:
        certificate = await asyncio.wait_for(request_certificate(client, node_name, key, expiration_seconds), timeout_seconds)
    except TimeoutError as error:
        raise JoinError(f"no certificate was issued within {timeout_seconds:.0f} s (is the CSR approver running?)") from error
    finally:
        await client.close()
    credentials = NodeCredentials(server_url, node_name, directory, ca_pem, certificate, key_pem(key))
    write_credentials(credentials)
    return credentials


async def renew_node_credentials(
    credentials: NodeCredentials, *, expiration_seconds: int = DEFAULT_CERT_SECONDS, timeout_seconds: float = 300.0
) -> NodeCredentials:
    """A new key and certificate, requested with the current certificate (selfnodeclient)."""
    key = mldsa.MLDSA65PrivateKey.generate()
    client = credentials.client()
    try:
        certificate = await asyncio.wait_for(
            request_certificate(client, credentials.node_name, key, expiration_seconds), timeout_seconds
        )
    finally:
        await client.close()
    renewed = NodeCredentials(
        credentials.server_url, credentials.node_name, credentials.directory, credentials.ca_pem, certificate, key_pem(key)
    )
    write_credentials(renewed)
    return renewed


async def request_serving_certificate(
    client: ApiClient,
    node_name: str,
    addresses: tuple[str, ...],
    *,
    expiration_seconds: int = DEFAULT_CERT_SECONDS,
    timeout_seconds: float = 300.0,
) -> tuple[bytes, bytes]:
    """The agent endpoint's ML-DSA-65 serving certificate through a `kubernetes.io/kubelet-serving`
    CSR, as a kubelet with `serverTLSBootstrap` gets one: (certificate PEM, key PEM). The cluster's
    approver approves it when the node itself asks for its own name and registered addresses; an
    agent running with an admin's kubeconfig approves its own; otherwise it waits for
    `kubectl certificate approve`."""
    key = mldsa.MLDSA65PrivateKey.generate()
    try:
        certificate = await asyncio.wait_for(
            request_certificate(
                client, node_name, key, expiration_seconds, serving_addresses=addresses, approve_own=True
            ),
            timeout_seconds,
        )
    except TimeoutError as error:
        raise JoinError(f"no serving certificate was issued within {timeout_seconds:.0f} s") from error
    return certificate, key_pem(key)


def renewal_deadline(certificate: x509.Certificate, rng: random.Random) -> float:
    """client-go's certificate manager: renew at a uniformly jittered 70-90% of the lifetime (epoch s)."""
    start = certificate.not_valid_before_utc.timestamp()
    end = certificate.not_valid_after_utc.timestamp()
    return start + (end - start) * (0.7 + 0.2 * rng.random())


async def run_certificate_rotation(
    credentials: NodeCredentials,
    clock: Clock,
    stop: asyncio.Event,
    *,
    on_rotated: Callable[[NodeCredentials], Awaitable[None]] | None = None,
    seed: int = 0,
    expiration_seconds: int = DEFAULT_CERT_SECONDS,
    retry_seconds: float = 30.0,
) -> NodeCredentials:
    """Renew before expiry until `stop`; `on_rotated` lets the agent swap its client. Returns the last credentials."""
    rng = random.Random(seed)
    while not stop.is_set():
        wait = renewal_deadline(credentials.certificate, rng) - clock.now()
        if wait > 0:
            await clock.sleep(wait)
        if stop.is_set():
            break
        try:
            credentials = await renew_node_credentials(credentials, expiration_seconds=expiration_seconds)
        except Exception:  # retried later: the current certificate is still valid
            await clock.sleep(retry_seconds)
            continue
        if on_rotated is not None:
            await on_rotated(credentials)
    return credentials
