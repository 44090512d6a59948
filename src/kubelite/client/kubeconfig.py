"""Reading a kubeconfig file into what a transport needs: server URL, trust and credentials."""

from __future__ import annotations

import base64
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True, slots=True)
class ClusterAccess:
    server: str
    namespace: str
    certificate_authority_pem: bytes | None = None
    client_certificate_pem: bytes | None = None
    client_key_pem: bytes | None = None
    token: str | None = None
    insecure_skip_tls_verify: bool = False

    def ssl_context(self) -> ssl.SSLContext | bool:
        """TLS settings for httpx: trust the cluster CA and present the client certificate."""
        if not self.server.startswith("https://"):
            return True
        if self.insecure_skip_tls_verify:
            return False
        context = ssl.create_default_context()
        if self.certificate_authority_pem:
            context.load_verify_locations(cadata=self.certificate_authority_pem.decode())
        if self.client_certificate_pem and self.client_key_pem:
            with tempfile.TemporaryDirectory() as folder:
                cert, key = Path(folder) / "cert.pem", Path(folder) / "key.pem"
                cert.write_bytes(self.client_certificate_pem)
                key.write_bytes(self.client_key_pem)
                context.load_cert_chain(cert, key)
        return context

    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"} if self.token else {}


def _named(items: Any, name: str, field: str) -> dict[str, Any]:
    for item in items or []:
        if isinstance(item, dict) and item.get("name") == name:
            value = item.get(field)
            return value if isinstance(value, dict) else {}
    raise ValueError(f"kubeconfig has no {field} named {name!r}")


def _data_or_file(section: dict[str, Any], data_key: str, file_key: str, base: Path) -> bytes | None:
    if section.get(data_key):
        return base64.b64decode(str(section[data_key]))
    if section.get(file_key):
        return (base / os.path.expanduser(str(section[file_key]))).read_bytes()
    return None


def load_kubeconfig(path: str | Path, context: str | None = None) -> ClusterAccess:
    """Resolve the current (or named) context of a kubeconfig file."""
    file = Path(path).expanduser()
    document = yaml.safe_load(file.read_text()) or {}
    context_name = context or document.get("current-context")
    if not context_name:
        raise ValueError(f"{file}: no current-context")
    ctx = _named(document.get("contexts"), context_name, "context")
    cluster = _named(document.get("clusters"), ctx.get("cluster", ""), "cluster")
    user = _named(document.get("users"), ctx.get("user", ""), "user") if ctx.get("user") else {}
    base = file.parent
    return ClusterAccess(
        server=str(cluster.get("server", "")).rstrip("/"),
        namespace=str(ctx.get("namespace") or "default"),
        certificate_authority_pem=_data_or_file(
            cluster, "certificate-authority-data", "certificate-authority", base
        ),
        client_certificate_pem=_data_or_file(user, "client-certificate-data", "client-certificate", base),
        client_key_pem=_data_or_file(user, "client-key-data", "client-key", base),
        token=user.get("token"),
        insecure_skip_tls_verify=bool(cluster.get("insecure-skip-tls-verify")),
    )
