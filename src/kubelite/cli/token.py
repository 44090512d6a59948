"""`kubelite token create|list`: bootstrap tokens for joining nodes, and `up`'s security plumbing.

`kubelite token create` writes a kubeadm-style bootstrap-token Secret into kube-system through
the API (so it needs an admin kubeconfig) and prints the token and the join command with the CA
pin, e.g. `kubelite agent --server https://10.0.0.1:6443 --token abcdef.0123456789abcdef
--ca-cert-hash sha256:...`. Tokens expire (`--ttl`, default 24 h); deleting the Secret revokes one.

This module also holds what `kubelite up` needs from the security area: its options, the admin
kubeconfig (both CA roots, the ECDSA admin client certificate), and the public `cluster-info`
ConfigMap a joining node reads before it trusts the CA (kubeadm's discovery).
"""

from __future__ import annotations

import asyncio
import base64
import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from kubelite.api.resources import CONFIGMAPS, SECRETS
from kubelite.apiserver import errors
from kubelite.apiserver.server import ApiServer
from kubelite.client import ApiClient
from kubelite.security.pki import ClusterPki, ca_cert_hash
from kubelite.security.tokens import BOOTSTRAP_SECRET_PREFIX, bootstrap_token_secret, new_bootstrap_token

from .kubeconfig import kubeconfig_document

app = typer.Typer(help="Bootstrap tokens for joining nodes.", no_args_is_help=True)
CLUSTER_INFO = "cluster-info"


@dataclass(frozen=True, slots=True)
class SecurityOptions:
    """`kubelite up`'s security flags."""

    #: Refuse TLS clients that offer no hybrid post-quantum group.
    require_pq: bool = False
    #: Extra SANs for the serving certificate.
    advertise_addresses: tuple[str, ...] = ()
    #: kube-apiserver-style static token file.
    token_auth_file: Path | None = None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def admin_kubeconfig(server_url: str, pki: ClusterPki) -> dict[str, Any]:
    user = {"client-certificate-data": _b64(pki.admin.cert_pem), "client-key-data": _b64(pki.admin.key_pem)}
    return kubeconfig_document(server_url, user=user, certificate_authority_data=_b64(pki.ca_bundle_pem))


async def publish_cluster_info(server: ApiServer, pki: ClusterPki) -> None:
    """kube-public/cluster-info: the server URL and CA bundle, readable without credentials."""
    kubeconfig = kubeconfig_document(server.url, certificate_authority_data=_b64(pki.ca_bundle_pem))
    import yaml

    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": CLUSTER_INFO, "namespace": "kube-public"},
        "data": {"kubeconfig": yaml.safe_dump(kubeconfig, sort_keys=False)},
    }
    try:
        await server.registry.create(CONFIGMAPS, "kube-public", body)
    except errors.ApiError as error:
        if error.code != 409:
            raise

        def refresh(current: dict[str, Any]) -> dict[str, Any]:
            current["data"] = body["data"]
            return current

        await server.registry.update(CONFIGMAPS, "kube-public", CLUSTER_INFO, refresh)


async def create_token(client: ApiClient, ttl_seconds: int, description: str) -> str:
    token = new_bootstrap_token()
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=ttl_seconds)
    await client.create(SECRETS, bootstrap_token_secret(token, expires, description), namespace="kube-system")
    return token.value


@app.command("create")
def create(
    kubeconfig: Path = typer.Option(Path("kubeconfig"), "--kubeconfig", envvar="KUBECONFIG", help="Admin kubeconfig."),
    ttl: str = typer.Option("24h", "--ttl", help="Lifetime: a number with s, m or h."),
    description: str = typer.Option("", "--description"),
) -> None:
    """Create a bootstrap token and print the command that joins a node with it."""
    units = {"s": 1, "m": 60, "h": 3600}
    seconds = int(float(ttl[:-1]) * units[ttl[-1]]) if ttl and ttl[-1] in units else int(ttl)

    async def go() -> tuple[str, str]:
        client = ApiClient.from_kubeconfig(kubeconfig)
        try:
            value = await create_token(client, seconds, description)
            info = await client.get(CONFIGMAPS, CLUSTER_INFO, namespace="kube-public")
        finally:
            await client.close()
        return value, str((info.get("data") or {}).get("kubeconfig", ""))

    value, cluster_kubeconfig = asyncio.run(go())
    import yaml
    from cryptography import x509

    cluster = (yaml.safe_load(cluster_kubeconfig) or {}).get("clusters", [{}])[0].get("cluster", {})
    roots = x509.load_pem_x509_certificates(base64.b64decode(cluster.get("certificate-authority-data", "")))
    pin = ca_cert_hash(roots[-1])
    typer.echo(value)
    typer.echo(f"kubelite agent --server {cluster.get('server')} --token {value} --ca-cert-hash {pin}")


@app.command("list")
def list_tokens(
    kubeconfig: Path = typer.Option(Path("kubeconfig"), "--kubeconfig", envvar="KUBECONFIG"),
) -> None:
    """List bootstrap token ids and their expiry."""

    async def go() -> list[dict[str, Any]]:
        client = ApiClient.from_kubeconfig(kubeconfig)
        try:
            items, _ = await client.list_all(SECRETS, namespace="kube-system")
            return items
        finally:
            await client.close()

    for secret in asyncio.run(go()):
        name = str((secret.get("metadata") or {}).get("name", ""))
        if name.startswith(BOOTSTRAP_SECRET_PREFIX):
            expiry = base64.b64decode((secret.get("data") or {}).get("expiration", "")).decode()
            typer.echo(f"{name[len(BOOTSTRAP_SECRET_PREFIX):]}\t{expiry}")
