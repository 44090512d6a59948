"""Writing the kubeconfig that kubectl and the official clients read as is."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

CLUSTER_NAME = "kubelite"


def kubeconfig_document(
    server_url: str, *, user: dict[str, Any] | None = None, certificate_authority_data: str | None = None
) -> dict[str, Any]:
    cluster: dict[str, Any] = {"server": server_url}
    if certificate_authority_data:
        cluster["certificate-authority-data"] = certificate_authority_data
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CLUSTER_NAME, "cluster": cluster}],
        "users": [{"name": "admin", "user": user or {}}],
        "contexts": [
            {
                "name": CLUSTER_NAME,
                "context": {"cluster": CLUSTER_NAME, "user": "admin", "namespace": "default"},
            }
        ],
        "current-context": CLUSTER_NAME,
        "preferences": {},
    }


def write_kubeconfig(path: Path, document: dict[str, Any]) -> None:
    """Write atomically with owner-only permissions (it may carry credentials)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        yaml.safe_dump(document, handle, sort_keys=False)
    temporary.replace(path)
